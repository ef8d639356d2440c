"""``current_user_permissions``: what the caller may do with a permission object, in Resolwe's format."""

from __future__ import annotations

from django.db.models import Model
from rest_framework import serializers

from . import services


class CurrentUserPermissionsMixin(serializers.Serializer):
    """Adds ``current_user_permissions`` to the serializer of a ``PermissionObject``.

    Listed after ``BaseResolweSerializer`` in a serializer's bases: the schema
    describes an undocumented serializer with the first docstring among its
    bases, and that stays the object serializer's.
    """

    current_user_permissions = serializers.SerializerMethodField()

    def get_current_user_permissions(self, obj: Model) -> list[dict]:
        """The caller's, their groups' and public's levels on ``obj`` (prefetched by the viewset on lists)."""
        request = self.context.get("request")
        user = getattr(request, "user", None)
        if user is None or not hasattr(obj, "permission_group_id"):
            return []
        return services.current_user_permissions(user, obj)
