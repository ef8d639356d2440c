"""Write what a flow run learns back into its Data object.

Every write is guarded by the flow run id: a Data object only takes news
from the flow run it currently belongs to, and a final status is written once.
That makes write-back idempotent, so hooks, the event consumer and the flow
itself may all report the same end without harm.
"""

from __future__ import annotations

import shutil
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from resolwe_prefect.data.models import FINAL_STATUSES, Data, DataStatus
from resolwe_prefect.data.resources import resource_limits

CANCELLED_MESSAGE = "Processing was cancelled."


@dataclass
class RunPlan:
    """A Data object as one flow run sees it: enough to render, run and collect."""

    data_id: int
    flow_run_id: str
    slug: str
    name: str
    contributor_id: int
    process: dict[str, Any]
    input: dict[str, Any]
    limits: dict[str, Any]
    data_dir: str
    runtime_dir: str
    collection_id: int | None = None
    entity_id: int | None = None
    extra: dict[str, Any] = field(default_factory=dict)


def data_dir(data_id: int) -> Path:
    """Where a Data object's files live: ``<DATA_DIR>/<id>``."""
    return Path(settings.FLOW_EXECUTOR["DATA_DIR"]) / str(data_id)


def runtime_dir(data_id: int) -> Path:
    """Our side of a run (script, commands, temp files): never part of the Data's files."""
    return Path(settings.STATE_DIR) / "runtime" / str(data_id)


def claim_data(data_id: int, flow_run_id: str, idempotency_key: str | None = None) -> RunPlan | None:
    """Start an attempt: bind the flow run, reset the previous attempt's results, set PP.

    A Data object not yet bound to a flow run (the worker can be faster than
    the submitter's own update) is bound only when the flow run's
    idempotency key names this very attempt. Returns ``None`` when the Data
    object belongs to another flow run (this one is stale) or no longer exists.
    """
    from resolwe_prefect.data.naming import render_data_name
    from resolwe_prefect.execution.submit import idempotency_key as expected_key

    run_uuid = uuid.UUID(str(flow_run_id))
    with transaction.atomic():
        data = Data.objects.select_for_update().select_related("process").filter(pk=data_id).first()
        if data is None:
            return None
        if data.flow_run_id is None:
            if idempotency_key != expected_key(data):
                return None
            data.flow_run_id = run_uuid
        elif data.flow_run_id != run_uuid:
            return None
        process = data.process
        data.status = DataStatus.PREPARING
        data.output, data.size = {}, 0
        data.process_info, data.process_warning, data.process_error = [], [], []
        data.process_rc, data.process_progress = None, 0
        data.started = data.finished = None
        if data.scheduled is None:
            data.scheduled = timezone.now()
        if not data.named_by_user:
            data.name = render_data_name(process, data.input)
        data.save()
    directory, scratch = data_dir(data.pk), runtime_dir(data.pk)
    for path in (directory, scratch):
        shutil.rmtree(path, ignore_errors=True)
        path.mkdir(parents=True)
    (scratch / "tmp").mkdir()
    return RunPlan(
        data_id=data.pk,
        flow_run_id=str(run_uuid),
        slug=data.slug,
        name=data.name,
        contributor_id=data.contributor_id,
        process={
            "id": process.pk,
            "slug": process.slug,
            "version": str(process.version),
            "name": process.name,
            "type": process.type,
            "run": process.run,
            "requirements": process.requirements,
            "input_schema": process.input_schema,
            "output_schema": process.output_schema,
            "scheduling_class": process.scheduling_class,
            "persistence": process.persistence,
        },
        input=data.input,
        limits=resource_limits(process, data.process_resources),
        data_dir=str(directory),
        runtime_dir=str(scratch),
        collection_id=data.collection_id,
        entity_id=data.entity_id,
    )


def _update(data_id: int, flow_run_id: str, **fields: Any) -> bool:
    """Update a non-final Data object that still belongs to this flow run."""
    updated = (
        Data.objects.filter(pk=data_id, flow_run_id=uuid.UUID(str(flow_run_id)))
        .exclude(status__in=FINAL_STATUSES)
        .update(modified=timezone.now(), **fields)
    )
    return bool(updated)


def still_bound(plan: RunPlan) -> bool:
    """Whether the Data object still exists and still belongs to this flow run (not deleted, not restarted)."""
    return Data.objects.filter(pk=plan.data_id, flow_run_id=uuid.UUID(str(plan.flow_run_id))).exists()


def mark_processing(plan: RunPlan) -> bool:
    """The program is starting: PR, and the start time users see."""
    return _update(plan.data_id, plan.flow_run_id, status=DataStatus.PROCESSING, started=timezone.now())


def set_progress(plan: RunPlan, progress: float) -> bool:
    """Record ``re-progress`` (0..1 from the program, 0..100 on the Data object)."""
    return _update(plan.data_id, plan.flow_run_id, process_progress=max(0, min(100, round(progress * 100))))


def finish(
    plan: RunPlan,
    *,
    ok: bool,
    output: dict[str, Any],
    size: int = 0,
    rc: int | None = None,
    info: list[str] | None = None,
    warning: list[str] | None = None,
    error: list[str] | None = None,
) -> bool:
    """Write the outcome of an attempt once; later reports of the same end are ignored."""
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
    return _update(plan.data_id, plan.flow_run_id, **fields)


def fail_flow_run(flow_run_id: str, message: str, *, data_id: int | None = None) -> int | None:
    """Put the Data object of a flow run that ended badly into ER; return its id if it changed.

    Used by hooks and by the event consumer, which know the flow run but not
    always the Data object.
    """
    queryset = Data.objects.filter(flow_run_id=uuid.UUID(str(flow_run_id))).exclude(status__in=FINAL_STATUSES)
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
    return data.pk


def reopen_for_retry(flow_run_id: str) -> int | None:
    """An operator retried the flow run: the Data object goes back to waiting for it."""
    run_uuid = uuid.UUID(str(flow_run_id))
    updated = Data.objects.filter(flow_run_id=run_uuid, status__in=FINAL_STATUSES).update(
        status=DataStatus.WAITING, finished=None, modified=timezone.now()
    )
    if not updated:
        return None
    return Data.objects.filter(flow_run_id=run_uuid).values_list("pk", flat=True).first()
