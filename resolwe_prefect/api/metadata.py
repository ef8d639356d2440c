"""``OPTIONS`` answers: DRF's, except that a list route with a bulk ``PUT`` has no object to check.

DRF's ``SimpleMetadata`` calls ``get_object()`` for every ``PUT`` it
describes, which on a list route (``PUT /api/annotation_value`` updates many)
asserts that the URL names an object and answers 500.
"""

from __future__ import annotations

from typing import Any

from rest_framework.metadata import SimpleMetadata
from rest_framework.request import Request


class ResolweMetadata(SimpleMetadata):
    def determine_actions(self, request: Request, view: Any) -> dict[str, Any]:
        lookup = getattr(view, "lookup_url_kwarg", None) or getattr(view, "lookup_field", "pk")
        if lookup in getattr(view, "kwargs", {}) or not hasattr(view, "get_object"):
            return super().determine_actions(request, view)
        get_object = view.get_object
        view.get_object = lambda: None  # a list route: there is no object to check
        try:
            return super().determine_actions(request, view)
        finally:
            view.get_object = get_object
