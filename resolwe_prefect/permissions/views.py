"""What a viewset gets from per-object permissions, one concern a mixin, and the viewset base built on them.

Visibility is decided by the viewset's queryset (invisible → 404);
``api.ResolwePermissions`` decides what a visible object allows (not
enough → 403). ``ResolweViewSetMixin`` puts these together with the shared
mixins of ``resolwe_prefect.api.views``; every Resolwe resource builds on it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django.db.models import QuerySet
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema
from rest_framework import permissions
from rest_framework.decorators import action
from rest_framework.exceptions import ParseError
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.serializers import BaseSerializer

from resolwe_prefect.api.views import BaseQuerysetMixin, ContributorMixin, FilteringMixin, ProjectionMixin, ViewSetBase

from . import services
from .api import ResolwePermissions
from .models import Permission, PermissionObject
from .payload import apply_payload


class ObjectPermissionsMixin(ViewSetBase):
    """Objects the caller may not view are not there (404); a lower level than a request needs is 403."""

    permission_classes = [ResolwePermissions]
    #: Path from the model to its PermissionGroup. ``None`` means the model has no
    #: per-object permissions: logged-in users see all, anonymous users nothing.
    #: Left unset, it is ``permission_group`` for a ``PermissionObject``.
    permission_field: str | None

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        queryset = getattr(cls, "queryset", None)
        if "permission_field" not in cls.__dict__ and queryset is not None:
            cls.permission_field = "permission_group" if issubclass(queryset.model, PermissionObject) else None

    def filter_for_user(self, queryset: QuerySet) -> QuerySet:
        """Objects the caller may view (VIEW held by them, their groups or public)."""
        user = self.request.user
        if self.permission_field is None:
            return queryset if user and user.is_authenticated else queryset.none()
        return services.filter_for_user(queryset, user, Permission.VIEW, field=self.permission_field)

    def get_queryset(self) -> QuerySet:
        return self.filter_for_user(super().get_queryset())


class CallerPermissionsMixin(ViewSetBase):
    """Reads load the caller's permission rows for the whole page, for ``current_user_permissions``.

    Only where ``permission_field`` is the object's own ``permission_group``
    (``ObjectPermissionsMixin``), and not when ``fields=`` leaves the key out
    (``ProjectionMixin``).
    """

    permission_field: str | None

    if TYPE_CHECKING:

        def projection(self) -> Any: ...

    def get_queryset(self) -> QuerySet:
        return self.with_caller_permissions(super().get_queryset())

    def with_caller_permissions(self, queryset: QuerySet) -> QuerySet:
        """Prefetch the caller's permission rows when ``current_user_permissions`` will be serialized."""
        if self.permission_field != "permission_group" or self.request.method not in permissions.SAFE_METHODS:
            return queryset
        tree = self.projection()
        if tree and "current_user_permissions" not in tree:
            return queryset
        return services.prefetch_caller_permissions(queryset, self.request.user)


class PermissionGroupOnCreateMixin(ViewSetBase):
    """A new object is placed in a permission group once it is saved.

    Inside a container it shares the container's group; a top-level object
    gets its own, with the contributor as owner.
    """

    permission_field: str | None

    def perform_create(self, serializer: BaseSerializer) -> None:
        super().perform_create(serializer)
        if self.permission_field == "permission_group":
            services.on_created(serializer.instance)


class PermissionsActionMixin(ViewSetBase):
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


# Each mixin wraps the ones after it. A read's queryset is built by BaseQuerysetMixin, narrowed by
# ObjectPermissionsMixin, then given the caller's rows by CallerPermissionsMixin; a create is saved
# by ContributorMixin, placed in a permission group, then read again by BaseQuerysetMixin.
class ResolweViewSetMixin(
    CallerPermissionsMixin,
    ObjectPermissionsMixin,
    BaseQuerysetMixin,
    PermissionGroupOnCreateMixin,
    ContributorMixin,
    ProjectionMixin,
    FilteringMixin,
):
    """Visibility hook, projection and Resolwe's update conventions for a GenericViewSet."""
