"""Hand Data objects to Prefect: one flow run each, created from the deployment.

Creating the flow run is the hand-over; the worker hears of it through
Prefect's event stream and starts it at once. The idempotency key makes a
repeated submission of the same attempt return the same flow run, so no
Data object ever gets two.
"""

from __future__ import annotations

import logging
from functools import lru_cache
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


def submit_data(data_ids: list[int]) -> list[UUID]:
    """Create one flow run for each Data object that has none yet; return the flow run ids."""
    created: list[UUID] = []
    pending = list(Data.objects.filter(pk__in=data_ids, flow_run_id__isnull=True).select_related("process"))
    if not pending:
        return created
    with sync_client() as client:
        for data in pending:
            flow_run = client.create_flow_run_from_deployment(
                _deployment_id(),
                parameters={"data_id": data.pk},
                name=flow_run_name(data),
                tags=flow_run_tags(data),
                idempotency_key=idempotency_key(data),
                work_queue_name=work_queue_for(data.process.scheduling_class),
            )
            Data.objects.filter(pk=data.pk, flow_run_id__isnull=True).update(
                flow_run_id=flow_run.id, status=DataStatus.WAITING, scheduled=timezone.now(), modified=timezone.now()
            )
            created.append(flow_run.id)
    return created
