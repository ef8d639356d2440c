"""The REST surface shared by every app: router, pagination, projection, errors."""
