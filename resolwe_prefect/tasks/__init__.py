"""Resolwe's background tasks: long operations (duplicate, delete, move) answered with a task to poll."""
