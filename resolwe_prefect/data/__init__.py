"""Data objects: process instances, their dependencies and stored JSON outputs."""
