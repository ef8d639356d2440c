"""Hand Data objects to Prefect: one flow run each, created from the deployment.

Creating the flow run is the hand-over; the worker hears of it through
Prefect's event stream and starts it at once. The idempotency key makes a
repeated submission of the same attempt return the same flow run, so no
Data object ever gets two.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from functools import lru_cache
from typing import Any
from uuid import UUID

from django.utils import timezone

from resolwe_prefect.data.models import Data, DataStatus
from resolwe_prefect.execution.client import sync_client
from resolwe_prefect.execution.deployments import deployment_name, work_queue_for

logger = logging.getLogger(__name__)


@lru_cache(maxsize=1)
def _deployment_id() -> UUID:
    flow_name, name = deployment_name()
    with sync_client() as client:
        return client.read_deployment_by_name(f"{flow_name}/{name}").id


def flow_run_name(data: Data) -> str:
    """What operators see in the Prefect UI: the Data object, its process and, after a restart, the attempt."""
    attempt = f" (attempt {data.attempt})" if data.attempt > 1 else ""
    return f"data-{data.pk}{attempt} {data.process.slug}: {data.name}"[:200]


def flow_run_tags(data: Data) -> list[str]:
    """Tags carry the process slug and type, so the UI can filter and limit by them."""
    return [
        f"process:{data.process.slug}",
        f"process-type:{data.process.type}",
        f"scheduling:{data.process.scheduling_class}",
        f"attempt:{data.attempt}",
    ]


def idempotency_key(data: Data) -> str:
    """One key per attempt of one Data object, unique even when a database is recreated and ids repeat."""
    return f"resolwe-data-{data.pk}-{data.created.timestamp():.6f}-attempt-{data.attempt}"


#: Set by an executor that runs flow runs in this process (the embedded worker): it then takes the
#: ready Data objects itself, from whatever thread resolved them (see ``worker.DataWorker.hand_over``).
_local_executor: Callable[[list[int]], None] | None = None


def set_local_executor(executor: Callable[[list[int]], None] | None) -> None:
    """Register (or with ``None`` remove) the in-process executor that ready Data objects go to."""
    global _local_executor
    _local_executor = executor


def flow_run_request(data: Data) -> dict[str, Any]:
    """The arguments of ``create_flow_run_from_deployment`` for one attempt of a Data object."""
    return {
        "parameters": {"data_id": data.pk},
        "name": flow_run_name(data),
        "tags": flow_run_tags(data),
        "idempotency_key": idempotency_key(data),
        "work_queue_name": work_queue_for(data.process.scheduling_class),
    }


def unsubmitted(data_ids: list[int]) -> list[Data]:
    """The Data objects among these that have no flow run yet, with their processes."""
    return list(Data.objects.filter(pk__in=data_ids, flow_run_id__isnull=True).select_related("process"))


def queue_unsubmitted(data_ids: list[int]) -> list[tuple[int, str]]:
    """Mark the unsubmitted Data objects among these as waiting (WT); return ``(id, scheduling class)`` of each.

    Only two columns are read, so queueing a fan-out of thousands holds
    two small values per object, not the objects.
    """
    rows = list(
        Data.objects.filter(pk__in=data_ids, flow_run_id__isnull=True)
        .order_by("pk")
        .values_list("pk", "process__scheduling_class")
    )
    Data.objects.filter(pk__in=[pk for pk, _ in rows], status=DataStatus.RESOLVING).update(
        status=DataStatus.WAITING, modified=timezone.now()
    )
    return rows


def bind_flow_run(data_id: int, flow_run_id: UUID) -> bool:
    """Record a new flow run on its Data object (WT); ``False`` when the object already has one."""
    now = timezone.now()
    return bool(
        Data.objects.filter(pk=data_id, flow_run_id__isnull=True).update(
            flow_run_id=flow_run_id, status=DataStatus.WAITING, scheduled=now, modified=now
        )
    )


def submit_data(data_ids: list[int]) -> list[UUID]:
    """Create one flow run for each Data object that has none yet; return the flow run ids.

    In the embedded worker's process the ids go to the worker, which
    creates the runs already claimed and starts them; it returns no ids.
    """
    if _local_executor is not None:
        _local_executor(list(data_ids))
        return []
    created: list[UUID] = []
    pending = unsubmitted(data_ids)
    if not pending:
        return created
    with sync_client() as client:
        for data in pending:
            flow_run = client.create_flow_run_from_deployment(_deployment_id(), **flow_run_request(data))
            bind_flow_run(data.pk, flow_run.id)
            created.append(flow_run.id)
    return created
