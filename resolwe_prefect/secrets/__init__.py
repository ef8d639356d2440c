"""Secrets: values (tokens, passwords) a process may read but nobody may see through the API.

As in Resolwe, a secret is stored server-side under a random UUID *handle*;
a ``basic:secret`` input carries only ``{"handle": <uuid>}``. When a Data
object runs, the handles of its secret inputs are resolved for the Data
object's contributor and, if the process declares
``requirements.resources.secrets: true``, the values are handed to the
program as files ``/secrets/<handle>``. There is no REST endpoint (Resolwe has
none); secrets are created with :func:`services.create_secret` or the
``create_secret`` management command.
"""
