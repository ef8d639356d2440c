"""Starting the background operations behind Resolwe's delete, duplicate and move actions.

Views check permissions and input; these functions only record the task
and schedule the work (``runner.start_task``), so the same operations can
be started from management commands or other services without HTTP.
"""

from __future__ import annotations

from . import deletion, duplicate, moving
from .models import BackgroundTask
from .runner import start_task

#: What the caller calls a kind of object, in task descriptions.
KIND_NAMES = {"data": "data objects", "entity": "entities", "collection": "collections"}

_DUPLICATE = {
    "data": duplicate.duplicate_data,
    "entity": duplicate.duplicate_entities,
    "collection": duplicate.duplicate_collections,
}
_DELETE = {
    "data": deletion.delete_data,
    "entity": deletion.delete_entities,
    "collection": deletion.delete_collections,
}
_MOVE = {"data": moving.move_data, "entity": moving.move_entities}


def _ids(ids: list[int]) -> str:
    return ", ".join(map(str, sorted(set(ids))))


def start_duplicate(kind: str, ids: list[int], user, **options: bool) -> BackgroundTask:
    """Duplicate objects of ``kind`` for ``user``; the task's output is the list of the copies' ids.

    ``options`` are ``inherit_collection`` (entities, Data) and ``inherit_entity`` (Data).
    """
    ids = sorted(set(ids))
    return start_task(
        user, f"Duplicate {KIND_NAMES[kind]} with ids {_ids(ids)}.", _DUPLICATE[kind], ids, user.pk, **options
    )


def start_delete(kind: str, ids: list[int], user) -> BackgroundTask:
    """Delete objects of ``kind`` with their contents and files."""
    ids = sorted(set(ids))
    return start_task(user, f"Delete {KIND_NAMES[kind]} with ids {_ids(ids)}.", _DELETE[kind], ids)


def start_move(kind: str, ids: list[int], collection_id: int, user) -> BackgroundTask:
    """Move entities or Data into ``collection_id``."""
    ids = sorted(set(ids))
    description = f"Move {KIND_NAMES[kind]} with ids {_ids(ids)} to collection {collection_id}."
    return start_task(user, description, _MOVE[kind], ids, collection_id)
