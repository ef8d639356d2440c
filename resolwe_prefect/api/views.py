"""Viewset plumbing shared by every Resolwe resource.

``ResolweViewSetMixin`` is the one place where visibility is decided
(``filter_for_user``, backed by ``permissions.services``); what a visible
object allows is checked by ``ResolwePermissions``. It also applies ``fields=`` projection and Resolwe's
"PATCH that changes nothing → 204" rule.
"""

from __future__ import annotations

from django.db.models import QuerySet
from django_filters.rest_framework import DjangoFilterBackend
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema
from rest_framework import mixins, permissions, status
from rest_framework.decorators import api_view, permission_classes
from rest_framework.request import Request
from rest_framework.response import Response

from resolwe_prefect.permissions import services as permission_services
from resolwe_prefect.permissions.api import ResolwePermissions
from resolwe_prefect.permissions.models import Permission

from .filters import ResolweOrderingFilter
from .projection import apply_projection, parse_fields

#: The oldest resdk this server is known to work with.
RESDK_MINIMAL_SUPPORTED_VERSION = "22.0.0"


class ResolweViewSetMixin:
    """Visibility hook, projection and Resolwe's update conventions for a GenericViewSet."""

    permission_classes = [ResolwePermissions]
    filter_backends = [DjangoFilterBackend, ResolweOrderingFilter]
    #: ``select_related``/``prefetch_related`` are applied in ``base_queryset``.
    queryset: QuerySet
    #: Path from the model to its PermissionGroup. ``None`` means the model has no
    #: per-object permissions: logged-in users see all, anonymous users nothing.
    #: Left unset, it is ``permission_group`` when the model has that field.
    permission_field: str | None

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        cls._install_noop_patch()
        if "permission_field" not in cls.__dict__ and getattr(cls, "queryset", None) is not None:
            fields = {f.name for f in cls.queryset.model._meta.get_fields()}
            cls.permission_field = "permission_group" if "permission_group" in fields else None

    def base_queryset(self) -> QuerySet:
        """The queryset with everything the serializer reads loaded up front (no N+1)."""
        return self.queryset.all()

    def filter_for_user(self, queryset: QuerySet) -> QuerySet:
        """Objects the caller may view (VIEW held by them, their groups or public)."""
        user = self.request.user
        if self.permission_field is None:
            return queryset if user and user.is_authenticated else queryset.none()
        return permission_services.filter_for_user(queryset, user, Permission.VIEW, field=self.permission_field)

    def with_caller_permissions(self, queryset: QuerySet) -> QuerySet:
        """Prefetch the caller's permission rows when ``current_user_permissions`` will be serialized."""
        if self.permission_field != "permission_group" or self.request.method not in permissions.SAFE_METHODS:
            return queryset
        tree = self.projection()
        if tree and "current_user_permissions" not in tree:
            return queryset
        return permission_services.prefetch_caller_permissions(queryset, self.request.user)

    def get_queryset(self) -> QuerySet:
        return self.with_caller_permissions(self.filter_for_user(self.base_queryset()))

    def filter_queryset(self, queryset: QuerySet) -> QuerySet:
        """Skip the filter backends for a detail route without query parameters.

        With no parameters they change nothing, yet building the FilterSet's
        form (dozens of filters on Data) cost a detail GET, the call resdk
        polls status with, about a fifth of its time.
        """
        lookup = self.lookup_url_kwarg or self.lookup_field
        if lookup in getattr(self, "kwargs", {}) and not self.request.query_params:
            return queryset
        return super().filter_queryset(queryset)

    # --- projection -------------------------------------------------------------------

    def projection(self):
        return parse_fields(self.request.query_params.get("fields")) if hasattr(self, "request") else None

    def get_serializer(self, *args, **kwargs):
        """Drop top-level fields that ``fields=`` excludes, so they are not even computed."""
        serializer = super().get_serializer(*args, **kwargs)
        tree = self.projection()
        if tree and self.request.method == "GET":
            target = getattr(serializer, "child", serializer)
            for name in list(target.fields):
                if name not in tree:
                    target.fields.pop(name)
        return serializer

    def paginate_queryset(self, queryset):
        page = super().paginate_queryset(queryset)
        self._paginated = page is not None
        return page

    def finalize_response(self, request, response, *args, **kwargs):
        tree = self.projection() if request.method == "GET" else None
        if tree and isinstance(response, Response) and 200 <= response.status_code < 300:
            data = response.data
            if getattr(self, "_paginated", False) and isinstance(data, dict) and "results" in data:
                data["results"] = apply_projection(data["results"], tree)
            else:
                response.data = apply_projection(data, tree)
        return super().finalize_response(request, response, *args, **kwargs)

    # --- create / update --------------------------------------------------------------

    def perform_create(self, serializer):
        """Save with the caller as contributor, then place the object in a permission group.

        Inside a container it shares the container's group; a top-level object
        gets its own, with the contributor as owner.
        """
        serializer.save(contributor=self.request.user)
        if self.permission_field == "permission_group":
            permission_services.on_created(serializer.instance)
        self._reload(serializer)

    def perform_update(self, serializer):
        serializer.save()
        self._reload(serializer)

    def _reload(self, serializer) -> None:
        """Re-read a written object through ``base_queryset`` so annotations appear in the response."""
        serializer.instance = self.base_queryset().get(pk=serializer.instance.pk)

    @classmethod
    def _install_noop_patch(cls) -> None:
        """Give updatable viewsets Resolwe's "PATCH that changes nothing → 204" rule.

        Installed only where ``UpdateModelMixin`` is present: defining ``update``
        on a read-only viewset would make the router route PUT to a method
        that cannot work.
        """
        if not issubclass(cls, mixins.UpdateModelMixin) or "update" in cls.__dict__:
            return
        parent_update = super().update  # the next ``update`` in the MRO

        def update(self, request: Request, *args, **kwargs) -> Response:
            if kwargs.get("partial") and hasattr(request.data, "keys"):
                instance = self.get_object()
                serializer = self.get_serializer(instance)
                writable = serializer.writable_update_fields()
                if not writable & set(request.data.keys()):
                    return Response(status=status.HTTP_204_NO_CONTENT)
            return parent_update(self, request, *args, **kwargs)

        update.__doc__ = parent_update.__doc__
        cls.update = update


@extend_schema(responses=OpenApiTypes.OBJECT)
@api_view(["GET"])
@permission_classes([permissions.AllowAny])
def resdk_minimal_supported_version(request: Request) -> Response:
    """resdk checks this on connect and only warns when it is missing or newer than itself."""
    return Response({"minimal_supported_version": RESDK_MINIMAL_SUPPORTED_VERSION})
