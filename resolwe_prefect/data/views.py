"""``/api/data``, ``/api/storage`` and the file browser under ``/data/<id>/<path>``.

Creating, reusing and restarting Data are delegated to ``data.services``,
which owns the rules; this module only translates HTTP to those calls. A
refusal is a ``DataError``, which the API's exception handler answers.
"""

from __future__ import annotations

from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import transaction
from django.db.models import Exists, OuterRef, Prefetch, QuerySet
from rest_framework import mixins, permissions, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import ParseError
from rest_framework.request import Request
from rest_framework.response import Response

from resolwe_prefect.api.fields import parse_pk
from resolwe_prefect.api.views import UnchangedPatchMixin
from resolwe_prefect.descriptors.models import DescriptorSchema
from resolwe_prefect.entities.actions import MoveToCollectionMixin
from resolwe_prefect.entities.models import Collection, Entity
from resolwe_prefect.entities.views import annotate_collections
from resolwe_prefect.permissions import services as permission_services
from resolwe_prefect.permissions.views import PermissionsActionMixin, ResolweViewSetMixin
from resolwe_prefect.tasks.actions import BackgroundActionsMixin

from . import services
from .deletion import delete_data
from .duplication import duplicate_data
from .filters import DataFilter
from .models import Data, Storage
from .moving import MoveError, check_data_movable, move_data
from .serializers import DataSerializer, StorageSerializer


class IsStaff(permissions.BasePermission):
    """Restart is for staff only, with Resolwe's message (anonymous callers get "not provided")."""

    message = "Only staff users are allowed."

    def has_permission(self, request: Request, view) -> bool:
        return bool(request.user and request.user.is_authenticated and request.user.is_staff)


def _reference_id(model, value, field: str):
    """Turn ``{"id"}``, ``{"slug"}`` or a bare id from a request body into a primary key."""
    if value in (None, ""):
        return None
    if isinstance(value, dict) and "id" not in value and "slug" in value:
        slug = value["slug"]
        pk = model.objects.filter(slug=slug).values_list("pk", flat=True).first() if isinstance(slug, str) else None
        if pk is None:
            raise ParseError({field: [f'Invalid {field} slug "{str(slug)[:100]}" - object does not exist.']})
        return pk
    return value.get("id") if isinstance(value, dict) else value


def _service_kwargs(body) -> dict:
    """Map a POST /api/data body onto ``create_data``'s keyword arguments."""
    if not isinstance(body, dict):
        raise ParseError("Expected a JSON object.")
    if not body.get("process"):
        raise ParseError({"process": ["This field is required."]})
    schema = body.get("descriptor_schema")
    if isinstance(schema, int) and not isinstance(schema, bool):
        schema = {"id": schema}
    if isinstance(schema, dict) and "slug" not in schema and "id" in schema:
        pk = parse_pk(schema["id"])
        schema = DescriptorSchema.objects.filter(pk=pk).values_list("slug", flat=True).first() if pk else None
        if schema is None:
            raise ParseError({"descriptor_schema": ["Invalid descriptor_schema - object does not exist."]})
    elif isinstance(schema, dict):
        schema = schema.get("slug")
    if schema not in (None, "") and not isinstance(schema, str):
        raise ParseError({"descriptor_schema": ['Expected {"id": <int>} or {"slug": <str>}.']})
    return {
        "process_ref": body["process"],
        "input": body.get("input") or {},
        "name": body.get("name"),
        "tags": body.get("tags"),
        "collection_id": _reference_id(Collection, body.get("collection"), "collection"),
        "entity_id": _reference_id(Entity, body.get("entity"), "entity"),
        "descriptor_schema_slug": schema or None,
        "descriptor": body.get("descriptor"),
        "process_resources": body.get("process_resources"),
    }


