"""Tests of the field schema package: types, the walk, validation and defaults (no database)."""
