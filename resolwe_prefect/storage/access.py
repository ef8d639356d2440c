"""Access logs: a copy that somebody reads is not deleted until they are done (Resolwe's locking).

A flow run's inputs are read for as long as its program runs, and the storage cleanup may
otherwise delete a local copy the moment another copy exists (a ``delete`` delay of 0).
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

from django.db.models import Exists, OuterRef
from django.utils import timezone

from resolwe_prefect.data.models import ACTIVE_STATUSES, DataDependency
from resolwe_prefect.storage.models import AccessLog, StorageLocation


def open_log(location: StorageLocation, reason: str, cause_id: int | None = None) -> AccessLog:
    """Mark ``location`` as read from now on (by the Data object ``cause_id``, if any)."""
    return AccessLog.objects.create(storage_location=location, reason=reason[:120], cause_id=cause_id)


def close_logs(cause_id: int) -> int:
    """Every reading by the Data object ``cause_id`` is over; how many were open."""
    return AccessLog.objects.filter(cause_id=cause_id, finished__isnull=True).update(finished=timezone.now())


@contextlib.contextmanager
def reading(location: StorageLocation, reason: str, cause_id: int | None = None) -> Iterator[AccessLog]:
    """``location`` is read for the duration of the block."""
    log = open_log(location, reason, cause_id)
    try:
        yield log
    finally:
        AccessLog.objects.filter(pk=log.pk).update(finished=timezone.now())


def in_use() -> Exists:
    """A StorageLocation filter expression: somebody reads it now."""
    return Exists(AccessLog.objects.filter(storage_location=OuterRef("pk"), finished__isnull=True))


def being_read(location: StorageLocation) -> bool:
    """Whether somebody reads ``location`` now."""
    return location.access_logs.filter(finished__isnull=True).exists()


def read_by_others(data_id: int, reader_id: int) -> bool:
    """Whether an unfinished Data object other than ``reader_id`` reads Data ``data_id``."""
    readers = DataDependency.objects.filter(parent_id=data_id, child__status__in=ACTIVE_STATUSES)
    return readers.exclude(child_id=reader_id).exists()
