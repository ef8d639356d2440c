"""The Data directories on disk: ``<DATA_DIR>/<id>``, copied for duplicates and removed with the Data."""

from __future__ import annotations

import functools
import logging
import os
import shutil
import stat
from collections.abc import Iterable
from pathlib import Path

from resolwe_prefect.runtime import safepath

from .layout import data_dir, runtime_dir

logger = logging.getLogger(__name__)


def _not_copied(directory: str, names: list[str]) -> set[str]:
    """FIFOs, devices and sockets stay behind: copying one means opening it (a FIFO blocks, a device is read)."""
    skipped = set()
    for name in names:
        try:
            mode = os.lstat(os.path.join(directory, name)).st_mode
        except OSError:
            skipped.add(name)
            continue
        if not (stat.S_ISREG(mode) or stat.S_ISDIR(mode) or stat.S_ISLNK(mode)):
            skipped.add(name)
    return skipped


def _link_or_copy(root: Path, source: str, target: str) -> None:
    """Hard-link a file (no extra disk for large outputs); copy it when linking is impossible (other device).

    Neither follows a link: ``link`` takes the entry itself and the copy
    opens only a regular file inside ``root`` (:func:`safepath.copy_file`).
    """
    try:
        os.link(source, target, follow_symlinks=False)
    except OSError:
        safepath.copy_file(root, source, target)


def copy_data_dir(source_id: int, target_id: int) -> bool:
    """Give the copy ``target_id`` the files of ``source_id``; ``False`` when the source has none.

    Outputs are stored as paths relative to the Data directory, so a copy of
    the directory is all a duplicated Data object needs. Symlinks are kept as
    links, never followed (the API refuses those that leave the copy's own
    directory); FIFOs, devices and sockets are not copied. Finished Data is
    never rewritten in place (a restart removes the directory first), so
    sharing inodes with the original is safe.
    """
    source, target = data_dir(source_id), data_dir(target_id)
    if not source.is_dir() or source.is_symlink():
        return False
    if target.exists():
        shutil.rmtree(target)
    shutil.copytree(
        source, target, symlinks=True, ignore=_not_copied, copy_function=functools.partial(_link_or_copy, source)
    )
    return True


def remove_data_dirs(data_ids: Iterable[int]) -> None:
    """Remove the files of deleted Data; a missing directory is fine, a failure is only logged."""
    for data_id in data_ids:
        for path in (data_dir(data_id), runtime_dir(data_id)):
            if path.exists():
                shutil.rmtree(path, ignore_errors=True)
                if path.exists():
                    logger.warning("Could not remove %s of deleted Data %s", path, data_id)
