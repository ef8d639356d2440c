"""Deleting Data with its storages and files, run as a background task, alone or with its containers.

The rows go in the task's transaction; the Data directories are removed
only after it commits, so a failed delete never leaves rows without files.
When collections or entities are deleted (``entities.deletion``), their Data
goes first, the same way (``connect``).
"""

from __future__ import annotations

from django.db import transaction
from django.db.models import Q

from resolwe_prefect.entities.models import Collection, Entity
from resolwe_prefect.entities.signals import containers_deleting
from resolwe_prefect.tasks.runner import COMPLETED

from .files import remove_data_dirs
from .models import Data, Storage


def _delete(data: Q) -> None:
    data_ids = list(Data.objects.filter(data).values_list("pk", flat=True))
    storage_ids = list(Storage.objects.filter(data__in=data_ids).values_list("pk", flat=True).distinct())
    Data.objects.filter(pk__in=data_ids).delete()
    # A Storage belongs to the Data that produced it; one no Data uses any more is garbage.
    Storage.objects.filter(pk__in=storage_ids, data__isnull=True).delete()
    transaction.on_commit(lambda: remove_data_dirs(data_ids))


def delete_data(data_ids: list[int]) -> str:
    """Delete Data objects, their orphaned storages and their files."""
    _delete(Q(pk__in=data_ids))
    return COMPLETED


def _delete_data_of_entities(sender, *, ids: list[int], **kwargs) -> None:
    _delete(Q(entity_id__in=ids))


def _delete_data_of_collections(sender, *, ids: list[int], **kwargs) -> None:
    _delete(Q(collection_id__in=ids) | Q(entity__collection_id__in=ids))


def connect() -> None:
    """Delete the Data of collections and entities that are being deleted (``DataConfig.ready``)."""
    containers_deleting.connect(_delete_data_of_entities, sender=Entity, dispatch_uid=f"{__name__}.entities")
    containers_deleting.connect(_delete_data_of_collections, sender=Collection, dispatch_uid=f"{__name__}.collections")
