"""Pagination that only applies when the client asks for it.

Resolwe's deployments answer a bare JSON list without ``limit`` and the
``{count, next, previous, results}`` envelope with it; resdk relies on both
(``len(query)`` reads ``count``, ``get(<id>)`` expects a list).
"""

from __future__ import annotations

from rest_framework.pagination import LimitOffsetPagination
from rest_framework.request import Request

#: No table holds this many rows; larger ``limit``/``offset`` values overflowed the SQL (a 500).
MAX_ROWS = 2**62


class LimitOffsetOnRequestPagination(LimitOffsetPagination):
    """``LimitOffsetPagination`` that is skipped unless ``limit`` is in the query string."""

    def paginate_queryset(self, queryset, request: Request, view=None):
        if self.limit_query_param not in request.query_params:
            return None
        return super().paginate_queryset(queryset, request, view)

    def get_limit(self, request: Request):
        limit = super().get_limit(request)
        return None if limit is None else min(limit, MAX_ROWS)

    def get_offset(self, request: Request) -> int:
        return min(super().get_offset(request), MAX_ROWS)

    def get_paginated_response_schema(self, schema: dict) -> dict:
        """Both shapes a list can take: the bare list, or the envelope when ``limit`` is given."""
        return {"oneOf": [schema, super().get_paginated_response_schema(schema)]}
