"""``resolwe-prefect worker``: register the Data flow's deployment on the local pool and serve it."""

from __future__ import annotations

from datetime import timedelta
from uuid import UUID

from django.conf import settings

from resolwe_prefect.execution.flows import process_data, storage_maintenance
from resolwe_prefect.execution.prefect_api.deployments import (
    BATCH_QUEUE,
    ENTRYPOINT,
    deployment_name,
    ensure_work_pool,
    queue_limits,
)
from resolwe_prefect.execution.worker.core import DataWorker


async def ensure_local_deployment() -> UUID:
    """Register the Data flow's deployment on the embedded worker's pool and return its id."""
    await ensure_work_pool(settings.PREFECT_WORK_POOL)
    _flow_name, name = deployment_name()
    deployment = await process_data.ato_deployment(
        name=name,
        work_pool_name=settings.PREFECT_WORK_POOL,
        description="Each flow run processes one Resolwe Data object.",
        tags=["resolwe"],
    )
    deployment.entrypoint = ENTRYPOINT
    return await deployment.aapply()


STORAGE_ENTRYPOINT = "resolwe_prefect/execution/flows.py:storage_maintenance"


async def ensure_storage_deployment() -> UUID | None:
    """With object storage configured, the scheduled deployment of the storage manager and cleanup."""
    from resolwe_prefect.storage.config import object_storage_configured

    if not object_storage_configured():
        return None
    deployment = await storage_maintenance.ato_deployment(
        name="storage",
        work_pool_name=settings.PREFECT_WORK_POOL,
        work_queue_name=BATCH_QUEUE,
        interval=timedelta(seconds=settings.STORAGE_MANAGER_INTERVAL),
        description="Resolwe's storage manager and cleanup: copies and deletes Data files by the connectors' rules.",
        tags=["resolwe", "storage"],
    )
    deployment.entrypoint = STORAGE_ENTRYPOINT
    return await deployment.aapply()


async def serve() -> None:
    """Run the embedded worker until cancelled."""
    deployment_id = await ensure_local_deployment()
    storage_id = await ensure_storage_deployment()
    # The worker holds each queue to the limit the server holds it to (batch:
    # WORKER_CONCURRENCY, interactive: WORKER_INTERACTIVE_SLOTS): the runs it
    # creates already claimed never pass through the server's scheduling.
    slots = {queue: limit for queue, (_priority, limit) in queue_limits().items()}
    worker = DataWorker(settings.PREFECT_WORK_POOL, deployment_id, slots=slots)
    if storage_id is not None:
        worker.flows[storage_id] = storage_maintenance
    await worker.run()
