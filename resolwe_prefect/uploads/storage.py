"""Where uploaded files live, and how a ``file_temp`` handle maps to one.

A handle is an opaque token the client got from ``/upload/`` and later sends
back as ``{"file": <name>, "file_temp": <handle>}``. The execution layer
resolves it with ``upload_path``, which is the single guard against a handle
naming anything outside ``UPLOAD_DIR``.
"""

from __future__ import annotations

import re
import uuid
from pathlib import Path

from django.conf import settings

_HANDLE_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]{0,127}$")
_NAMESPACE = uuid.UUID("0d7b6c2e-5d1a-4c8e-9a57-3f1f3c6f0b11")
PARTIAL_SUFFIX = ".part"


class InvalidHandle(ValueError):
    """The handle is not one this server could have issued."""


def upload_dir() -> Path:
    path = Path(settings.FLOW_EXECUTOR["UPLOAD_DIR"])
    path.mkdir(parents=True, exist_ok=True)
    return path


def upload_path(handle: str) -> Path:
    """The file behind ``handle`` (it may not exist yet); raise ``InvalidHandle`` for anything else.

    Only plain tokens (letters, digits, ``-``, ``_``) are accepted, so no
    separators, ``..`` or absolute paths can reach the filesystem.
    """
    if not isinstance(handle, str) or not _HANDLE_RE.match(handle):
        raise InvalidHandle(f"Invalid upload handle: {handle!r}")
    root = upload_dir().resolve()
    path = root / handle
    if path.resolve().parent != root:
        raise InvalidHandle(f"Invalid upload handle: {handle!r}")
    return path


def make_handle(user_id: int, session_id: str | None, file_uid: str | None) -> str:
    """A handle unique per (user, Session-Id, X-File-Uid); random when the client sends neither."""
    if not session_id and not file_uid:
        return uuid.uuid4().hex
    return uuid.uuid5(_NAMESPACE, f"{user_id}:{session_id}:{file_uid}").hex


def write_chunk(handle: str, chunk, offset: int, total_size: int | None) -> bool:
    """Write one chunk at ``offset``; move the file into place once ``total_size`` bytes are there.

    Returns whether the upload is complete. Chunks are written into
    ``<handle>.part`` so that a process never sees a half-uploaded file.
    """
    final = upload_path(handle)
    partial = final.with_name(final.name + PARTIAL_SUFFIX)
    mode = "r+b" if partial.exists() and offset > 0 else "wb"
    with partial.open(mode) as handle_file:
        handle_file.seek(offset)
        for piece in chunk.chunks():
            handle_file.write(piece)
    size = partial.stat().st_size
    if total_size is None or size >= total_size:
        partial.replace(final)
        return True
    return False
