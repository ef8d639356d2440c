"""The per-object permission checks of REST requests: a viewset's, and a serializer's for containers.

Visibility is decided by the viewset's queryset (invisible → 404, see
``views``); this module decides what a visible object allows (not enough → 403).
"""

from __future__ import annotations

from rest_framework import permissions
from rest_framework.exceptions import PermissionDenied, ValidationError
from rest_framework.request import Request

from . import services
from .models import Permission


def required_level(request: Request, view) -> int:
    """VIEW to read, EDIT to change, SHARE to change permissions."""
    if getattr(view, "action", None) == "permissions" and request.method not in permissions.SAFE_METHODS:
        return Permission.SHARE
    return Permission.VIEW if request.method in permissions.SAFE_METHODS else Permission.EDIT


class ResolwePermissions(permissions.BasePermission):
    """Reads for anyone (narrowed by the queryset), writes need a login and the object's level.

    For anonymous writers DRF answers 403 "Authentication credentials were not
    provided." (no ``WWW-Authenticate`` with session auth, so never 401).
    """

    def has_permission(self, request: Request, view) -> bool:
        return request.method in permissions.SAFE_METHODS or bool(request.user and request.user.is_authenticated)

    def has_object_permission(self, request: Request, view, obj) -> bool:
        field = getattr(view, "permission_field", None)
        if field is None:
            return True
        return services.user_level(request.user, obj, field) >= required_level(request, view)


def require_edit(user, container, field: str) -> None:
    """Putting something into ``container`` needs EDIT on it (called from a serializer's ``validate_<field>``).

    Invisible containers are reported as missing (400, like an unknown id),
    visible ones without EDIT as 403.
    """
    if container is None:
        return
    level = services.user_level(user, container)
    if level < Permission.VIEW:
        raise ValidationError([f'Invalid pk "{container.pk}" - object does not exist.'])  # under ``field``
    if level < Permission.EDIT:
        raise PermissionDenied(f"You do not have edit permission on {field} {container.pk}.")
