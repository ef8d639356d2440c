"""Where uploaded files live, and how a ``file_temp`` handle maps to one.

A handle is an opaque token the client got from ``/upload/`` and later sends
back as ``{"file": <name>, "file_temp": <handle>}``. The execution layer
resolves it with ``upload_path``, which is the single guard against a handle
naming anything outside ``UPLOAD_DIR``. Who may use a handle is recorded in
``models.Upload``; the order and size of the chunks are the view's business
(``chunks`` and ``views``): this module only writes where it is told.
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


class UploadLost(OSError):
    """The partial file is shorter than the bytes recorded as received (it was removed or cut)."""


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


def _partial(handle: str) -> Path:
    final = upload_path(handle)
    return final.with_name(final.name + PARTIAL_SUFFIX)


def append_chunk(handle: str, chunk, offset: int) -> int:
    """Write ``chunk`` at ``offset`` of ``<handle>.part``, dropping anything after it; return the bytes written.

    The caller has checked that ``offset`` is where the upload ends, so this
    never leaves a gap: bytes past ``offset`` can only be the rest of a write
    that failed before it was recorded, and are cut off first.
    """
    partial = _partial(handle)
    if offset and not partial.exists():
        raise UploadLost(handle)
    with partial.open("r+b" if partial.exists() else "wb") as target:
        if target.seek(0, 2) < offset:
            raise UploadLost(handle)
        target.truncate(offset)
        target.seek(offset)
        written = 0
        for piece in chunk.chunks():
            target.write(piece)
            written += len(piece)
    return written


def holds(handle: str, chunk, offset: int, completed: bool) -> bool:
    """Whether the upload already holds exactly ``chunk``'s bytes at ``offset`` (a retried chunk)."""
    path = upload_path(handle) if completed else _partial(handle)
    try:
        with path.open("rb") as stored:
            stored.seek(offset)
            for piece in chunk.chunks():
                if stored.read(len(piece)) != piece:
                    return False
    except FileNotFoundError:
        return False
    return True


def finish(handle: str) -> None:
    """Move the complete file into place: a process never sees a half-uploaded file."""
    partial = _partial(handle)
    if not partial.exists():
        partial.touch()  # an empty file sends one empty chunk
    partial.replace(upload_path(handle))
