"""Django's error pages as JSON, for URLs that no API route matches.

A client of a JSON API (resdk, schema-driven tools) should never have to
parse an HTML page: ``/api/collection/-1/...`` matches no route and would
otherwise get Django's HTML 404.
"""

from __future__ import annotations

from django.http import HttpRequest, JsonResponse


def not_found(request: HttpRequest, exception: Exception | None = None) -> JsonResponse:
    return JsonResponse({"detail": "Not found."}, status=404)


def server_error(request: HttpRequest) -> JsonResponse:
    return JsonResponse({"detail": "Internal server error."}, status=500)
