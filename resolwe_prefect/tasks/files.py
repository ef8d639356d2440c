"""The Data directories on disk: ``<DATA_DIR>/<id>``, copied for duplicates and removed with the Data."""

from __future__ import annotations

import logging
import os
import shutil
from collections.abc import Iterable
from pathlib import Path

from django.conf import settings

logger = logging.getLogger(__name__)


def data_dir(data_id: int) -> Path:
    """Where a Data object's files live (the same rule the executor writes by)."""
    return Path(settings.FLOW_EXECUTOR["DATA_DIR"]) / str(data_id)


def runtime_dir(data_id: int) -> Path:
    """Our side of a run (script, temp files); removed together with the Data."""
    return Path(settings.STATE_DIR) / "runtime" / str(data_id)


def _link_or_copy(source: str, target: str) -> None:
    """Hard-link a file (no extra disk for large outputs); copy when linking is impossible (other device)."""
    try:
        os.link(source, target)
    except OSError:
        shutil.copy2(source, target)


def copy_data_dir(source_id: int, target_id: int) -> bool:
    """Give the copy ``target_id`` the files of ``source_id``; ``False`` when the source has none.

    Outputs are stored as paths relative to the Data directory, so a copy of
    the directory is all a duplicated Data object needs. Symlinks are kept as
    links. Finished Data is never rewritten in place (a restart removes the
    directory first), so sharing inodes with the original is safe.
    """
    source, target = data_dir(source_id), data_dir(target_id)
    if not source.is_dir():
        return False
    if target.exists():
        shutil.rmtree(target)
    shutil.copytree(source, target, symlinks=True, copy_function=_link_or_copy)
    return True


def remove_data_dirs(data_ids: Iterable[int]) -> None:
    """Remove the files of deleted Data; a missing directory is fine, a failure is only logged."""
    for data_id in data_ids:
        for path in (data_dir(data_id), runtime_dir(data_id)):
            if path.exists():
                shutil.rmtree(path, ignore_errors=True)
                if path.exists():
                    logger.warning("Could not remove %s of deleted Data %s", path, data_id)
