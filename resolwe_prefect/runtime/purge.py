"""Removing what no output refers to, and listing what is left (the end of :func:`.collect.collect_outputs`).

Both walk the data directory without following links: a link the program
left is removed or counted as the link itself, never as what it points to.
"""

from __future__ import annotations

import os
import shutil
import stat
from pathlib import Path

from . import safepath

__all__ = ["inventory", "purge"]


def _is_kept(rel: str, keep: set[str]) -> bool:
    if rel in keep:
        return True
    parts = rel.split(os.sep)
    for index in range(1, len(parts)):
        if os.sep.join(parts[:index]) in keep:
            return True  # Inside a kept directory.
    return False


def purge(data_dir: Path, keep: set[str]) -> None:
    """Remove everything under ``data_dir`` that ``keep`` does not cover."""
    if "." in keep:
        return  # The data directory itself is an output.
    ancestors = set()
    for rel in keep:
        parts = rel.split(os.sep)
        for index in range(1, len(parts)):
            ancestors.add(os.sep.join(parts[:index]))
    for root, dirs, files in os.walk(data_dir, topdown=True):
        root_path = Path(root)
        for name in list(dirs):
            full = root_path / name
            rel = os.path.relpath(full, data_dir)
            if _is_kept(rel, keep):
                dirs.remove(name)  # Keep the whole tree.
            elif rel in ancestors and not full.is_symlink():
                continue  # Descend: something inside is kept.
            else:
                dirs.remove(name)
                if full.is_symlink():
                    full.unlink()
                else:
                    shutil.rmtree(full, ignore_errors=True)
        for name in files:
            full = root_path / name
            rel = os.path.relpath(full, data_dir)
            if not _is_kept(rel, keep):
                try:
                    full.unlink()
                except OSError:
                    pass


def inventory(data_dir: Path) -> tuple[list[str], int]:
    """What stays stored: entries relative to ``data_dir`` (directories with ``/``) and their ``lstat`` size."""
    files: list[str] = []
    size = 0
    for full, info in safepath.walk(data_dir):
        rel = os.path.relpath(full, data_dir)
        if stat.S_ISDIR(info.st_mode):
            files.append(rel + "/")
        else:
            files.append(rel)
            size += info.st_size
    return sorted(files), size
