"""``/api/annotation_group``, ``/api/annotation_field``, ``/api/annotation_preset``,
``/api/annotation_value``, ``POST /api/collection/<id>/set_annotation_fields`` and
``POST /api/sample/<id>/set_annotations`` (also under ``/api/entity``).

Groups and fields are read-only (they are defined by the ``annotation_fields``
management command) and visible to everyone, like a schema. Values take their
permissions from their entity: VIEW to see, EDIT to write.
"""

from __future__ import annotations

from django.db.models import Model, QuerySet
from django.shortcuts import get_object_or_404
from drf_spectacular.utils import extend_schema
from rest_framework import mixins, permissions, status, viewsets
from rest_framework.exceptions import MethodNotAllowed, PermissionDenied, ValidationError
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from resolwe_prefect.api.views import UnchangedPatchMixin
from resolwe_prefect.entities.models import Collection, Entity
from resolwe_prefect.permissions.models import Permission
from resolwe_prefect.permissions.services import filter_for_user, user_level
from resolwe_prefect.permissions.views import PermissionsActionMixin, ResolweViewSetMixin

from . import services
from .filters import AnnotationFieldFilter, AnnotationGroupFilter, AnnotationPresetFilter, AnnotationValueFilter
from .models import AnnotationField, AnnotationGroup, AnnotationPreset, AnnotationValue
from .serializers import (
    AnnotationByPathSerializer,
    AnnotationFieldIdsSerializer,
    AnnotationFieldSerializer,
    AnnotationGroupSerializer,
    AnnotationPresetSerializer,
    AnnotationValueSerializer,
)


class PublicSchemaMixin:
    """Groups and fields describe what may be stored, not what is stored: nothing to hide."""

    def filter_for_user(self, queryset: QuerySet) -> QuerySet:
        return queryset


class AnnotationGroupViewSet(PublicSchemaMixin, ResolweViewSetMixin, viewsets.ReadOnlyModelViewSet):
    """Resolwe has no such endpoint; resdk declares one, so it is served read-only."""

    queryset = AnnotationGroup.objects.all()
    serializer_class = AnnotationGroupSerializer
    filterset_class = AnnotationGroupFilter
    ordering_fields = ["id", "name", "label", "sort_order"]
    ordering = ["sort_order", "id"]


class AnnotationFieldViewSet(PublicSchemaMixin, ResolweViewSetMixin, viewsets.ReadOnlyModelViewSet):
    queryset = AnnotationField.objects.all()
    serializer_class = AnnotationFieldSerializer
    filterset_class = AnnotationFieldFilter
    ordering_fields = ["id", "name", "label", "group__sort_order", "sort_order"]
    ordering = ["group__sort_order", "sort_order", "id"]

    def base_queryset(self) -> QuerySet:
        return AnnotationField.objects.select_related("group")


class AnnotationPresetViewSet(
    PermissionsActionMixin,
    ResolweViewSetMixin,
    UnchangedPatchMixin,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    mixins.UpdateModelMixin,
    viewsets.GenericViewSet,
):
    queryset = AnnotationPreset.objects.all()
    serializer_class = AnnotationPresetSerializer
    filterset_class = AnnotationPresetFilter
    ordering_fields = ["id", "name", "sort_order"]
    ordering = ["sort_order", "id"]

    def base_queryset(self) -> QuerySet:
        return AnnotationPreset.objects.select_related("contributor").prefetch_related("fields")


