"""Every change of a Data object's status, as a named transition: the one owner of Data's state.

Resolwe's statuses: RE (resolving), WT (waiting), PP (preparing), PR
(processing), OK (done), ER (error), DR (dirty). Creation sets RE; after
that only the transitions below move a Data object, each from the statuses
written beside it, and each guarded where it is today: work of a flow run
is written only to the Data object bound to that flow run, so a stale run
(restarted, retried, deleted object) changes nothing.

    transition       from              to     guard
    restart          ER                RE     a new attempt: flow run unbound, results cleared
    queue            RE                WT     unbound (waits for its inputs or a worker slot)
    fail_on_inputs   RE, WT, PP, PR    ER     an input failed (Resolwe's "One or more inputs have status ERROR")
    bind             RE, WT            WT     unbound: the flow run of this attempt is recorded
    prepare          any               PP     bound to the flow run, or unbound and the run's key names this attempt
    start            not final         PR     bound to the flow run
    progress         not final         =      bound to the flow run
    finish           not final         OK/ER  bound to the flow run; written once
    fail             not final         ER     bound to the flow run; written once
    reopen           OK, ER, DR        WT     bound to the flow run (an operator's retry of it)

Every transition into a final status sends :data:`data_finished` once its
transaction commits; ``lifecycle`` listens and releases the dependants, so no
caller can forget to. Django only: nothing here knows of Prefect.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from typing import Any
from uuid import UUID

from django.db import transaction
from django.dispatch import Signal
from django.utils import timezone

from .models import FINAL_STATUSES, Data, DataStatus

#: Sent (``data_id=...``) after the commit that put a Data object into OK or ER.
data_finished = Signal()

INPUT_ERROR = "One or more inputs have status ERROR"
UNFINISHED = (DataStatus.RESOLVING, DataStatus.WAITING, DataStatus.PREPARING, DataStatus.PROCESSING)
RESULTS_CLEARED: dict[str, Any] = {
    "output": {},
    "size": 0,
    "process_info": [],
    "process_warning": [],
    "process_error": [],
    "process_rc": None,
    "process_progress": 0,
    "started": None,
    "finished": None,
}


def attempt_key(data: Data) -> str:
    """One key per attempt of one Data object, unique even when a database is recreated and ids repeat."""
    return f"resolwe-data-{data.pk}-{data.created.timestamp():.6f}-attempt-{data.attempt}"


def _released(data_id: int) -> None:
    transaction.on_commit(lambda: data_finished.send(sender=Data, data_id=data_id))


def _of_run(flow_run_id: UUID | str):
    return Data.objects.filter(flow_run_id=uuid.UUID(str(flow_run_id)))


def is_bound(data_id: int, flow_run_id: UUID | str) -> bool:
    """Whether the Data object still exists and still belongs to this flow run."""
    return _of_run(flow_run_id).filter(pk=data_id).exists()


# --- before a flow run ------------------------------------------------------------------------


def restart(data: Data) -> None:
    """ER -> RE: a new attempt of a locked, failed Data object (the caller checked and saves nothing else)."""
    if data.status != DataStatus.ERROR:
        raise ValueError(f"Only data in status ER can be restarted, not {data.status}.")
    for name, value in RESULTS_CLEARED.items():
        setattr(data, name, value)
    data.status = DataStatus.RESOLVING
    data.scheduled = None
    data.flow_run_id = None
    data.attempt += 1
    data.modified = timezone.now()
    data.save()


def queue(data_ids: Iterable[int]) -> int:
    """RE -> WT for unbound Data objects: they wait for their inputs, or for a worker's slot."""
    return Data.objects.filter(pk__in=list(data_ids), status=DataStatus.RESOLVING, flow_run_id__isnull=True).update(
        status=DataStatus.WAITING, modified=timezone.now()
    )


def fail_on_inputs(data: Data) -> None:
    """RE/WT/PP/PR -> ER: an input failed (``data`` is locked by the caller)."""
    if data.status not in UNFINISHED:
        return
    data.status = DataStatus.ERROR
    data.process_error = [*data.process_error, INPUT_ERROR]
    data.process_rc = 1
    data.finished = timezone.now()
    data.save(update_fields=["status", "process_error", "process_rc", "finished", "modified"])
    _released(data.pk)


