"""Moving entities (with their Data) and Data into another collection, run as a background task.

A moved object joins the destination's permission group (permissions are
replaced, not merged) and takes its tags, as in Resolwe. Data inside an
entity can only move with its entity, or the entity and its Data would end
up in different collections.
"""

from __future__ import annotations

from resolwe_prefect.data.models import Data
from resolwe_prefect.entities.models import Collection, Entity
from resolwe_prefect.permissions.services import join_container

from .deletion import COMPLETED

IN_ENTITY = "If Data is in entity, you can only move it to another collection by moving entire entity."


class MoveError(ValueError):
    """The move would break the collection/entity structure."""


def check_data_movable(data_ids: list[int], collection_id: int) -> None:
    """Refuse Data that sits in an entity of another collection (checked before and inside the task)."""
    stuck = Data.objects.filter(pk__in=data_ids, entity__isnull=False).exclude(entity__collection_id=collection_id)
    if stuck.exists():
        raise MoveError(IN_ENTITY)


def move_entities(entity_ids: list[int], collection_id: int) -> str:
    """Move entities and their Data; the destination gains the annotation fields of the collections they left."""
    destination = Collection.objects.select_for_update().get(pk=collection_id)
    for entity in Entity.objects.select_for_update(of=("self",)).select_related("collection").filter(pk__in=entity_ids):
        source = entity.collection
        if source is not None and source.pk != destination.pk:
            destination.annotation_fields.add(*source.annotation_fields.all())
        entity.collection, entity.tags = destination, list(destination.tags)
        entity.save(update_fields=["collection", "tags", "modified"])
        entity.data.update(collection=destination, tags=list(destination.tags))
        join_container(entity)
    return COMPLETED


def move_data(data_ids: list[int], collection_id: int) -> str:
    """Move Data objects that are not bound to an entity of another collection."""
    check_data_movable(data_ids, collection_id)
    destination = Collection.objects.select_for_update().get(pk=collection_id)
    for data in Data.objects.select_for_update().filter(pk__in=data_ids):
        data.collection, data.tags = destination, list(destination.tags)
        data.save(update_fields=["collection", "tags", "modified"])
        join_container(data)
    return COMPLETED
