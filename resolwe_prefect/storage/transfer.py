"""Copying a FileStorage between connectors, every file hash-checked, and deleting a copy.

A copy is made under a location in status ``UP`` and becomes ``OK`` only when every file is
there with the hashes recorded for it; a failure (an unreachable bucket, a changed file)
removes what was pushed and the location, so the source is never the worse for it and the
next pass tries again.
"""

from __future__ import annotations

import logging
import tempfile
from pathlib import Path

from django.db import transaction
from django.utils import timezone

from resolwe_prefect.storage import config
from resolwe_prefect.storage.access import reading
from resolwe_prefect.storage.connectors import ConnectorError, StorageConnector
from resolwe_prefect.storage.models import FileStorage, ReferencedPath, StorageLocation

logger = logging.getLogger(__name__)

HASH_FIELDS = ("md5", "crc32c", "awss3etag")


class TransferError(Exception):
    """A copy could not be completed; nothing of it is kept."""


def best_location(storage: FileStorage, exclude: str | None = None) -> StorageLocation | None:
    """The complete copy to read from: the connector with the lowest priority number."""
    locations = [
        location
        for location in storage.storage_locations.filter(status=StorageLocation.STATUS_DONE)
        if location.connector_name != exclude and location.connector_name in config.connectors()
    ]
    return min(locations, key=lambda location: config.priority(location.connector_name), default=None)


def local_location(storage: FileStorage) -> StorageLocation | None:
    """The complete copy on this host's disk, if there is one."""
    return storage.storage_locations.filter(
        connector_name=config.local_connector_name(), status=StorageLocation.STATUS_DONE
    ).first()


def remote_location(data_id: int) -> StorageLocation | None:
    """The best copy of Data ``data_id``'s files when none is on the local disk (which is otherwise authoritative)."""
    storage = FileStorage.objects.filter(data_id=data_id).first()
    if storage is None or local_location(storage) is not None:
        return None
    return best_location(storage)


def _check(connector: StorageConnector, key: str, expected: ReferencedPath) -> None:
    reported = connector.get_hashes(key)
    compared = [name for name in HASH_FIELDS if reported.get(name) and getattr(expected, name)]
    if not compared:
        raise TransferError(f"{connector.name} reports no hash of {key} to check it against.")
    for name in compared:
        if reported[name] != getattr(expected, name):
            raise TransferError(
                f"{key} on {connector.name}: {name} {reported[name]} is not the recorded {getattr(expected, name)}."
            )


def _fetch(source: StorageConnector, key: str, scratch: Path) -> Path:
    """A local file with the content of ``key`` (the file itself when the source is a local disk)."""
    local = source.local_path(key)
    if local is not None:
        if not local.is_file():
            raise TransferError(f"{key} is missing on {source.name}.")
        return local
    target = scratch / "object"
    source.get(key, target)
    return target


def location_url(storage: FileStorage, connector_name: str) -> str:
    """Where a FileStorage's files go under a connector.

    On the local disk they are the Data directory (``<DATA_DIR>/<data id>``); elsewhere they are
    keyed by the FileStorage, so the copies of a restarted Data object's earlier results (a
    FileStorage of their own, detached from it) never share keys with the new ones.
    """
    if connector_name == config.local_connector_name():
        if storage.data_id is None:
            raise TransferError(f"{storage} belongs to no Data object: it has no local directory.")
        return str(storage.data_id)
    return f"storage-{storage.pk}"


def copy_storage(storage: FileStorage, destination_name: str, source: StorageLocation | None = None) -> StorageLocation:
    """Copy every file of ``storage`` to the connector ``destination_name``; the new OK location."""
    source = source or best_location(storage, exclude=destination_name)
    if source is None:
        raise TransferError(f"{storage} has no complete copy to copy from.")
    source_connector, destination = config.connector(source.connector_name), config.connector(destination_name)
    with transaction.atomic():
        location, _created = StorageLocation.objects.get_or_create(
            connector_name=destination_name, url=location_url(storage, destination_name),
            defaults={"file_storage": storage, "status": StorageLocation.STATUS_UPLOADING},
        )  # fmt: skip
        if location.status == StorageLocation.STATUS_DONE:
            return location
        _set_status(location, StorageLocation.STATUS_UPLOADING)
    pushed: list[str] = []
    files = list(storage.files.all())
    try:
        with reading(source, f"Copy to {destination_name}"):
            for referenced in files:
                key = location.key(referenced.path)
                with tempfile.TemporaryDirectory(prefix="resolwe-storage-") as scratch:
                    destination.push(_fetch(source_connector, source.key(referenced.path), Path(scratch)), key)
                pushed.append(key)
                _check(destination, key, referenced)
    except (ConnectorError, TransferError, OSError, ValueError) as error:  # ValueError: a key no store takes
        logger.warning("Copying %s to %s failed: %s", storage, destination_name, error)
        _forget(destination, location, pushed)
        raise TransferError(str(error)) from error
    with transaction.atomic():
        location.files.set(files)
        _set_status(location, StorageLocation.STATUS_DONE)
    return location


def _set_status(location: StorageLocation, status: str) -> None:
    """A copy's own status (not a Data object's: those belong to ``data.transitions``)."""
    StorageLocation.objects.filter(pk=location.pk).update(status=status, last_update=timezone.now())
    location.refresh_from_db(fields=["status", "last_update"])


def _forget(connector: StorageConnector, location: StorageLocation, keys: list[str]) -> None:
    try:
        if keys:
            connector.delete(keys)
    except ConnectorError as error:  # unreachable: the objects stay, unreferenced, and are overwritten next time
        logger.warning("Could not remove the partial copy on %s: %s", connector.name, error)
    location.delete()


def delete_location(location: StorageLocation) -> None:
    """Delete the files of one copy and the location itself (the FileStorage's other copies stay)."""
    StorageLocation.objects.filter(pk=location.pk).update(status=StorageLocation.STATUS_DELETING)
    keys = [location.key(path) for path in location.files.values_list("path", flat=True)]
    if keys and location.connector_name in config.connectors():
        config.connector(location.connector_name).delete(keys)
    location.delete()
