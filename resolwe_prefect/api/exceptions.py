"""Error bodies in Resolwe's shapes.

DRF already renders its own exceptions as ``{"detail": ...}`` or field dicts.
Resolwe additionally turns a Django ``ValidationError`` raised by model code
into ``400 {"error": ...}`` and an ``IntegrityError`` into ``409 {"error": ...}``;
resdk and the conformance runner compare these bodies.
"""

from __future__ import annotations

from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import IntegrityError
from rest_framework import status
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler
from rest_framework.views import set_rollback


def _django_error_body(exc: DjangoValidationError):
    """A single message stays a string (``{"error": "msg"}``), several become a list."""
    if hasattr(exc, "message"):
        message = exc.message
        return message % exc.params if exc.params else message
    if hasattr(exc, "error_dict"):
        return exc.message_dict
    messages = exc.messages
    return messages[0] if len(messages) == 1 else messages


def exception_handler(exc: Exception, context: dict) -> Response | None:
    """DRF's handler plus Django ``ValidationError`` → 400 and ``IntegrityError`` → 409."""
    if isinstance(exc, DjangoValidationError):
        set_rollback()
        return Response({"error": _django_error_body(exc)}, status=status.HTTP_400_BAD_REQUEST)
    if isinstance(exc, IntegrityError):
        set_rollback()
        return Response({"error": str(exc).strip()}, status=status.HTTP_409_CONFLICT)
    return drf_exception_handler(exc, context)
