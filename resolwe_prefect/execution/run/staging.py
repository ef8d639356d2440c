"""Where the program finds the files it was given."""

from __future__ import annotations

import re
from pathlib import Path

from django.conf import settings

_URL_RE = re.compile(r"^(https?|ftp)://", re.IGNORECASE)


def import_roots() -> list[Path]:
    """Directories whose files users may import by local path (``RESOLWE_PREFECT_IMPORT_ROOTS``)."""
    return [Path(p).resolve() for p in settings.FLOW_LOCAL_IMPORT_ROOTS]


def resolve_file_temp(file_temp: str) -> Path | str:
    """Map a ``file_temp`` to what the program reads: an upload handle becomes its file, a URL stays a URL.

    A local path is accepted only inside one of the configured import roots:
    programs must not be pointed at files on our side that nobody meant to share.
    """
    from resolwe_prefect.uploads.storage import upload_path

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
        return upload_path(file_temp)
    except (ValueError, FileNotFoundError) as error:
        raise FileNotFoundError(f"Uploaded file {file_temp!r} does not exist: {error}") from error
