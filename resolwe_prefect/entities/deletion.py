"""Deleting collections and entities with everything they contain, run as a background task.

A collection takes its entities with it. Their contents are deleted first,
in the same transaction, by the apps that own them (``signals.containers_deleting``):
the data app removes the Data, their storages and, once the task commits,
their directories.
"""

from __future__ import annotations

from resolwe_prefect.tasks.runner import COMPLETED

from .models import Collection, Entity
from .signals import containers_deleting


def delete_entities(entity_ids: list[int]) -> str:
    """Delete entities and their Data."""
    containers_deleting.send(sender=Entity, ids=entity_ids)
    Entity.objects.filter(pk__in=entity_ids).delete()
    return COMPLETED


def delete_collections(collection_ids: list[int]) -> str:
    """Delete collections, their entities and their Data."""
    containers_deleting.send(sender=Collection, ids=collection_ids)
    Entity.objects.filter(collection_id__in=collection_ids).delete()
    Collection.objects.filter(pk__in=collection_ids).delete()
    return COMPLETED
