"""Where the program finds the files it was given."""

from __future__ import annotations

import re
from pathlib import Path

_URL_RE = re.compile(r"^(https?|ftp)://", re.IGNORECASE)


def resolve_file_temp(file_temp: str) -> Path | str:
    """Map a ``file_temp`` to what the program reads: an upload handle becomes its file, a URL stays a URL.

    Anything else (an arbitrary host path) is refused: programs must not be
    pointed at files on our side that the user never uploaded.
    """
    from resolwe_prefect.uploads.storage import upload_path

    if _URL_RE.match(file_temp):
        return file_temp
    try:
        return upload_path(file_temp)
    except (ValueError, FileNotFoundError) as error:
        raise FileNotFoundError(f"Uploaded file {file_temp!r} does not exist: {error}") from error
