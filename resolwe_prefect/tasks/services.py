"""Starting the background operations behind Resolwe's delete and duplicate actions.

Views check permissions and input; these functions only record the task
and schedule the work (``runner.start_task``), so the same operations can
be started from management commands or other services without HTTP. The
operation is the caller's (the app that owns the objects); ``objects`` is
how the task's description names them (``"data objects"``, ``"entities"``).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from .models import BackgroundTask
from .runner import start_task


def joined_ids(ids: Iterable[int]) -> str:
    """``1, 2, 5``: ids as task descriptions and refusals list them."""
    return ", ".join(map(str, sorted(set(ids))))


def start_duplicate(
    operation: Callable[..., Any], ids: list[int], user, *, objects: str, **options: bool
) -> BackgroundTask:
    """Run ``operation(ids, user_id, **options)``; its output is the list of the copies' ids."""
    ids = sorted(set(ids))
    return start_task(user, f"Duplicate {objects} with ids {joined_ids(ids)}.", operation, ids, user.pk, **options)


def start_delete(operation: Callable[..., Any], ids: list[int], user, *, objects: str) -> BackgroundTask:
    """Run ``operation(ids)``, which deletes the objects with their contents and files."""
    ids = sorted(set(ids))
    return start_task(user, f"Delete {objects} with ids {joined_ids(ids)}.", operation, ids)
