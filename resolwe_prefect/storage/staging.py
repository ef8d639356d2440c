"""Bringing a Data object's files back to the local disk for a program that reads them.

A flow run whose inputs are kept only in object storage stages them first (the
``stage-inputs`` task of the flow run): the files of the best copy are downloaded into the
input's Data directory and become its local location again. After the run, a copy staged by
it is removed again unless another unfinished Data object also reads it; a staged copy is
hash-checked like every other.
"""

from __future__ import annotations

from django.db import transaction

from resolwe_prefect.storage import config
from resolwe_prefect.storage.access import being_read, close_logs, open_log, read_by_others
from resolwe_prefect.storage.models import FileStorage, StorageLocation
from resolwe_prefect.storage.transfer import copy_storage, delete_location, local_location


def _readable(location: StorageLocation) -> None:
    """Staged files are read by programs running as other users, as every input is."""
    local = config.local_connector()
    for path in location.files.values_list("path", flat=True):
        target = local.local_path(location.key(path))
        if target is None:
            continue
        target.chmod(0o644)
        for parent in target.parents:
            if parent == local.local_path(location.url):
                parent.chmod(0o755)
                break
            parent.chmod(0o755)


def stage_inputs(data_ids: list[int], reader_id: int | None = None) -> list[int]:
    """Download every input kept only in object storage; the ids of those staged.

    The local copy of every input is then read by ``reader_id`` (an access log), so the cleanup
    leaves it until :func:`unstage`. On a scratch workspace (``config.local_is_scratch``) every
    input is fetched, unrecorded.
    """
    if config.local_is_scratch():
        from resolwe_prefect.storage import scratch

        return scratch.fetch(data_ids, reader_id)
    staged: list[int] = []
    for data_id in data_ids:
        with transaction.atomic():
            # One stager per input at a time: a second flow run waits, then finds the local copy.
            storage = FileStorage.objects.select_for_update().filter(data_id=data_id).first()
            if storage is None:
                continue
            location = local_location(storage)
            if location is None:
                location = copy_storage(storage, config.local_connector_name())
                _readable(location)
                staged.append(data_id)
            if reader_id is not None:
                open_log(location, f"Input of Data {reader_id}", reader_id)
    return staged


def unstage(data_ids: list[int], reader_id: int) -> list[int]:
    """Close the readings of ``reader_id``; remove the copies staged for it that no other unfinished reader needs."""
    close_logs(reader_id)
    if config.local_is_scratch():
        from resolwe_prefect.storage import scratch

        return scratch.release(data_ids, reader_id)
    removed: list[int] = []
    for data_id in data_ids:
        if read_by_others(data_id, reader_id):
            continue
        storage = FileStorage.objects.filter(data_id=data_id).first()
        location = local_location(storage) if storage is not None else None
        if location is None:
            continue
        elsewhere = storage.storage_locations.filter(status=StorageLocation.STATUS_DONE).exclude(pk=location.pk)
        if elsewhere.exists() and not being_read(location):  # never the last copy
            delete_location(location)
            removed.append(data_id)
    return removed
