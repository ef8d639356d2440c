"""Where the program finds the files it was given, and whether it may have them.

An upload handle reaches a program only when it is its Data object's
contributor's own complete upload, or a file one of their Data objects
exported for a spawned child (``re-export`` hands out
``export-<data id>-<hex>``): handles show in the inputs of shared Data
objects, and nobody may read someone else's upload again under their own
name. Any other handle is reported as a missing upload, so that whether it
exists does not leak.
"""

from __future__ import annotations

import re
from pathlib import Path

from django.conf import settings

from resolwe_prefect.data.models import Data
from resolwe_prefect.uploads.models import Upload
from resolwe_prefect.uploads.storage import upload_path

_URL_RE = re.compile(r"^(https?|ftp)://", re.IGNORECASE)
EXPORT_HANDLE_RE = re.compile(r"^export-([0-9]{1,19})-[0-9a-f]{32}$")


def import_roots() -> list[Path]:
    """Directories whose files users may import by local path (``RESOLWE_PREFECT_IMPORT_ROOTS``)."""
    return [Path(p).resolve() for p in settings.FLOW_LOCAL_IMPORT_ROOTS]


def owns_handle(handle: str, owner_id: int) -> bool:
    """Whether ``handle`` is a complete upload of ``owner_id`` or a file exported by one of their Data objects."""
    if Upload.objects.filter(handle=handle, owner_id=owner_id, completed__isnull=False).exists():
        return True
    exported = EXPORT_HANDLE_RE.match(handle)
    if exported is None:
        return False
    return Data.objects.filter(pk=int(exported[1]), contributor_id=owner_id).exists()


def resolve_file_temp(file_temp: str, owner_id: int, download_dir: Path | None = None) -> Path | str:
    """Map a ``file_temp`` to what the program reads: an upload handle becomes its file, a URL stays a URL.

    A local path is accepted only inside one of the configured import roots:
    programs must not be pointed at files on our side that nobody meant to share. A direct
    upload to S3 (``s3://...``) is fetched into ``download_dir`` when it is the owner's own.
    """
    if file_temp.startswith("s3://"):
        from resolwe_prefect.storage.direct_uploads import fetch_upload

        if download_dir is None:
            raise FileNotFoundError(f"Uploaded file {file_temp!r} does not exist.")
        download_dir.mkdir(parents=True, exist_ok=True)
        return fetch_upload(file_temp, owner_id, download_dir)
    if _URL_RE.match(file_temp):
        return file_temp
    if file_temp.startswith(("/", "file://")):
        path = Path(file_temp.removeprefix("file://")).resolve()
        if any(path.is_relative_to(root) for root in import_roots()) and path.is_file():
            return path
        raise FileNotFoundError(
            f"Local path {file_temp!r} is not inside an import root (RESOLWE_PREFECT_IMPORT_ROOTS) or does not exist."
        )
    try:
        path = upload_path(file_temp)
    except (ValueError, FileNotFoundError) as error:
        raise FileNotFoundError(f"Uploaded file {file_temp!r} does not exist: {error}") from error
    if not owns_handle(file_temp, owner_id) or not path.is_file():
        raise FileNotFoundError(f"Uploaded file {file_temp!r} does not exist.")
    return path
