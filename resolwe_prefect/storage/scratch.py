"""Data directories on a scratch workspace: results published to object storage, inputs fetched from it.

Where no volume is shared by the API and every worker (Kubernetes without ReadWriteMany,
``STORAGE_LOCAL_SCRATCH``), a flow run's Data directories live on a workspace that goes with
its pod. So a flow run publishes its results to object storage before its Data object
finishes (a dependant never starts before its inputs can be fetched), and fetches its inputs
from there first. No location on a scratch disk is ever recorded: another pod could not read
it. Every fetched file is checked against its recorded md5 and size.
"""

from __future__ import annotations

import logging
import os
import tempfile
from pathlib import Path, PurePosixPath

from django.db import transaction

from resolwe_prefect.data import layout
from resolwe_prefect.data.models import Data
from resolwe_prefect.storage import config
from resolwe_prefect.storage.access import read_by_others, reading
from resolwe_prefect.storage.connectors import ConnectorError
from resolwe_prefect.storage.hashing import compute_hashes
from resolwe_prefect.storage.models import FileStorage, ReferencedPath, StorageLocation
from resolwe_prefect.storage.record import record_files
from resolwe_prefect.storage.transfer import TransferError, best_location, copy_storage, delete_location

logger = logging.getLogger(__name__)


def publish(data_id: int) -> FileStorage:
    """Record the results in the Data directory, copy them to object storage, free the workspace.

    Raises :class:`TransferError` when the copy cannot be completed (nothing is kept of it).
    """
    with transaction.atomic():
        data = Data.objects.select_for_update().get(pk=data_id)
        storage = record_files(data)
    local = storage.storage_locations.filter(connector_name=config.local_connector_name())
    try:
        copy_storage(storage, config.publish_connector_name())
    except TransferError:
        local.delete()  # the files stay for the pod's last moments; no other host could read them
        raise
    for location in local:
        delete_location(location)
    return storage


def _target(root: Path, path: str) -> Path:
    relative = PurePosixPath(path)
    if relative.is_absolute() or ".." in relative.parts or not relative.parts:
        raise TransferError(f"Recorded path {path!r} is not inside a Data directory.")
    return root.joinpath(*relative.parts)


def _present(root: Path, files: list[ReferencedPath]) -> bool:
    """Whether every file is already here with its recorded size (fetched by an earlier run on this host)."""
    for referenced in files:
        target = _target(root, referenced.path)
        if not target.is_file() or target.stat().st_size != referenced.size:
            return False
    return True


def _download(source: StorageLocation, files: list[ReferencedPath], root: Path) -> None:
    connector = config.connector(source.connector_name)
    root.mkdir(parents=True, exist_ok=True)
    root.chmod(0o755)
    for referenced in files:
        target = _target(root, referenced.path)
        target.parent.mkdir(parents=True, exist_ok=True)
        handle, name = tempfile.mkstemp(prefix=".fetch-", dir=target.parent)
        os.close(handle)
        partial = Path(name)
        try:
            connector.get(source.key(referenced.path), partial)
            hashes = compute_hashes(partial)
            if partial.stat().st_size != referenced.size or hashes["md5"] != referenced.md5:
                raise TransferError(f"{referenced.path} from {source.connector_name} is not the recorded file.")
            partial.chmod(0o644)
            partial.replace(target)
        except (ConnectorError, OSError) as error:
            raise TransferError(f"Could not fetch {referenced.path} from {source.connector_name}: {error}") from error
        finally:
            partial.unlink(missing_ok=True)
    for directory in (path for path in root.rglob("*") if path.is_dir()):
        directory.chmod(0o755)


def fetch(data_ids: list[int], reader_id: int | None = None) -> list[int]:
    """Download the files of every input from object storage into this workspace; the ids fetched."""
    fetched: list[int] = []
    local_name = config.local_connector_name()
    for data_id in data_ids:
        with transaction.atomic():
            # One fetcher per input on this host at a time: a second flow run waits, then finds the files.
            storage = FileStorage.objects.select_for_update().filter(data_id=data_id).first()
            if storage is None:
                continue
            source = best_location(storage, exclude=local_name)
            if source is None:
                raise TransferError(f"The files of Data {data_id} are kept in no object storage to fetch them from.")
            files = list(source.files.all())
            root = layout.data_dir(data_id)
            if _present(root, files):
                continue
            with reading(source, f"Input of Data {reader_id}" if reader_id else "Fetch", reader_id):
                _download(source, files, root)
            fetched.append(data_id)
    return fetched


def release(data_ids: list[int], reader_id: int) -> list[int]:
    """Remove the fetched inputs that no other unfinished reader needs; the ids removed (``staging.unstage``
    has closed the reader's logs)."""
    removed: list[int] = []
    local = config.local_connector()
    for data_id in data_ids:
        if read_by_others(data_id, reader_id):
            continue
        paths = ReferencedPath.objects.filter(file_storage__data_id=data_id).values_list("path", flat=True)
        try:
            local.delete([f"{data_id}/{path}" for path in paths])
        except ConnectorError as error:  # a workspace goes with its pod anyway
            logger.warning("Could not remove the fetched files of Data %s: %s", data_id, error)
            continue
        removed.append(data_id)
    return removed


def export_upload(path: Path, owner_id: int, name: str) -> str | None:
    """On a scratch workspace, put a file for a child's flow run in the direct-upload bucket; its ``s3://`` URL.

    ``None`` where there is no scratch workspace or no direct-upload connector (the file then goes
    to the local upload directory, which only flow runs on this host can read).
    """
    from resolwe_prefect.storage.connectors.s3 import AwsS3Connector
    from resolwe_prefect.storage.direct_uploads import upload_connector

    if not config.local_is_scratch():
        return None
    connector = upload_connector()
    if not isinstance(connector, AwsS3Connector):
        logger.warning("A scratch workspace without FLOW_STORAGE uploads: %s stays on this host.", name)
        return None
    key = f"{owner_id}/{name}"
    try:
        connector.push(path, key)
    except ConnectorError as error:
        raise OSError(f"Could not keep the exported file {name} in object storage: {error}") from error
    return f"s3://{connector.bucket}/{key}"
