"""Resolving dependencies: when a Data object may start, and when it must fail.

This is Resolwe's dispatcher, kept on our side: a Data object waits (WT)
until every input Data object is OK, fails when one of them fails, and is
handed to the Prefect layer the moment its last input finishes. Handing over
is a pluggable *submitter* (``settings.RESOLWE_PREFECT_SUBMITTER``) so that
the data app knows nothing about Prefect. A request that creates Data first
offers the new ids to a pluggable *notifier*
(``settings.RESOLWE_PREFECT_NOTIFIER``): when an executor on this machine
takes them, it resolves and submits them itself, and the request does no
more.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor
from functools import cache

from django.conf import settings
from django.db import close_old_connections, transaction
from django.db.models import Count, Q
from django.utils import timezone
from django.utils.module_loading import import_string

from resolwe_prefect.data.models import Data, DataDependency, DataStatus

logger = logging.getLogger(__name__)

INPUT_ERROR = "One or more inputs have status ERROR"
_background = ThreadPoolExecutor(max_workers=1, thread_name_prefix="resolwe-dispatch")


@cache
def _submitter():
    path = getattr(settings, "RESOLWE_PREFECT_SUBMITTER", None)
    return import_string(path) if path else None


@cache
def _notifier():
    path = getattr(settings, "RESOLWE_PREFECT_NOTIFIER", None)
    return import_string(path) if path else None


def request_processing(data_ids: Iterable[int], *, background: bool = True) -> None:
    """Advance these Data objects once the current transaction commits.

    The notifier gets them first; otherwise, from a request, the work runs on
    a background thread, so that creating a Data object does not wait for the
    Prefect server.
    """
    ids = list(data_ids)
    if not ids or _submitter() is None:
        return

    def run() -> None:
        notifier = _notifier()
        if notifier is not None and notifier(ids):
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


def _mark_input_error(data: Data) -> None:
    data.status = DataStatus.ERROR
    data.process_error = [*data.process_error, INPUT_ERROR]
    data.process_rc = 1
    data.finished = timezone.now()
    data.save(update_fields=["status", "process_error", "process_rc", "finished", "modified"])


def fail_on_inputs(data_id: int) -> None:
    """End a Data object whose input failed, as Resolwe does, and let its dependants follow."""
    with transaction.atomic():
        data = (
            Data.objects.select_for_update()
            .filter(pk=data_id)
            .exclude(status__in=[DataStatus.DONE, DataStatus.ERROR])
            .first()
        )
        if data is None:
            return
        _mark_input_error(data)
    children_finished(data_id)


def advance(data_ids: Iterable[int]) -> list[int]:
    """Fail Data whose inputs failed, submit Data whose inputs are done; return the submitted ids.

    A fixed number of queries however many objects there are (a fan-out
    releases thousands at once), except one save per object that fails.
    """
    ready: list[int] = []
    failed: list[int] = []
    with transaction.atomic():
        candidates = list(
            Data.objects.select_for_update()
            .filter(
                pk__in=list(data_ids), status__in=[DataStatus.RESOLVING, DataStatus.WAITING], flow_run_id__isnull=True
            )
            .only("pk", "status", "process_error")
        )
        states = inputs_states([data.pk for data in candidates])
        to_wait: list[int] = []
        for data in candidates:
            state = states.get(data.pk, "ready")
            if state == "failed":
                _mark_input_error(data)
                failed.append(data.pk)
            elif state == "ready":
                ready.append(data.pk)
            elif data.status != DataStatus.WAITING:
                to_wait.append(data.pk)
        if to_wait:
            Data.objects.filter(pk__in=to_wait).update(status=DataStatus.WAITING, modified=timezone.now())
    if ready:
        _submitter()(ready)
    for data_id in failed:
        children_finished(data_id)
    return ready


def children_finished(data_id: int) -> None:
    """A Data object reached a final status: let its dependants move on."""
    children = list(
        DataDependency.objects.filter(parent_id=data_id, kind=DataDependency.KIND_IO).values_list("child_id", flat=True)
    )
    if children:
        advance(children)
