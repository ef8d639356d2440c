"""Work pools and deployments of the Data flow.

``prefect.yaml`` deploys the same flow to process, Docker and Kubernetes
pools for operators; the embedded default only needs one pool and one
deployment, created here through the API so that ``resolwe-prefect up`` has
no ``prefect deploy`` step.
"""

from __future__ import annotations

import json
from pathlib import Path

from django.conf import settings
from prefect.client.orchestration import get_client
from prefect.client.schemas.actions import WorkPoolCreate
from prefect.exceptions import ObjectAlreadyExists, ObjectNotFound

from resolwe_prefect.processes.models import Process

ENTRYPOINT = "resolwe_prefect/execution/flows.py:process_data"


def deployment_name() -> tuple[str, str]:
    """``(flow name, deployment name)`` of the deployment Data objects are submitted to."""
    flow_name, _, name = settings.PREFECT_DEPLOYMENT.partition("/")
    return flow_name, name


#: Work queues of every pool, by priority: workers take interactive runs first.
INTERACTIVE_QUEUE, BATCH_QUEUE = "interactive", "batch"


def queue_limits() -> dict[str, tuple[int, int]]:
    """``{queue: (priority, concurrency limit)}``.

    Batch work is capped at the worker's slots (the machine's cores by
    default) and interactive work has slots of its own, so a queue full of
    batch runs can never hold an interactive run back.
    """
    return {
        INTERACTIVE_QUEUE: (1, settings.WORKER_INTERACTIVE_SLOTS),
        BATCH_QUEUE: (2, settings.WORKER_CONCURRENCY),
    }


def work_queue_for(scheduling_class: str) -> str:
    """The queue a Data object's flow run goes to, by its process's scheduling class."""
    return INTERACTIVE_QUEUE if scheduling_class == Process.SCHEDULING_CLASS_INTERACTIVE else BATCH_QUEUE


async def ensure_work_pool(name: str, pool_type: str = "process", base_job_template: dict | None = None) -> None:
    """Create a work pool unless it exists, and its interactive and batch queues."""
    async with get_client() as client:
        try:
            await client.read_work_pool(name)
        except ObjectNotFound:
            pool = WorkPoolCreate(name=name, type=pool_type, base_job_template=base_job_template or {})
            try:
                await client.create_work_pool(pool)
            except ObjectAlreadyExists:
                pass
        for queue, (priority, limit) in queue_limits().items():
            try:
                await client.read_work_queue_by_name(queue, work_pool_name=name)
            except ObjectNotFound:
                try:
                    await client.create_work_queue(
                        name=queue, work_pool_name=name, priority=priority, concurrency_limit=limit,
                        description=f"Resolwe {queue} processes",
                    )  # fmt: skip
                except ObjectAlreadyExists:
                    pass


DEPLOYMENTS_DIR = Path(__file__).resolve().parents[3] / "deployments"
# Pool name -> (worker type, base job template file under deployments/, or None for the type's default).
WORK_POOLS: dict[str, tuple[str, str | None]] = {
    "resolwe-local": ("process", None),
    "resolwe-process": ("process", None),
    "resolwe-docker": ("docker", "docker/base-job-template.json"),
    "resolwe-kubernetes": ("kubernetes", "kubernetes/base-job-template.json"),
}


async def ensure_work_pools() -> list[str]:
    """Create every pool ``prefect.yaml`` deploys to, with the base job templates in ``deployments/``."""
    for name, (pool_type, template) in WORK_POOLS.items():
        base = json.loads((DEPLOYMENTS_DIR / template).read_text()) if template else None
        await ensure_work_pool(name, pool_type, base)
    return list(WORK_POOLS)
