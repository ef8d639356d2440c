"""Shared test configuration; the database choice lives in ``tests/settings.py``."""