class DataViewSet(
    BackgroundActionsMixin,
    MoveToCollectionMixin,
    PermissionsActionMixin,
    ResolweViewSetMixin,
    UnchangedPatchMixin,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.UpdateModelMixin,
    mixins.DestroyModelMixin,
    viewsets.GenericViewSet,
):
    queryset = Data.objects.all()
    serializer_class = DataSerializer
    filterset_class = DataFilter
    ordering_fields = [
        "id", "created", "modified", "name", "slug", "started", "finished", "status", "contributor",
        "contributor__first_name", "contributor__last_name", "process__name", "process__type", "entity__name",
    ]  # fmt: skip
    ordering = ["-created"]
    # delete, duplicate, bulk_delete and move_to_collection run as background tasks
    task_objects = "data objects"
    delete_operation = staticmethod(delete_data)
    duplicate_operation = staticmethod(duplicate_data)
    duplicate_options = ("inherit_collection", "inherit_entity")
    move_operation = staticmethod(move_data)

    def check_movable(self, ids: list[int], collection_id: int) -> None:
        """Data in an entity moves only with it: 400 ``{"error": ...}``, as Resolwe's model-level refusal."""
        try:
            check_data_movable(ids, collection_id)
        except MoveError as error:
            raise DjangoValidationError(str(error)) from error

    def base_queryset(self) -> QuerySet:
        return Data.objects.select_related(
            "contributor", "process", "process__contributor", "descriptor_schema", "entity"
        ).prefetch_related(Prefetch("collection", queryset=annotate_collections(Collection.objects.all())))

    def _respond(self, data: Data, status_code: int) -> Response:
        """The object as this request left it.

        Callers run in one transaction with the service (``transaction.atomic``
        on the action): the worker hears of new work when it commits, and it
        can move the object on (RE to WT, even to OK) before a read after the
        commit, so the read happens before it.
        """
        instance = self.base_queryset().get(pk=data.pk)
        return Response(self.get_serializer(instance).data, status=status_code)

    @transaction.atomic
    def create(self, request: Request, *args, **kwargs) -> Response:
        """``POST /api/data``: 201 with the new object, or the service's 400 body."""
        data = services.create_data(user=request.user, **_service_kwargs(request.data))
        return self._respond(data, status.HTTP_201_CREATED)

    @action(detail=False, methods=["post"])
    @transaction.atomic
    def get_or_create(self, request: Request) -> Response:
        """200 with a reusable existing object (CAC/TMP processes), 201 with a new one."""
        data, created = services.get_or_create_data(user=request.user, **_service_kwargs(request.data))
        return self._respond(data, status.HTTP_201_CREATED if created else status.HTTP_200_OK)

    @action(detail=True, methods=["post"], permission_classes=[IsStaff])
    @transaction.atomic
    def restart(self, request: Request, pk=None) -> Response:
        """Start a failed object again; ``resource_overrides`` is keyed by Data id."""
        overrides = request.data.get("resource_overrides") if hasattr(request.data, "get") else None
        data = services.restart_data(self.get_object(), resource_overrides=overrides)
        return self._respond(data, status.HTTP_200_OK)

    def _related(self, queryset: QuerySet) -> Response:
        queryset = queryset.distinct().order_by("id")
        page = self.paginate_queryset(queryset)
        if page is not None:
            return self.get_paginated_response(self.get_serializer(page, many=True).data)
        return Response(self.get_serializer(queryset, many=True).data)

    @action(detail=True, methods=["get"])
    def parents(self, request: Request, pk=None) -> Response:
        """The Data objects this one depends on (inputs and the spawning parent)."""
        data = self.get_object()
        return self._related(self.get_queryset().filter(children_dependency__child=data))

    @action(detail=True, methods=["get"])
    def children(self, request: Request, pk=None) -> Response:
        """The Data objects that depend on this one."""
        data = self.get_object()
        return self._related(self.get_queryset().filter(parents_dependency__parent=data))


class StorageViewSet(ResolweViewSetMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """``GET /api/storage/<id>`` only; Resolwe has no list."""

    queryset = Storage.objects.select_related("contributor").prefetch_related("data")
    serializer_class = StorageSerializer
    filter_backends: list = []
    permission_field = None

    def filter_for_user(self, queryset: QuerySet) -> QuerySet:
        """A storage is visible when one of the Data objects that produced it is."""
        visible = permission_services.filter_for_user(Data.objects.filter(storages=OuterRef("pk")), self.request.user)
        return queryset.filter(Exists(visible))
