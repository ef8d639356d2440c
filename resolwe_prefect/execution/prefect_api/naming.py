"""How a Data object's flow run looks in Prefect: its name, tags, work queue and idempotency key.

Operators find a Data object's run in the UI by these; the idempotency key
makes a repeated submission of the same attempt return the same flow run,
so no Data object ever gets two.
"""

from __future__ import annotations

from typing import Any

from resolwe_prefect.data.models import Data
from resolwe_prefect.data.transitions import attempt_key
from resolwe_prefect.execution.prefect_api.deployments import work_queue_for


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


def flow_run_request(data: Data) -> dict[str, Any]:
    """The arguments of ``create_flow_run_from_deployment`` for one attempt of a Data object."""
    return {
        "parameters": {"data_id": data.pk},
        "name": flow_run_name(data),
        "tags": flow_run_tags(data),
        "idempotency_key": attempt_key(data),
        "work_queue_name": work_queue_for(data.process.scheduling_class),
    }
