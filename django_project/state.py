"""The local state directory and the secrets kept in it.

Everything a stack must keep to itself lives here: databases, logs, the
admin's password and the key that signs sessions and download URLs and
encrypts stored secrets. The directory is private to us (0700), its key
files 0600; programs never see it at all (they run in a sandbox that mounts
only their own directories).
"""

from __future__ import annotations

import os
import secrets
from pathlib import Path


def state_dir(path: Path) -> Path:
    """Create the state directory private to us; an existing one keeps the mode its owner gave it."""
    path = path.resolve()
    if not path.exists():
        path.mkdir(mode=0o700, parents=True, exist_ok=True)
    return path


def private_value(path: Path, length: int = 50, prefix: str = "") -> str:
    """Read a secret kept in ``path``, generating it (0600, atomically) on first use.

    The API, the worker and ``up`` all start at once on a new machine: the
    first one creates the file exclusively, the others read what it wrote.
    """
    try:
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return _read_when_written(path)
    with os.fdopen(descriptor, "w") as handle:
        handle.write(prefix + secrets.token_urlsafe(length))
    return path.read_text().strip()


def _read_when_written(path: Path) -> str:
    """The value in ``path``, waiting briefly for a writer that created it a moment ago."""
    import time

    for _ in range(50):
        value = path.read_text().strip()
        if value:
            return value
        time.sleep(0.1)
    raise RuntimeError(f"{path} is empty: remove it and start again to generate a new key")
