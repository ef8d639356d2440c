"""``POST /api/<data|entity>/move_to_collection {"ids", "destination_collection"}`` → BackgroundTask.

Needs EDIT on the objects and on the destination; collections cannot be
moved. Built on the tasks app's background actions: the viewset names the
operation and how task descriptions name its objects::

    task_objects = "entities"
    move_operation = staticmethod(move_entities)  # (ids, collection_id) -> output

and may refuse, before any task starts, a move its objects' structure
forbids (``check_movable``).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from drf_spectacular.utils import extend_schema
from rest_framework.decorators import action
from rest_framework.exceptions import ParseError, PermissionDenied, ValidationError
from rest_framework.request import Request
from rest_framework.response import Response

from resolwe_prefect.api.views import ViewSetBase
from resolwe_prefect.permissions import services as permission_services
from resolwe_prefect.permissions.models import Permission
from resolwe_prefect.tasks.actions import task_response, with_level
from resolwe_prefect.tasks.models import BackgroundTask
from resolwe_prefect.tasks.runner import start_task
from resolwe_prefect.tasks.serializers import BackgroundTaskSerializer
from resolwe_prefect.tasks.services import joined_ids

from .models import Collection
from .serializers import MoveToCollectionSerializer


def start_move(
    operation: Callable[[list[int], int], Any], ids: list[int], collection_id: int, user, *, objects: str
) -> BackgroundTask:
    """Run ``operation(ids, collection_id)``, which moves the objects into the collection."""
    ids = sorted(set(ids))
    description = f"Move {objects} with ids {joined_ids(ids)} to collection {collection_id}."
    return start_task(user, description, operation, ids, collection_id)


class MoveToCollectionMixin(ViewSetBase):
    """``move_to_collection`` for entities and Data (collections cannot be moved)."""

    task_objects: str
    move_operation: Callable[[list[int], int], Any]

    def check_movable(self, ids: list[int], collection_id: int) -> None:
        """Refuse a move the objects' structure forbids, before a task starts (raise an API error)."""

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
        visible = with_level(self, ids, Permission.VIEW)
        if missing := set(ids) - visible:
            # "Data objects" / "Entities", as Resolwe names them
            raise ParseError(
                f"{self.task_objects.capitalize()} with the following ids not found: {joined_ids(missing)}"
            )
        if lacking := visible - with_level(self, ids, Permission.EDIT):
            raise PermissionDenied(f"No permission to move objects with ids {joined_ids(lacking)}.")
        self.check_movable(ids, collection_id)
        return task_response(
            start_move(self.move_operation, ids, collection_id, request.user, objects=self.task_objects)
        )
