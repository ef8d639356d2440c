"""Tests of process definitions, value validation and registration."""
