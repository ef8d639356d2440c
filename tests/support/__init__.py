"""Helpers shared by tests: data that is fetched once and cached outside the repository."""
