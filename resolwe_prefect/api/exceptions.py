"""Error bodies in Resolwe's shapes.

DRF already renders its own exceptions as ``{"detail": ...}`` or field dicts.
Resolwe additionally turns a Django ``ValidationError`` raised by model code
into ``400 {"error": ...}`` and an ``IntegrityError`` into ``409 {"error": ...}``;
resdk and the conformance runner compare these bodies. A service's
``ServiceError`` (``DataError``, ``ChunkError``) carries its own body and
status, so views call services without catching anything.

A few more exceptions are the client's fault, not the server's, and answer
4xx instead of 500. They are a safety net: the fields and filters refuse
such values before they get this far, but a value that slips through
(a number beyond the database's range, text PostgreSQL cannot store, a
structure too deep to walk) must still not become a 500.
"""

from __future__ import annotations

from django.core.exceptions import RequestDataTooBig, SuspiciousOperation
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import DataError, IntegrityError
from rest_framework import status
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler
from rest_framework.views import set_rollback

from resolwe_prefect.core.errors import ServiceError


def _django_error_body(exc: DjangoValidationError):
    """A single message stays a string (``{"error": "msg"}``), several become a list."""
    if hasattr(exc, "message"):
        message = exc.message
        return message % exc.params if exc.params else message
    if hasattr(exc, "error_dict"):
        return exc.message_dict
    messages = exc.messages
    return messages[0] if len(messages) == 1 else messages


def _client_error(exc: Exception) -> Response | None:
    """The 4xx for an exception that bad input causes, or ``None`` for a real server error."""
    if isinstance(exc, RequestDataTooBig):
        return Response({"detail": "Request body is too large."}, status=status.HTTP_413_REQUEST_ENTITY_TOO_LARGE)
    if isinstance(exc, SuspiciousOperation):
        return Response({"detail": "Bad request."}, status=status.HTTP_400_BAD_REQUEST)
    if isinstance(exc, RecursionError):
        return Response({"detail": "The request is nested too deeply."}, status=status.HTTP_400_BAD_REQUEST)
    if isinstance(exc, OverflowError):
        return Response({"detail": "A number in the request is out of range."}, status=status.HTTP_400_BAD_REQUEST)
    if isinstance(exc, DataError):  # e.g. "integer out of range", "value too long": never echo the SQL
        return Response({"detail": "A value in the request is out of range or too long."}, status=400)
    if isinstance(exc, UnicodeEncodeError) or (isinstance(exc, ValueError) and "NUL (0x00)" in str(exc)):
        return Response({"detail": "The request contains characters that cannot be stored."}, status=400)
    return None


def exception_handler(exc: Exception, context: dict) -> Response | None:
    """DRF's handler plus a ``ServiceError``'s own answer, Django ``ValidationError`` → 400,
    ``IntegrityError`` → 409 and the client errors above.
    """
    if isinstance(exc, ServiceError):
        set_rollback()
        return Response(exc.detail, status=exc.status_code)
    if isinstance(exc, DjangoValidationError):
        set_rollback()
        return Response({"error": _django_error_body(exc)}, status=status.HTTP_400_BAD_REQUEST)
    if isinstance(exc, IntegrityError):
        set_rollback()
        return Response({"error": str(exc).strip()}, status=status.HTTP_409_CONFLICT)
    response = _client_error(exc)
    if response is not None:
        set_rollback()
        return response
    return drf_exception_handler(exc, context)
