"""Deleting Data, Entities and Collections with everything they contain, run as a background task.

A collection takes its entities and Data with it, an entity its Data. The
rows go in the task's transaction; the Data directories are removed only
after it commits, so a failed delete never leaves rows without files.
"""

from __future__ import annotations

from django.db import transaction
from django.db.models import Q

from resolwe_prefect.data.models import Data, Storage
from resolwe_prefect.entities.models import Collection, Entity

from .files import remove_data_dirs

COMPLETED = "Task completed."


def _delete(data: Q, entities: Q | None = None, collections: Q | None = None) -> str:
    data_ids = list(Data.objects.filter(data).values_list("pk", flat=True))
    storage_ids = list(Storage.objects.filter(data__in=data_ids).values_list("pk", flat=True).distinct())
    Data.objects.filter(pk__in=data_ids).delete()
    # A Storage belongs to the Data that produced it; one no Data uses any more is garbage.
    Storage.objects.filter(pk__in=storage_ids, data__isnull=True).delete()
    if entities is not None:
        Entity.objects.filter(entities).delete()
    if collections is not None:
        Collection.objects.filter(collections).delete()
    transaction.on_commit(lambda: remove_data_dirs(data_ids))
    return COMPLETED


def delete_data(data_ids: list[int]) -> str:
    """Delete Data objects, their orphaned storages and their files."""
    return _delete(Q(pk__in=data_ids))


def delete_entities(entity_ids: list[int]) -> str:
    """Delete entities and their Data."""
    return _delete(Q(entity_id__in=entity_ids), entities=Q(pk__in=entity_ids))


def delete_collections(collection_ids: list[int]) -> str:
    """Delete collections, their entities and their Data."""
    return _delete(
        Q(collection_id__in=collection_ids) | Q(entity__collection_id__in=collection_ids),
        entities=Q(collection_id__in=collection_ids),
        collections=Q(pk__in=collection_ids),
    )
