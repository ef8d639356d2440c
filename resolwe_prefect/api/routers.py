"""The REST router: Resolwe's resource names, no trailing slash (resdk builds URLs without one)."""

from __future__ import annotations

from rest_framework.routers import DefaultRouter


def build_router(route_lists: list[list[tuple]]) -> DefaultRouter:
    """Register every app's ``routes`` (``(prefix, viewset, basename)`` tuples) on one router."""
    router = DefaultRouter(trailing_slash=False)
    for routes in route_lists:
        for prefix, viewset, basename in routes:
            router.register(prefix, viewset, basename=basename)
    return router
