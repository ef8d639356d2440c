"""Recording a finished Data object's files: its FileStorage, local location and ReferencedPaths.

Every Data object that finishes OK is recorded when its transaction commits
(``data.transitions.data_finished``); objects that reach OK otherwise (duplicates, objects
that existed before the storage app) are recorded by :func:`record_unrecorded`, which the
storage manager runs first on every pass and the app's migration runs once.
"""

from __future__ import annotations

import logging
import stat
from pathlib import Path
from typing import Any

from django.db import IntegrityError, transaction

from resolwe_prefect.data import layout
from resolwe_prefect.data.models import Data, DataStatus
from resolwe_prefect.runtime import safepath
from resolwe_prefect.storage import config
from resolwe_prefect.storage.access import close_logs
from resolwe_prefect.storage.hashing import CHUNK_SIZE, compute_hashes
from resolwe_prefect.storage.models import FileStorage, ReferencedPath, StorageLocation

logger = logging.getLogger(__name__)


def data_files(data_id: int) -> list[tuple[str, Path, int]]:
    """``(path relative to the Data directory, host path, size)`` of its regular files, sorted.

    Links, FIFOs and devices are not Data files (the server never serves them either).
    """
    root = layout.data_dir(data_id)
    found = [
        (path.relative_to(root).as_posix(), path, info.st_size)
        for path, info in safepath.walk(root)
        if stat.S_ISREG(info.st_mode)
    ]
    return sorted(found)


def record_data(data_id: int) -> FileStorage | None:
    """Record the files of a Data object that is OK and not recorded yet; its FileStorage.

    A FileStorage recorded before the object's current attempt began holds a restarted
    object's earlier results: it is detached (its local location is the directory the new
    results are in, so only that row goes) and its other copies are left to the cleanup, which
    deletes the copies of FileStorages without Data.
    """
    with transaction.atomic():
        data = Data.objects.select_for_update().filter(pk=data_id, status=DataStatus.DONE).first()
        if data is None or not layout.data_dir(data_id).is_dir():  # not on this host's disk: nothing to record
            return None
        return record_files(data)


def record_files(data: Data) -> FileStorage:
    """The FileStorage of ``data``'s current results, recorded now from its Data directory if needed.

    Called under the Data row's lock: when it finishes (``record_data``), or just before, by a
    flow run whose Data directory is a scratch workspace (``scratch.publish``).
    """
    existing = FileStorage.objects.filter(data=data).first()
    if existing is not None:
        attempt_began = data.started or data.finished
        if attempt_began is None or existing.created >= attempt_began:
            return existing
        existing.storage_locations.filter(connector_name=config.local_connector_name()).delete()
        existing.data = None
        existing.save(update_fields=["data"])
    storage = FileStorage.objects.create(data=data)
    location = StorageLocation.objects.create(
        file_storage=storage,
        url=str(data.pk),
        connector_name=config.local_connector_name(),
        status=StorageLocation.STATUS_DONE,
    )
    paths = [
        ReferencedPath(file_storage=storage, path=relative, size=size, chunk_size=CHUNK_SIZE, **compute_hashes(path))
        for relative, path, size in data_files(data.pk)
    ]
    ReferencedPath.objects.bulk_create(paths)
    location.files.set(ReferencedPath.objects.filter(file_storage=storage))
    return storage


def record_unrecorded(limit: int | None = None) -> int:
    """Record every OK Data object without a FileStorage; how many were recorded."""
    pending = Data.objects.filter(status=DataStatus.DONE, location__isnull=True).order_by("pk")
    ids = list(pending.values_list("pk", flat=True)[:limit] if limit else pending.values_list("pk", flat=True))
    recorded = 0
    for data_id in ids:
        try:
            recorded += record_data(data_id) is not None
        except IntegrityError:  # recorded meanwhile by another process
            continue
    return recorded


def _on_finished(sender: Any, *, data_id: int, **kwargs: Any) -> None:
    close_logs(data_id)  # however its flow run ended, a finished object reads no inputs any more
    try:
        record_data(data_id)
    except Exception:  # noqa: BLE001 - the storage manager records it on its next pass
        logger.exception("Could not record the files of Data %s; the storage manager will.", data_id)


def connect() -> None:
    from resolwe_prefect.data.transitions import data_finished

    data_finished.connect(_on_finished, dispatch_uid="storage-record")
