"""The viewset actions that answer with a BackgroundTask, shared by data, entity and collection.

* ``DELETE /api/<x>/<id>`` → 200 + task (EDIT, checked by ``ResolwePermissions``);
* ``POST /api/<x>/duplicate {"ids"}`` → task (VIEW on all, else 403 "Objects with ids … not found.");
* ``POST /api/<x>/bulk_delete {"ids"}`` → task (EDIT on all);
* ``POST /api/<data|entity>/move_to_collection {"ids", "destination_collection"}`` → task
  (EDIT on the objects and on the destination).

One mixin an action, as DRF's; ``BackgroundActionsMixin`` bundles the first
three with ``slug_exists`` for the three viewsets. ``task_kind`` (``data``,
``entity`` or ``collection``) selects the services. Anonymous POSTs never get
here: ``ResolwePermissions`` answers 403 "Authentication credentials were not provided.".
"""

from __future__ import annotations

from django.core.exceptions import ValidationError as DjangoValidationError
from drf_spectacular.utils import extend_schema
from rest_framework import status
from rest_framework.decorators import action
from rest_framework.exceptions import ParseError, PermissionDenied, ValidationError
from rest_framework.generics import GenericAPIView
from rest_framework.request import Request
from rest_framework.response import Response

from resolwe_prefect.api.views import SlugExistsMixin
from resolwe_prefect.entities.models import Collection
from resolwe_prefect.permissions import services as permission_services
from resolwe_prefect.permissions.models import Permission

from . import services
from .moving import MoveError, check_data_movable
from .serializers import BackgroundTaskSerializer, DuplicateSerializer, IdsSerializer, MoveToCollectionSerializer

#: How Resolwe names a kind of object in "not found" messages of ``move_to_collection``.
NOT_FOUND_NAMES = {"data": "Data objects", "entity": "Entities"}


def _joined(ids) -> str:
    return ", ".join(map(str, sorted(ids)))


def _task_response(task) -> Response:
    return Response(BackgroundTaskSerializer(task).data, status=status.HTTP_200_OK)


def _with_level(view: GenericAPIView, ids: list[int], level: int) -> set[int]:
    """The ids among ``ids`` of the view's model on which the caller holds ``level``."""
    queryset = view.queryset.model.objects.filter(pk__in=ids)
    queryset = permission_services.filter_for_user(queryset, view.request.user, level)
    return set(queryset.values_list("pk", flat=True))


def _checked_body(view: GenericAPIView, serializer_class: type[IdsSerializer], level: int, verb: str) -> dict:
    """The request body, once the caller holds ``level`` on every one of its ``ids``.

    Invisible or unknown ids → 403 "not found"; visible ones without ``level`` → 403 "no permission".
    """
    serializer = serializer_class(data=view.request.data)
    serializer.is_valid(raise_exception=True)
    ids = serializer.validated_data["ids"]
    visible = _with_level(view, ids, Permission.VIEW)
    if missing := set(ids) - visible:
        raise PermissionDenied(f"Objects with ids {_joined(missing)} not found.")
    if level > Permission.VIEW and (lacking := visible - _with_level(view, ids, level)):
        raise PermissionDenied(f"No permission to {verb} objects with ids {_joined(lacking)}.")
    return serializer.validated_data


class BackgroundDestroyMixin:
    """``DELETE /api/<x>/<id>`` deletes in a background task."""

    task_kind: str

    @extend_schema(responses={200: BackgroundTaskSerializer})
    def destroy(self, request: Request, *args, **kwargs) -> Response:
        """Delete in the background (the object, its contents and files); 200 with the task to poll."""
        instance = self.get_object()  # 404 when invisible, 403 without EDIT
        return _task_response(services.start_delete(self.task_kind, [instance.pk], request.user))


class DuplicateMixin:
    """``POST /api/<x>/duplicate``: copies made in a background task."""

    task_kind: str

    @extend_schema(request=DuplicateSerializer, responses={200: BackgroundTaskSerializer}, filters=False)
    @action(detail=False, methods=["post"])
    def duplicate(self, request: Request) -> Response:
        """Copy the objects in the background; the task's output is the list of the copies' ids."""
        body = _checked_body(self, DuplicateSerializer, Permission.VIEW, "duplicate")
        options = {"inherit_collection": body["inherit_collection"]}
        if self.task_kind == "data":
            options["inherit_entity"] = body["inherit_entity"]
        if self.task_kind == "collection":
            options = {}
        return _task_response(services.start_duplicate(self.task_kind, body["ids"], request.user, **options))


class BulkDeleteMixin:
    """``POST /api/<x>/bulk_delete``: several objects deleted in one background task."""

    task_kind: str

    @extend_schema(request=IdsSerializer, responses={200: BackgroundTaskSerializer}, filters=False)
    @action(detail=False, methods=["post"])
    def bulk_delete(self, request: Request) -> Response:
        """Delete several objects in the background; needs EDIT on every one."""
        body = _checked_body(self, IdsSerializer, Permission.EDIT, "delete")
        return _task_response(services.start_delete(self.task_kind, body["ids"], request.user))


class BackgroundActionsMixin(BackgroundDestroyMixin, DuplicateMixin, BulkDeleteMixin, SlugExistsMixin):
    """Delete, bulk delete, duplicate and ``slug_exists`` for a Resolwe viewset.

    ``task_kind`` (``data``, ``entity`` or ``collection``) selects the services.
    """


class MoveToCollectionMixin:
    """``move_to_collection`` for entities and Data (collections cannot be moved)."""

    task_kind: str

    @extend_schema(request=MoveToCollectionSerializer, responses={200: BackgroundTaskSerializer}, filters=False)
    @action(detail=False, methods=["post"])
    def move_to_collection(self, request: Request) -> Response:
        """Move the objects into ``destination_collection`` in the background; EDIT on both sides."""
        serializer = MoveToCollectionSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        ids, collection_id = serializer.validated_data["ids"], serializer.validated_data["destination_collection"]
        collection = Collection.objects.filter(pk=collection_id).first()
        level = permission_services.user_level(request.user, collection) if collection else Permission.NONE
        if level < Permission.VIEW:
            raise ValidationError({"destination_collection": ["Collection id does not exist"]})
        if level < Permission.EDIT:
            raise PermissionDenied(f"You do not have edit permission on destination_collection {collection_id}.")
        visible = _with_level(self, ids, Permission.VIEW)
        if missing := set(ids) - visible:
            raise ParseError(f"{NOT_FOUND_NAMES[self.task_kind]} with the following ids not found: {_joined(missing)}")
        if lacking := visible - _with_level(self, ids, Permission.EDIT):
            raise PermissionDenied(f"No permission to move objects with ids {_joined(lacking)}.")
        if self.task_kind == "data":
            try:
                check_data_movable(ids, collection_id)
            except MoveError as error:  # 400 {"error": "..."}, as Resolwe's model-level refusal
                raise DjangoValidationError(str(error)) from error
        return _task_response(services.start_move(self.task_kind, ids, collection_id, request.user))
