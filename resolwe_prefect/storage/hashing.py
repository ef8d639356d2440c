"""The hashes Resolwe records for every stored file, computed in one pass over it.

``md5`` and ``crc32c`` are what Google Cloud Storage reports for an object; ``awss3etag`` is the
ETag S3 reports for it when uploaded in parts of ``chunk_size`` bytes (as the S3 connector
uploads). Recording all three lets a copy on any connector be checked against the recorded file
without reading the copy back.
"""

from __future__ import annotations

import functools
import hashlib
from pathlib import Path

import google_crc32c

#: Resolwe's part size: the S3 connector uploads in parts of this size, so ``awss3etag`` uses it too.
CHUNK_SIZE = 8 * 1024 * 1024


# Not a security use: FIPS builds refuse a plain md5() unless told so.
_md5 = functools.partial(hashlib.md5, usedforsecurity=False)


def compute_hashes(path: Path, chunk_size: int = CHUNK_SIZE) -> dict[str, str]:
    """``{"md5", "crc32c", "awss3etag"}`` hex digests of the file at ``path``.

    ``awss3etag`` follows S3: the plain md5 when the file fits in one part (at most
    ``chunk_size`` bytes, empty included), otherwise the md5 of the concatenated part md5s
    followed by ``-<number of parts>``.
    """
    if chunk_size <= 0:
        raise ValueError(f"chunk_size must be positive, not {chunk_size}.")
    whole = _md5()
    crc = google_crc32c.Checksum()
    part_digests: list[bytes] = []
    with Path(path).open("rb") as stream:
        while chunk := stream.read(chunk_size):
            whole.update(chunk)
            crc.update(chunk)
            part = _md5()
            part.update(chunk)
            part_digests.append(part.digest())
    md5 = whole.hexdigest()
    if len(part_digests) <= 1:
        etag = md5
    else:
        of_parts = _md5()
        of_parts.update(b"".join(part_digests))
        etag = f"{of_parts.hexdigest()}-{len(part_digests)}"
    return {"md5": md5, "crc32c": crc.hexdigest().decode("ascii"), "awss3etag": etag}
