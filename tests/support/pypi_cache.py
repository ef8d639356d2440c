"""A released distribution from PyPI, downloaded once and unpacked into a cache directory.

Tests that need real-world inputs (resolwe-bio's processes) read them from
``~/.cache/resolwe-prefect/<name>-<version>`` (``$XDG_CACHE_HOME`` is
respected; ``RESOLWE_PREFECT_TEST_CACHE`` overrides the parent directory).
The download goes through ``pip download`` (the index pip is configured with)
and only happens when the directory is missing; the unpacked tree is moved
into place whole, so an interrupted download leaves nothing behind.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tarfile
import tempfile
import urllib.request
import zipfile
from pathlib import Path

PYPI = "https://pypi.org/simple/"


class Unavailable(Exception):
    """The distribution could not be downloaded because the package index is unreachable."""


def cache_root() -> Path:
    override = os.environ.get("RESOLWE_PREFECT_TEST_CACHE")
    if override:
        return Path(override)
    base = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
    return base / "resolwe-prefect"


def distribution(name: str, version: str) -> Path:
    """The unpacked wheel (or sdist) of ``name==version``; raises :class:`Unavailable` when the index cannot be reached."""
    target = cache_root() / f"{name}-{version}"
    if target.is_dir():
        return target
    target.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=target.parent, prefix=f".{name}-") as work:
        download = Path(work) / "download"
        result = subprocess.run(
            [
                *(sys.executable, "-m", "pip", "download", "--no-deps", "--ignore-requires-python"),
                *("--disable-pip-version-check", "--quiet", "--retries", "2", "--timeout", "30"),
                *("-d", str(download), f"{name}=={version}"),
            ],
            capture_output=True,
            text=True,
            timeout=600,
        )
        if result.returncode != 0:
            detail = (result.stderr or result.stdout).strip()[-1000:]
            if not _reachable(PYPI):
                raise Unavailable(f"{PYPI} is unreachable; pip download {name}=={version} failed: {detail}")
            raise RuntimeError(f"pip download {name}=={version} failed: {detail}")
        (archive,) = download.iterdir()
        unpacked = Path(work) / "unpacked"
        _unpack(archive, unpacked)
        try:
            unpacked.rename(target)
        except OSError:
            if not target.is_dir():  # another run put it there first
                raise
    return target


def _unpack(archive: Path, destination: Path) -> None:
    if archive.suffix == ".whl" or archive.suffix == ".zip":
        with zipfile.ZipFile(archive) as wheel:
            wheel.extractall(destination)
        return
    with tarfile.open(archive) as sdist:
        sdist.extractall(destination, filter="data")
    # An sdist holds one top directory, <name>-<version>/: its content is the distribution.
    (top,) = destination.iterdir()
    for child in top.iterdir():
        shutil.move(str(child), destination / child.name)
    top.rmdir()


def _reachable(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=15):
            return True
    except OSError:
        return False
