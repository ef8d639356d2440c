"""Duplicates of Data whose files are kept only in object storage.

A duplicate gets a copy of its original's files (Resolwe's duplicates share them; here every
Data object has a FileStorage of its own, so its copies can be cleaned up on their own). When
the original has no local copy, the duplicate's files are copied, hash-checked, within the same
store, under the duplicate's own FileStorage.
"""

from __future__ import annotations

from resolwe_prefect.data.models import Data
from resolwe_prefect.entities.duplication import DuplicateError
from resolwe_prefect.storage.models import FileStorage, ReferencedPath
from resolwe_prefect.storage.transfer import TransferError, copy_storage, remote_location

HASHES = ("size", "md5", "crc32c", "awss3etag", "chunk_size")


def copy_remote_files(original_id: int, copy_id: int) -> None:
    """Give the duplicate ``copy_id`` its own copy of the files ``original_id`` keeps only remotely."""
    source = remote_location(original_id)
    if source is None:
        return
    storage = FileStorage.objects.create(data=Data.objects.get(pk=copy_id))
    ReferencedPath.objects.bulk_create(
        ReferencedPath(
            file_storage=storage, path=referenced.path, **{name: getattr(referenced, name) for name in HASHES}
        )
        for referenced in source.files.all()
    )
    try:
        copy_storage(storage, source.connector_name, source=source)
    except TransferError as error:
        raise DuplicateError(f"Could not copy the files of Data {original_id}: {error}") from error


def connect() -> None:
    from resolwe_prefect.data.duplication import FILES_ELSEWHERE_COPIERS

    if copy_remote_files not in FILES_ELSEWHERE_COPIERS:
        FILES_ELSEWHERE_COPIERS.append(copy_remote_files)
