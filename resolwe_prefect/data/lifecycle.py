"""Resolving dependencies: when a Data object may start, and when it must fail.

This is Resolwe's dispatcher, kept on our side: a Data object waits (WT)
until every input Data object is OK, fails when one of them fails, and is
handed to an *executor* the moment its last input finishes. The data app
knows nothing of Prefect: the execution layer registers the executor (and a
*notifier*, which may take new Data objects off a request's hands) with
:func:`register`. Status changes go through ``transitions``; a Data object
that reaches a final status releases its dependants through
``transitions.data_finished``.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor

from django.conf import settings
from django.db import close_old_connections, transaction
from django.db.models import Count, Q

from resolwe_prefect.data import transitions
from resolwe_prefect.data.models import Data, DataDependency, DataStatus
from resolwe_prefect.data.transitions import INPUT_ERROR
from resolwe_prefect.processes.models import Process

__all__ = ["INPUT_ERROR", "advance", "children_finished", "register", "request_processing"]

logger = logging.getLogger(__name__)

#: Takes the ids of Data objects whose inputs are done (creates or runs their flow runs).
Executor = Callable[[list[int]], object]
#: Offered new Data ids after a request commits; ``True`` when it took them (resolves and executes them itself).
Notifier = Callable[[list[int]], bool]

_background = ThreadPoolExecutor(max_workers=1, thread_name_prefix="resolwe-dispatch")
_executor: Executor | None = None
_notifier: Notifier | None = None


def register(executor: Executor | None, notifier: Notifier | None = None) -> None:
    """Set who takes ready Data objects in this process (``None`` for no one: nothing is submitted).

    The execution layer registers Prefect's submission when Django starts;
    the embedded worker registers itself for its own process.
    """
    global _executor, _notifier
    _executor, _notifier = executor, notifier


def registered() -> tuple[Executor | None, Notifier | None]:
    """The executor and the notifier this process hands Data objects to."""
    return _executor, _notifier


def request_processing(data_ids: Iterable[int], *, background: bool = True) -> None:
    """Advance these Data objects once the current transaction commits.

    The notifier gets them first; otherwise, from a request, the work runs on
    a background thread, so that creating a Data object does not wait for the
    Prefect server.
    """
    ids = list(data_ids)
    if not ids or _executor is None:
        return

    def run() -> None:
        if _notifier is not None and _notifier(ids):
            return
        if background:
            _background.submit(_advance_in_thread, ids)
        else:
            advance(ids)

    transaction.on_commit(run)


def _advance_in_thread(ids: list[int]) -> None:
    close_old_connections()
    try:
        advance(ids)
    except Exception:  # the periodic sweep in the worker picks up whatever is left
        logger.exception("Could not advance Data %s", ids)
    finally:
        close_old_connections()


def inputs_state(data_id: int) -> str:
    """``"ready"`` when every input Data object is OK, ``"failed"`` when one failed, else ``"waiting"``."""
    return inputs_states([data_id]).get(data_id, "ready")


def inputs_states(data_ids: list[int]) -> dict[int, str]:
    """``inputs_state`` of many Data objects in one query; objects without inputs are left out (ready)."""
    failed = Q(parent__status__in=[DataStatus.ERROR, DataStatus.DIRTY]) | Q(parent__isnull=True)
    rows = (
        DataDependency.objects.filter(child_id__in=data_ids, kind=DataDependency.KIND_IO)
        .values("child_id")
        .annotate(
            total=Count("id"),
            done=Count("id", filter=Q(parent__status=DataStatus.DONE)),
            failed=Count("id", filter=failed),
        )
    )
    return {
        row["child_id"]: "failed" if row["failed"] else "ready" if row["done"] == row["total"] else "waiting"
        for row in rows
    }


def fail_on_inputs(data_id: int) -> None:
    """End a Data object whose input failed, as Resolwe does (its dependants follow on commit)."""
    with transaction.atomic():
        data = Data.objects.select_for_update().filter(pk=data_id).first()
        if data is not None:
            transitions.fail_on_inputs(data)


def may_run() -> Q:
    """Data whose process this site runs: Resolwe's ``FLOW_PROCESSES_ALLOW_LIST`` and
    ``FLOW_PROCESSES_IGNORE_LIST`` (process slugs; the ignore list wins). The rest is left as it is,
    never resolved or run, as Resolwe's dispatcher leaves it."""
    allowed = Q()
    allow = getattr(settings, "FLOW_PROCESSES_ALLOW_LIST", None)
    ignore = getattr(settings, "FLOW_PROCESSES_IGNORE_LIST", None)
    if allow:
        allowed &= Q(process_id__in=Process.objects.filter(slug__in=list(allow)).values("pk"))
    if ignore:
        allowed &= ~Q(process_id__in=Process.objects.filter(slug__in=list(ignore)).values("pk"))
    return allowed


def advance(data_ids: Iterable[int]) -> list[int]:
    """Fail Data whose inputs failed, hand over Data whose inputs are done; return the ready ids.

    A fixed number of queries however many objects there are (a fan-out
    releases thousands at once), except one save per object that fails.
    Data whose process the site does not run (:func:`may_run`) are left alone.
    """
    ready: list[int] = []
    with transaction.atomic():
        candidates = list(
            Data.objects.select_for_update()
            .filter(
                pk__in=list(data_ids),
                status__in=[DataStatus.RESOLVING, DataStatus.WAITING],
                flow_run_id__isnull=True,
            )
            .filter(may_run())
            .only("pk", "status", "process_error")
        )
        states = inputs_states([data.pk for data in candidates])
        to_wait: list[int] = []
        for data in candidates:
            state = states.get(data.pk, "ready")
            if state == "failed":
                transitions.fail_on_inputs(data)
            elif state == "ready":
                ready.append(data.pk)
            elif data.status != DataStatus.WAITING:
                to_wait.append(data.pk)
        if to_wait:
            transitions.queue(to_wait)
    if ready and _executor is not None:
        _executor(ready)
    return ready


def children_finished(data_id: int) -> None:
    """A Data object reached a final status: let its dependants move on."""
    children = list(
        DataDependency.objects.filter(parent_id=data_id, kind=DataDependency.KIND_IO).values_list("child_id", flat=True)
    )
    if children:
        advance(children)


def _on_data_finished(sender: type, data_id: int, **kwargs: object) -> None:
    children_finished(data_id)


def connect() -> None:
    """Release the dependants of every Data object that finishes (``DataConfig.ready``)."""
    transitions.data_finished.connect(_on_data_finished, dispatch_uid="resolwe_prefect.data.lifecycle")
