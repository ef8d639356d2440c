"""The fields of one ``/upload/`` chunk, checked before a byte is written.

resdk (``resdk.uploader.Uploader._upload_local``) sends every chunk as a
multipart POST with the form fields ``_chunkNumber`` (0-based),
``_chunkSize`` (the nominal size, 8,000,000), ``_currentChunkSize`` (this
chunk's length) and ``_totalSize`` (the file's length). Believed as sent,
they would let a client write at any offset (a 10-byte chunk at offset
100 GB makes a sparse 100 GB file) and leave zeros where a chunk is
missing. This module turns the fields into a
:class:`Chunk` whose numbers agree with each other and with the bytes that
actually arrived, or raises :class:`ChunkError` naming the field. Whether the
chunk fits what the upload already received is the view's business.

Pure: no Django, so the rules are easy to test; the API's exception handler
answers a :class:`ChunkError` with its ``detail`` and ``status_code``.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from resolwe_prefect.core.errors import ServiceError

_DIGITS = re.compile(r"^[0-9]{1,20}$")


class ChunkError(ServiceError, ValueError):
    """A chunk the server refuses; ``detail`` names the fields (``{"_chunkNumber": [...]}``)."""


@dataclass(frozen=True)
class Chunk:
    """One chunk: ``length`` bytes at ``offset`` of a file of ``total`` bytes."""

    number: int
    size: int
    length: int
    total: int

    @property
    def offset(self) -> int:
        return self.number * self.size

    @property
    def end(self) -> int:
        return self.offset + self.length


def _count(fields: Mapping[str, Any], name: str) -> int | None:
    """A non-negative integer field, or ``None`` when absent; only plain ASCII digits count."""
    value = fields.get(name)
    if value is None or value == "":
        return None
    if isinstance(value, bool) or not isinstance(value, (int, str)):
        raise ChunkError({name: [f"Expected a non-negative integer, got {value!r}."]})
    if isinstance(value, str) and not _DIGITS.match(value):
        raise ChunkError({name: [f"Expected a non-negative integer, got {value[:40]!r}."]})
    number = int(value)
    if number < 0:
        raise ChunkError({name: [f"Expected a non-negative integer, got {number}."]})
    return number


def parse_chunk(fields: Mapping[str, Any], length: int, max_total: int) -> Chunk:
    """Check one chunk's fields against each other, the received ``length`` and the size limit.

    A client that sends only the file part uploads it in one piece: chunk
    0 of a file exactly as long as the part. Every later chunk must say
    where it belongs (``_chunkSize``, ``_totalSize``).
    """
    number = _count(fields, "_chunkNumber") or 0
    size = _count(fields, "_chunkSize")
    total = _count(fields, "_totalSize")
    current = _count(fields, "_currentChunkSize")
    if current is not None and current != length:
        raise ChunkError({"_currentChunkSize": [f"Says {current} bytes, but the file part has {length}."]})
    if number > 0 and (size is None or total is None):
        missing = "_chunkSize" if size is None else "_totalSize"
        raise ChunkError({missing: ["This field is required when _chunkNumber is not 0."]})
    total = length if total is None else total
    size = max(length, 1) if size is None else size
    if total > max_total:
        message = f"The file is larger than this server accepts ({max_total} bytes)."
        raise ChunkError({"_totalSize": [message]}, status_code=413)
    if size < 1:
        raise ChunkError({"_chunkSize": ["Must be at least 1."]})
    if length > size:
        raise ChunkError({"file": [f"The chunk has {length} bytes, more than _chunkSize ({size})."]})
    chunk = Chunk(number=number, size=size, length=length, total=total)
    if chunk.end > total:
        raise ChunkError(
            {
                "_chunkNumber": [
                    f"Chunk {number} ({length} bytes at byte {chunk.offset}) ends past _totalSize ({total})."
                ]
            }
        )
    if chunk.end < total and length != size:
        raise ChunkError(
            {"file": [f"Only the last chunk may be shorter than _chunkSize ({size}); this one has {length}."]}
        )
    if length == 0 and total > 0:
        raise ChunkError({"file": ["The chunk is empty."]})
    return chunk
