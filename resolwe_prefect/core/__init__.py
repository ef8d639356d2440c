"""Pieces shared by every app: base models, versions and slugs."""
