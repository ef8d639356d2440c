"""Moving Data into another collection, run as a background task.

A moved object joins the destination's permission group (permissions are
replaced, not merged) and takes its tags, as in Resolwe. Data inside an
entity can only move with its entity (``entities.moving``), or the entity
and its Data would end up in different collections.
"""

from __future__ import annotations

from resolwe_prefect.entities.models import Collection
from resolwe_prefect.permissions.services import join_container
from resolwe_prefect.tasks.runner import COMPLETED

from .models import Data

IN_ENTITY = "If Data is in entity, you can only move it to another collection by moving entire entity."


class MoveError(ValueError):
    """The move would break the collection/entity structure."""


def check_data_movable(data_ids: list[int], collection_id: int) -> None:
    """Refuse Data that sits in an entity of another collection (checked before and inside the task)."""
    stuck = Data.objects.filter(pk__in=data_ids, entity__isnull=False).exclude(entity__collection_id=collection_id)
    if stuck.exists():
        raise MoveError(IN_ENTITY)


def move_data(data_ids: list[int], collection_id: int) -> str:
    """Move Data objects that are not bound to an entity of another collection."""
    check_data_movable(data_ids, collection_id)
    destination = Collection.objects.select_for_update().get(pk=collection_id)
    for data in Data.objects.select_for_update().filter(pk__in=data_ids):
        data.collection, data.tags = destination, list(destination.tags)
        data.save(update_fields=["collection", "tags", "modified"])
        join_container(data)
    return COMPLETED
