"""One pass of the storage manager (``runstoragemanager``) and of the cleanup (``runstoragecleanup``).

The manager records what is not recorded yet, then copies each FileStorage to every connector
whose ``copy`` rule's delay has passed since it was recorded. The cleanup deletes a copy when
its connector's ``delete`` rule allows it (the delay since the copy's last update has passed)
and at least ``min_other_copies`` other complete, hash-checked copies exist, and nobody reads it
(an open access log: a running program's input, a copy being made); it never deletes the last
copy. Copies of deleted Data objects go, all of them.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import timedelta

from django.db.models import Count, Q
from django.utils import timezone

from resolwe_prefect.storage import config
from resolwe_prefect.storage.access import in_use
from resolwe_prefect.storage.connectors import ConnectorError
from resolwe_prefect.storage.models import AccessLog, FileStorage, StorageLocation
from resolwe_prefect.storage.record import record_unrecorded
from resolwe_prefect.storage.transfer import TransferError, copy_storage, delete_location

logger = logging.getLogger(__name__)


@dataclass
class PassReport:
    """What one pass did."""

    recorded: int = 0
    copied: list[tuple[int, str]] = field(default_factory=list)  # (data id, connector)
    deleted: list[tuple[int | None, str]] = field(default_factory=list)
    failed: list[str] = field(default_factory=list)

    def lines(self) -> list[str]:
        return [
            f"recorded {self.recorded}",
            *(f"copied Data {data_id} to {name}" for data_id, name in self.copied),
            *(f"deleted the copy of Data {data_id} on {name}" for data_id, name in self.deleted),
            *(f"failed: {reason}" for reason in self.failed),
        ]


def _identity(storage: FileStorage) -> tuple[str | None, str | None]:
    data = storage.data
    return (data.slug, data.process.type) if data is not None else (None, None)


def run_manager() -> PassReport:
    """Record, then copy by the ``copy`` rules."""
    report = PassReport(recorded=record_unrecorded())
    now = timezone.now()
    targets = [name for name in config.connectors() if name != config.local_connector_name()]
    storages = FileStorage.objects.filter(data__isnull=False).select_related("data", "data__process")
    for storage in storages.filter(storage_locations__status=StorageLocation.STATUS_DONE).distinct():
        slug, process_type = _identity(storage)
        for name in targets:
            rule = config.rule(name, "copy", slug, process_type)
            if rule is None or storage.created > now - timedelta(days=rule.delay_days):
                continue
            if storage.storage_locations.filter(connector_name=name, status=StorageLocation.STATUS_DONE).exists():
                continue
            try:
                copy_storage(storage, name)
                report.copied.append((storage.data_id, name))
            except TransferError as error:
                report.failed.append(f"copy of Data {storage.data_id} to {name}: {error}")
    return report


#: How long a finished reading stays in the access logs (for whoever asks what read a copy).
ACCESS_LOG_DAYS = 30


def run_cleanup() -> PassReport:
    """Delete copies by the ``delete`` rules, and every copy of deleted Data objects."""
    report = PassReport()
    now = timezone.now()
    AccessLog.objects.filter(finished__lt=now - timedelta(days=ACCESS_LOG_DAYS)).delete()
    done = Q(storage_locations__status=StorageLocation.STATUS_DONE)
    storages = FileStorage.objects.select_related("data", "data__process").annotate(
        copies=Count("storage_locations", filter=done)
    )
    for storage in storages.filter(data__isnull=True):
        for location in list(storage.storage_locations.exclude(in_use())):
            _delete(location, None, report)
        if not storage.storage_locations.exists():
            storage.delete()
    for storage in storages.filter(data__isnull=False, copies__gt=1):
        slug, process_type = _identity(storage)
        for location in list(storage.storage_locations.filter(status=StorageLocation.STATUS_DONE).exclude(in_use())):
            rule = config.rule(location.connector_name, "delete", slug, process_type)
            if rule is None or location.last_update > now - timedelta(days=rule.delay_days):
                continue
            others = storage.storage_locations.filter(status=StorageLocation.STATUS_DONE).exclude(pk=location.pk)
            # Every copy is hash-checked when it is made: an OK location is a complete one.
            if others.count() < max(rule.min_other_copies, 1):
                continue
            _delete(location, storage.data_id, report)
    return report


def _delete(location: StorageLocation, data_id: int | None, report: PassReport) -> None:
    try:
        delete_location(location)
        report.deleted.append((data_id, location.connector_name))
    except ConnectorError as error:
        StorageLocation.objects.filter(pk=location.pk).update(status=StorageLocation.STATUS_DONE)
        report.failed.append(f"delete of the copy of Data {data_id} on {location.connector_name}: {error}")
