"""Resolwe's storage framework: where each Data object's files are (local disk, S3, GCS), copied and cleaned up by rules."""
