"""Viewset mixins every Resolwe resource shares, one concern each, as DRF's own mixins.

Who may see or change an object is not decided here: ``permissions.views``
adds that and composes these mixins into ``ResolweViewSetMixin``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django.db.models import QuerySet
from django_filters.rest_framework import DjangoFilterBackend
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import mixins, permissions, status
from rest_framework.decorators import action, api_view, permission_classes
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.serializers import BaseSerializer

from .filters import ResolweOrderingFilter
from .projection import Projection, apply_projection, parse_fields
from .serializers import SlugExistsSerializer

#: The oldest resdk this server is known to work with.
RESDK_MINIMAL_SUPPORTED_VERSION = "22.0.0"

if TYPE_CHECKING:  # the mixins are used on DRF's generic views; the type checker should know it
    from rest_framework.generics import GenericAPIView as ViewSetBase
else:
    ViewSetBase = object


class FilteringMixin(ViewSetBase):
    """Resolwe's filters (unknown parameters refused) and ordering (unknown fields refused)."""

    filter_backends = [DjangoFilterBackend, ResolweOrderingFilter]

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


class ProjectionMixin(ViewSetBase):
    """``?fields=id,entity__name``: GET answers with only the named keys (resolwe/rest/projection.py)."""

    def projection(self) -> Projection | None:
        """This request's ``fields=`` tree; ``None`` when every field is returned."""
        return parse_fields(self.request.query_params.get("fields")) if hasattr(self, "request") else None

    def get_serializer(self, *args: Any, **kwargs: Any) -> BaseSerializer:
        """Drop top-level fields that ``fields=`` excludes, so they are not even computed."""
        serializer = super().get_serializer(*args, **kwargs)
        tree = self.projection()
        if tree and self.request.method == "GET":
            target = getattr(serializer, "child", serializer)
            for name in list(target.fields):
                if name not in tree:
                    target.fields.pop(name)
        return serializer

    def paginate_queryset(self, queryset: QuerySet) -> list[Any] | None:
        page = super().paginate_queryset(queryset)
        self._paginated = page is not None
        return page

    def finalize_response(self, request: Request, response: Response, *args: Any, **kwargs: Any) -> Response:
        tree = self.projection() if request.method == "GET" else None
        if tree and isinstance(response, Response) and 200 <= response.status_code < 300:
            data = response.data
            if getattr(self, "_paginated", False) and isinstance(data, dict) and "results" in data:
                data["results"] = apply_projection(data["results"], tree)
            else:
                response.data = apply_projection(data, tree)
        return super().finalize_response(request, response, *args, **kwargs)


class BaseQuerysetMixin(ViewSetBase):
    """``base_queryset``: what the serializer reads, loaded up front, for reads and for answers to writes.

    A written object is read again through it, so that annotations (counts,
    derived status) appear in the response as they do in a GET.
    """

    #: ``select_related``/``prefetch_related`` and annotations are applied in ``base_queryset``.
    queryset: QuerySet

    def base_queryset(self) -> QuerySet:
        """The queryset with everything the serializer reads loaded up front (no N+1)."""
        return self.queryset.all()

    def get_queryset(self) -> QuerySet:
        return self.base_queryset()

    def perform_create(self, serializer: BaseSerializer) -> None:
        super().perform_create(serializer)
        self._reload(serializer)

    def perform_update(self, serializer: BaseSerializer) -> None:
        super().perform_update(serializer)
        self._reload(serializer)

    def _reload(self, serializer: BaseSerializer) -> None:
        """Re-read a written object through ``base_queryset`` so annotations appear in the response."""
        serializer.instance = self.base_queryset().get(pk=serializer.instance.pk)


class ContributorMixin(ViewSetBase):
    """An object created over the API belongs to the caller: they are its ``contributor``."""

    def perform_create(self, serializer: BaseSerializer) -> None:
        serializer.save(contributor=self.request.user)


class UnchangedPatchMixin(mixins.UpdateModelMixin):
    """Resolwe's rule that a PATCH naming no field it may change is answered with 204.

    The serializer names the fields a PATCH may change
    (``writable_update_fields``). The override of ``partial_update`` has no
    docstring on purpose: the schema would take it as the PATCH description.
    """

    def partial_update(self, request: Request, *args, **kwargs) -> Response:
        if hasattr(request.data, "keys"):
            writable = self.get_serializer(self.get_object()).writable_update_fields()
            if not writable & set(request.data.keys()):
                return Response(status=status.HTTP_204_NO_CONTENT)
        return super().partial_update(request, *args, **kwargs)


class SlugExistsMixin(ViewSetBase):
    """``GET …/slug_exists?name=``: whether a slug is taken among the objects the caller can see.

    Visibility is the viewset's ``filter_for_user`` (``permissions.views``).
    """

    if TYPE_CHECKING:

        def filter_for_user(self, queryset: QuerySet) -> QuerySet: ...

    @extend_schema(
        parameters=[OpenApiParameter("name", OpenApiTypes.STR, required=True, description="The slug to look for.")],
        responses={200: OpenApiTypes.BOOL},
        filters=False,
    )
    @action(detail=False, methods=["get"])
    def slug_exists(self, request: Request) -> Response:
        """``true`` when one of the objects the caller can see has this slug (case-insensitive)."""
        if not request.user.is_authenticated:
            return Response(status=status.HTTP_401_UNAUTHORIZED)
        serializer = SlugExistsSerializer(data=request.query_params)
        serializer.is_valid(raise_exception=True)
        queryset = self.filter_for_user(self.queryset.model.objects.all())
        return Response(queryset.filter(slug__iexact=serializer.validated_data["name"]).exists())


@extend_schema(responses=OpenApiTypes.OBJECT)
@api_view(["GET"])
@permission_classes([permissions.AllowAny])
def resdk_minimal_supported_version(request: Request) -> Response:
    """resdk checks this on connect and only warns when it is missing or newer than itself."""
    return Response({"minimal_supported_version": RESDK_MINIMAL_SUPPORTED_VERSION})
