"""Tests of process definitions and registration."""
