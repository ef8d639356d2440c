"""The viewset actions that answer with a BackgroundTask, for any viewset whose operations run in the background.

* ``DELETE /api/<x>/<id>`` → 200 + task (EDIT, checked by ``ResolwePermissions``);
* ``POST /api/<x>/duplicate {"ids"}`` → task (VIEW on all, else 403 "Objects with ids … not found.");
* ``POST /api/<x>/bulk_delete {"ids"}`` → task (EDIT on all).

One mixin an action, as DRF's; ``BackgroundActionsMixin`` bundles them with
``slug_exists``. The viewset names the operations, callables of the app that
owns its objects, and how task descriptions name those objects::

    task_objects = "entities"
    delete_operation = staticmethod(delete_entities)  # (ids) -> output
    duplicate_operation = staticmethod(duplicate_entities)  # (ids, user_id, **options) -> ids of the copies
    duplicate_options = ("inherit_collection",)  # the request's options the operation takes

Apps build their own background actions on ``checked_body``, ``with_level``
and ``task_response`` (the entities app's ``move_to_collection``). Anonymous
POSTs never get here: ``ResolwePermissions`` answers 403 "Authentication
credentials were not provided.".
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from drf_spectacular.utils import extend_schema
from rest_framework import status
from rest_framework.decorators import action
from rest_framework.exceptions import PermissionDenied
from rest_framework.generics import GenericAPIView
from rest_framework.request import Request
from rest_framework.response import Response

from resolwe_prefect.api.views import SlugExistsMixin, ViewSetBase
from resolwe_prefect.permissions import services as permission_services
from resolwe_prefect.permissions.models import Permission

from . import services
from .models import BackgroundTask
from .serializers import BackgroundTaskSerializer, DuplicateSerializer, IdsSerializer
from .services import joined_ids


def task_response(task: BackgroundTask) -> Response:
    """200 with the task to poll, as every background action answers."""
    return Response(BackgroundTaskSerializer(task).data, status=status.HTTP_200_OK)


def with_level(view: GenericAPIView, ids: list[int], level: int) -> set[int]:
    """The ids among ``ids`` of the view's model on which the caller holds ``level``."""
    queryset = view.queryset.model.objects.filter(pk__in=ids)
    queryset = permission_services.filter_for_user(queryset, view.request.user, level)
    return set(queryset.values_list("pk", flat=True))


def checked_body(view: GenericAPIView, serializer_class: type[IdsSerializer], level: int, verb: str) -> dict:
    """The request body, once the caller holds ``level`` on every one of its ``ids``.

    Invisible or unknown ids → 403 "not found"; visible ones without ``level`` → 403 "no permission".
    """
    serializer = serializer_class(data=view.request.data)
    serializer.is_valid(raise_exception=True)
    ids = serializer.validated_data["ids"]
    visible = with_level(view, ids, Permission.VIEW)
    if missing := set(ids) - visible:
        raise PermissionDenied(f"Objects with ids {joined_ids(missing)} not found.")
    if level > Permission.VIEW and (lacking := visible - with_level(view, ids, level)):
        raise PermissionDenied(f"No permission to {verb} objects with ids {joined_ids(lacking)}.")
    return serializer.validated_data


class BackgroundDestroyMixin(ViewSetBase):
    """``DELETE /api/<x>/<id>`` deletes in a background task."""

    task_objects: str
    delete_operation: Callable[[list[int]], Any]

    @extend_schema(responses={200: BackgroundTaskSerializer})
    def destroy(self, request: Request, *args, **kwargs) -> Response:
        """Delete in the background (the object, its contents and files); 200 with the task to poll."""
        instance = self.get_object()  # 404 when invisible, 403 without EDIT
        return task_response(
            services.start_delete(self.delete_operation, [instance.pk], request.user, objects=self.task_objects)
        )


class DuplicateMixin(ViewSetBase):
    """``POST /api/<x>/duplicate``: copies made in a background task."""

    task_objects: str
    duplicate_operation: Callable[..., list[int]]
    #: The body's options (``DuplicateSerializer``) that ``duplicate_operation`` takes as keyword arguments.
    duplicate_options: tuple[str, ...] = ()

    @extend_schema(request=DuplicateSerializer, responses={200: BackgroundTaskSerializer}, filters=False)
    @action(detail=False, methods=["post"])
    def duplicate(self, request: Request) -> Response:
        """Copy the objects in the background; the task's output is the list of the copies' ids."""
        body = checked_body(self, DuplicateSerializer, Permission.VIEW, "duplicate")
        options = {name: body[name] for name in self.duplicate_options}
        return task_response(
            services.start_duplicate(
                self.duplicate_operation, body["ids"], request.user, objects=self.task_objects, **options
            )
        )


class BulkDeleteMixin(ViewSetBase):
    """``POST /api/<x>/bulk_delete``: several objects deleted in one background task."""

    task_objects: str
    delete_operation: Callable[[list[int]], Any]

    @extend_schema(request=IdsSerializer, responses={200: BackgroundTaskSerializer}, filters=False)
    @action(detail=False, methods=["post"])
    def bulk_delete(self, request: Request) -> Response:
        """Delete several objects in the background; needs EDIT on every one."""
        body = checked_body(self, IdsSerializer, Permission.EDIT, "delete")
        return task_response(
            services.start_delete(self.delete_operation, body["ids"], request.user, objects=self.task_objects)
        )


class BackgroundActionsMixin(BackgroundDestroyMixin, DuplicateMixin, BulkDeleteMixin, SlugExistsMixin):
    """Delete, bulk delete, duplicate and ``slug_exists`` for a Resolwe viewset.

    ``task_kind`` (``data``, ``entity`` or ``collection``) selects the services.
    """

    # This docstring is published: drf-spectacular describes the operations of /api/data and /api/collection that
    # have no docstring of their own with the first one in the viewset's MRO. It is kept word for word, so that the
    # API schema stays as it was, until those viewsets get descriptions of their own; its second sentence tells of
    # the selection by kind this module replaced. The viewset names its operations (see the module's docstring).
