"""Django's error pages as JSON, for what no API view answers itself.

A client of a JSON API (resdk, schema-driven tools) should never have to
parse an HTML page: ``/api/collection/-1/...`` matches no route and would
otherwise get Django's HTML 404, and a request Django refuses before any
view runs (a ``Host`` outside ``ALLOWED_HOSTS``, a body over
``DATA_UPLOAD_MAX_MEMORY_SIZE``) its HTML 400.
"""

from __future__ import annotations

from django.core.exceptions import DisallowedHost, RequestDataTooBig
from django.http import HttpRequest, JsonResponse


def bad_request(request: HttpRequest, exception: Exception | None = None) -> JsonResponse:
    """``handler400``: Django's ``SuspiciousOperation`` family; an oversized body is a 413."""
    if isinstance(exception, RequestDataTooBig):
        return JsonResponse({"detail": "Request body is too large."}, status=413)
    if isinstance(exception, DisallowedHost):
        return JsonResponse({"detail": "Invalid Host header."}, status=400)
    return JsonResponse({"detail": "Bad request."}, status=400)


def permission_denied(request: HttpRequest, exception: Exception | None = None) -> JsonResponse:
    return JsonResponse({"detail": "You do not have permission to perform this action."}, status=403)


def not_found(request: HttpRequest, exception: Exception | None = None) -> JsonResponse:
    return JsonResponse({"detail": "Not found."}, status=404)


def server_error(request: HttpRequest) -> JsonResponse:
    return JsonResponse({"detail": "Internal server error."}, status=500)
