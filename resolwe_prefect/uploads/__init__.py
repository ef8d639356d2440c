"""Uploads: files sent by clients before a process imports them (Resolwe's ``/upload/``)."""
