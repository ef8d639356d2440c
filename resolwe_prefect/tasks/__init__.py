"""Resolwe's background tasks: ``/api/task`` and the machinery that runs an app's long operations as one.

The operations themselves (duplicate, delete, move) belong to the apps that
own the objects; this app records and runs them and offers the viewset
actions that start them (``actions``).
"""
