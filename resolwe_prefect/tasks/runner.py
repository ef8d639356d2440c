"""Running a BackgroundTask's work after the request commits, off the request thread.

``start_task`` records the task (WT) in the caller's transaction and, once
that transaction commits, hands the work to a small thread pool: the
request answers at once and resdk polls ``/api/task/<id>``. The work runs
in its own transaction; the task ends OK with the work's return value or ER
with the error message, so a half-done operation is never left behind.

Tests set ``RESOLWE_PREFECT_TASKS_SYNC = True`` to run the work inline when
the request's transaction commits (inside pytest-django's test transaction),
or call ``wait_for_tasks`` to wait for the real background threads.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from concurrent.futures import wait as wait_futures
from functools import partial
from typing import Any

from django.conf import settings
from django.db import close_old_connections, connection, transaction
from django.utils import timezone

from .models import BackgroundTask, TaskStatus

logger = logging.getLogger(__name__)

#: The output of an operation that has nothing else to report (Resolwe's delete and move).
COMPLETED = "Task completed."

_executor = ThreadPoolExecutor(max_workers=2, thread_name_prefix="resolwe-task")
_pending: set[Future] = set()
_pending_lock = threading.Lock()


def _is_sync() -> bool:
    return bool(getattr(settings, "RESOLWE_PREFECT_TASKS_SYNC", False))


def start_task(user, description: str, work: Callable[..., Any], *args: Any, **kwargs: Any) -> BackgroundTask:
    """Record a waiting task for ``user`` and run ``work(*args, **kwargs)`` after the current commit.

    ``work`` must take plain values (ids), not model instances: it runs in
    another thread, with its own database connection.
    """
    task = BackgroundTask.objects.create(user=user, description=description[:256])
    transaction.on_commit(partial(_dispatch, task.pk, work, args, kwargs))
    return task


def _dispatch(task_id: int, work: Callable[..., Any], args: tuple, kwargs: dict) -> None:
    if _is_sync():
        run_task(task_id, work, *args, **kwargs)
        return
    future = _executor.submit(_run_in_thread, task_id, work, args, kwargs)
    with _pending_lock:
        _pending.add(future)
    future.add_done_callback(_forget)


def _forget(future: Future) -> None:
    with _pending_lock:
        _pending.discard(future)


def _run_in_thread(task_id: int, work: Callable[..., Any], args: tuple, kwargs: dict) -> None:
    close_old_connections()
    try:
        run_task(task_id, work, *args, **kwargs)
    finally:
        connection.close()  # the pool's threads outlive requests; never keep their connections open


def run_task(task_id: int, work: Callable[..., Any], *args: Any, **kwargs: Any) -> BackgroundTask:
    """Mark the task PR, run the work in one transaction, and store OK + output or ER + message."""
    BackgroundTask.objects.filter(pk=task_id).update(status=TaskStatus.PROCESSING)
    try:
        with transaction.atomic():
            output = work(*args, **kwargs)
    except Exception as error:  # every failure must end the task, or resdk polls forever
        logger.exception("Background task %s failed", task_id)
        status, output = TaskStatus.ERROR, str(error) or type(error).__name__
    else:
        status = TaskStatus.DONE
    BackgroundTask.objects.filter(pk=task_id).update(status=status, output=output, finished=timezone.now())
    return BackgroundTask.objects.get(pk=task_id)


def wait_for_tasks(timeout: float | None = 30) -> bool:
    """Wait until every task handed to the thread pool has finished; ``False`` on timeout.

    For tests and shutdown; the request path never waits.
    """
    with _pending_lock:
        futures = list(_pending)
    _, not_done = wait_futures(futures, timeout=timeout)
    return not not_done
