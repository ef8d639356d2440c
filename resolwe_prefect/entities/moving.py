"""Moving entities, with their Data, into another collection, run as a background task.

A moved entity joins the destination's permission group (permissions are
replaced, not merged) and takes its tags, and so does its Data, as in
Resolwe. The Data is reached through the entity's reverse relation, so this
app needs no import of the data app.
"""

from __future__ import annotations

from resolwe_prefect.permissions.services import join_container
from resolwe_prefect.tasks.runner import COMPLETED

from .models import Collection, Entity


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