def bind(data_id: int, flow_run_id: UUID | str) -> bool:
    """RE/WT -> WT: record the attempt's flow run; ``False`` when the object already has one."""
    now = timezone.now()
    return bool(
        Data.objects.filter(
            pk=data_id, flow_run_id__isnull=True, status__in=[DataStatus.RESOLVING, DataStatus.WAITING]
        ).update(flow_run_id=uuid.UUID(str(flow_run_id)), status=DataStatus.WAITING, scheduled=now, modified=now)
    )


# --- during a flow run ------------------------------------------------------------------------


def prepare(data_id: int, flow_run_id: UUID | str, key: str | None, rename=None) -> Data | None:
    """any -> PP: the flow run starts an attempt; the previous attempt's results are cleared.

    A Data object not yet bound (the worker can be faster than the
    submitter's own ``bind``) is bound only when ``key`` is this attempt's
    :func:`attempt_key`. ``None`` when the object belongs to another flow run
    or no longer exists. ``rename(data)`` gives a name the user did not set.
    """
    run_uuid = uuid.UUID(str(flow_run_id))
    with transaction.atomic():
        data = Data.objects.select_for_update().select_related("process").filter(pk=data_id).first()
        if data is None:
            return None
        if data.flow_run_id is None:
            if key != attempt_key(data):
                return None
            data.flow_run_id = run_uuid
        elif data.flow_run_id != run_uuid:
            return None
        for name, value in RESULTS_CLEARED.items():
            setattr(data, name, value)
        data.status = DataStatus.PREPARING
        if data.scheduled is None:
            data.scheduled = timezone.now()
        if rename is not None and not data.named_by_user:
            data.name = rename(data)
        data.save()
    return data


def _update_unfinished(data_id: int, flow_run_id: UUID | str, **fields: Any) -> bool:
    updated = (
        _of_run(flow_run_id)
        .filter(pk=data_id)
        .exclude(status__in=FINAL_STATUSES)
        .update(modified=timezone.now(), **fields)
    )
    return bool(updated)


def start(data_id: int, flow_run_id: UUID | str) -> bool:
    """PP -> PR: the program starts; its start time is what users see."""
    return _update_unfinished(data_id, flow_run_id, status=DataStatus.PROCESSING, started=timezone.now())


def progress(data_id: int, flow_run_id: UUID | str, value: float) -> bool:
    """PP/PR, unchanged: record ``re-progress`` (0..1 from the program, 0..100 on the object)."""
    return _update_unfinished(data_id, flow_run_id, process_progress=max(0, min(100, round(value * 100))))


def finish(
    data_id: int,
    flow_run_id: UUID | str,
    *,
    ok: bool,
    output: dict[str, Any],
    size: int = 0,
    rc: int | None = None,
    info: list[str] | None = None,
    warning: list[str] | None = None,
    error: list[str] | None = None,
) -> bool:
    """-> OK or ER: the outcome of an attempt, written once; later reports of the same end change nothing."""
    fields: dict[str, Any] = {
        "status": DataStatus.DONE if ok else DataStatus.ERROR,
        "output": output,
        "size": size,
        "process_rc": rc,
        "process_info": info or [],
        "process_warning": warning or [],
        "process_error": error or [],
        "finished": timezone.now(),
    }
    if ok:
        fields["process_progress"] = 100
    with transaction.atomic():
        changed = _update_unfinished(data_id, flow_run_id, **fields)
        if changed:
            _released(data_id)
    return changed


def fail(flow_run_id: UUID | str, message: str, *, data_id: int | None = None) -> int | None:
    """-> ER: the flow run of the object ended badly (crashed, cancelled, killed); its id if it changed.

    Hooks and the event consumer know the flow run but not always the Data object.
    """
    queryset = _of_run(flow_run_id).exclude(status__in=FINAL_STATUSES)
    if data_id is not None:
        queryset = queryset.filter(pk=data_id)
    with transaction.atomic():
        data = queryset.select_for_update().first()
        if data is None:
            return None
        data.status = DataStatus.ERROR
        data.process_error = [*data.process_error, message]
        data.finished = timezone.now()
        data.save(update_fields=["status", "process_error", "finished", "modified"])
        _released(data.pk)
    return data.pk


def reopen(flow_run_id: UUID | str) -> int | None:
    """OK/ER/DR -> WT: an operator retried the flow run; the object waits for it again."""
    updated = (
        _of_run(flow_run_id)
        .filter(status__in=FINAL_STATUSES)
        .update(status=DataStatus.WAITING, finished=None, modified=timezone.now())
    )
    if not updated:
        return None
    return _of_run(flow_run_id).values_list("pk", flat=True).first()
