"""Semantic versions as Resolwe stores them.

Versions are compared numerically (``1.10.0 > 1.9.0``), so the database keeps
them as one ordered integer and the API shows the dotted string.
"""

from __future__ import annotations

import re

_VERSION_RE = re.compile(r"^(\d+)(?:\.(\d+))?(?:\.(\d+))?$")
_PART_BITS = 20
_PART_MAX = (1 << _PART_BITS) - 1


def parse_version(version: str | int | float) -> tuple[int, int, int]:
    """Split a version into (major, minor, patch); missing parts are zero.

    Raises ``ValueError`` for anything that is not a dotted number, so that a
    registration error can say which process carries the bad version.
    """
    match = _VERSION_RE.match(str(version).strip())
    if not match:
        raise ValueError(f"Invalid version: {version!r}")
    parts = tuple(int(p) if p is not None else 0 for p in match.groups())
    if any(p > _PART_MAX for p in parts):
        raise ValueError(f"Invalid version: {version!r} (a part exceeds {_PART_MAX})")
    return parts  # type: ignore[return-value]


def version_to_int(version: str | int | float) -> int:
    """Encode a version so that integer order is semantic order."""
    major, minor, patch = parse_version(version)
    return (major << (2 * _PART_BITS)) | (minor << _PART_BITS) | patch


def int_to_version(number: int) -> str:
    """Decode the stored integer back to ``major.minor.patch``."""
    return f"{number >> (2 * _PART_BITS)}.{(number >> _PART_BITS) & _PART_MAX}.{number & _PART_MAX}"


def normalize_version(version: str | int | float) -> str:
    """Return the canonical three-part form of a version."""
    return int_to_version(version_to_int(version))