class AnnotationValueViewSet(
    ResolweViewSetMixin,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.DestroyModelMixin,
    viewsets.GenericViewSet,
):
    """POST and PUT upsert on (entity, field), one object or a list; ``"value": null`` deletes."""

    queryset = AnnotationValue.objects.all()
    permission_field = "entity__permission_group"
    serializer_class = AnnotationValueSerializer
    filterset_class = AnnotationValueFilter
    ordering_fields = ["id", "created", "modified"]
    ordering = ["id"]

    def base_queryset(self) -> QuerySet:
        return AnnotationValue.objects.select_related("contributor", "field__group")

    def _write(self, request: Request) -> Response:
        many = isinstance(request.data, list)
        serializer = self.get_serializer(data=request.data, many=many)
        serializer.is_valid(raise_exception=True)
        written = serializer.save(contributor=request.user)
        if many:
            return Response(self.get_serializer(written, many=True).data, status=status.HTTP_201_CREATED)
        if written is None:
            return Response(status=status.HTTP_204_NO_CONTENT)
        return Response(self.get_serializer(written).data, status=status.HTTP_201_CREATED)

    @extend_schema(responses={201: AnnotationValueSerializer, 204: None})
    def create(self, request: Request, *args, **kwargs) -> Response:
        return self._write(request)

    @extend_schema(
        operation_id="annotation_value_bulk_update",
        request=AnnotationValueSerializer(many=True),
        responses={201: AnnotationValueSerializer(many=True)},
    )
    def bulk_update(self, request: Request, *args, **kwargs) -> Response:
        """``PUT /api/annotation_value`` with a list: the same upsert as POST."""
        return self._write(request)

    def update(self, request: Request, *args, **kwargs) -> Response:
        """``PUT /api/annotation_value/<id>`` replaces the value; entity and field stay."""
        if kwargs.get("partial"):
            raise MethodNotAllowed(request.method, detail="Partial updates are not supported.")
        instance = self.get_object()
        body = request.data if isinstance(request.data, dict) else {}
        data = {**body, "entity": instance.entity_id, "field": instance.field_id}
        serializer = self.get_serializer(instance, data=data)
        serializer.is_valid(raise_exception=True)
        written = serializer.save(contributor=request.user)
        if written is None:
            return Response(status=status.HTTP_204_NO_CONTENT)
        return Response(self.get_serializer(written).data)

    def partial_update(self, request: Request, *args, **kwargs) -> Response:
        raise MethodNotAllowed(request.method, detail="Partial updates are not supported.")


def _editable(model: type[Model], request: Request, pk: int) -> Model:
    """The object ``pk`` when the caller may edit it: 404 when they cannot see it, 403 without EDIT."""
    obj = get_object_or_404(filter_for_user(model.objects.all(), request.user), pk=pk)
    if user_level(request.user, obj) < Permission.EDIT:
        raise PermissionDenied()
    return obj


class SetAnnotationFieldsView(APIView):
    """``POST /api/collection/<id>/set_annotation_fields {"annotation_fields": [{"id"}]}`` → 204.

    A plain view rather than a collection action, so the entities app does
    not depend on annotations. Values of fields dropped from the collection
    are kept.
    """

    permission_classes = [permissions.IsAuthenticated]

    @extend_schema(request=AnnotationFieldIdsSerializer, responses={204: None})
    def post(self, request: Request, pk: int) -> Response:
        collection = _editable(Collection, request, pk)
        serializer = AnnotationFieldIdsSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        services.set_collection_fields(collection, serializer.validated_data["annotation_fields"])
        return Response(status=status.HTTP_204_NO_CONTENT)


class SetAnnotationsView(APIView):
    """``POST /api/sample/<id>/set_annotations [{"field_path", "value"}, …]`` → 200 (resdk's bulk set).

    Resolwe's ``EntityViewSet.set_annotations``: EDIT on the entity (404 when
    it is invisible, 403 without EDIT); a null value deletes. Every path and
    value is checked before anything is stored, so a bad item changes nothing
    (400 with one message per bad item). A plain view for the same reason as
    :class:`SetAnnotationFieldsView`.
    """

    permission_classes = [permissions.IsAuthenticated]

    @extend_schema(request=AnnotationByPathSerializer(many=True), responses={200: None})
    def post(self, request: Request, pk: int) -> Response:
        entity = _editable(Entity, request, pk)
        serializer = AnnotationByPathSerializer(data=request.data, many=True)
        serializer.is_valid(raise_exception=True)
        annotations = {item["field_path"]: item["value"] for item in serializer.validated_data}
        errors = services.update_annotations(entity, annotations, request.user)
        if errors:
            raise ValidationError({"error": errors})
        return Response()
