"""REST pieces: the per-object permission check and the ``…/<id>/permissions`` action.

Visibility is decided by the viewset's queryset (invisible → 404); this
module decides what a visible object allows (not enough → 403).
"""

from __future__ import annotations

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema
from rest_framework import permissions
from rest_framework.decorators import action
from rest_framework.exceptions import ParseError
from rest_framework.request import Request
from rest_framework.response import Response

from . import services
from .models import Permission
from .payload import apply_payload


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


class PermissionsActionMixin:
    """``GET|POST /api/<model>/<id>/permissions`` in Resolwe's list format."""

    @extend_schema(request=OpenApiTypes.OBJECT, responses=OpenApiTypes.OBJECT)
    @action(detail=True, methods=["get", "post"], url_path="permissions", url_name="permissions")
    def permissions(self, request: Request, pk=None) -> Response:
        obj = self.get_object()  # 404 when invisible, 403 when a POST lacks SHARE
        if request.method == "POST":
            if services.is_contained(obj):
                raise ParseError("Permissions can only be set on top-level objects; set them on the container.")
            apply_payload(obj, request.data, request.user)
            obj = type(obj).objects.get(pk=obj.pk)  # drop the prefetched, now stale, caller rows
        if services.user_level(request.user, obj) >= Permission.SHARE:
            return Response(services.get_permissions(obj))
        return Response(services.current_user_permissions(request.user, obj))


def require_edit(user, container, field: str) -> None:
    """Putting something into ``container`` needs EDIT on it (called from a serializer's ``validate_<field>``).

    Invisible containers are reported as missing (400, like an unknown id),
    visible ones without EDIT as 403.
    """
    from rest_framework.exceptions import PermissionDenied, ValidationError

    if container is None:
        return
    level = services.user_level(user, container)
    if level < Permission.VIEW:
        raise ValidationError([f'Invalid pk "{container.pk}" - object does not exist.'])  # under ``field``
    if level < Permission.EDIT:
        raise PermissionDenied(f"You do not have edit permission on {field} {container.pk}.")
