"""Work pools and deployments of the Data flow.

``prefect.yaml`` deploys the same flow to process, Docker and Kubernetes
pools for operators; the embedded default only needs one pool and one
deployment, created here through the API so that ``resolwe-prefect up`` has
no ``prefect deploy`` step.
"""

from __future__ import annotations

from uuid import UUID

from django.conf import settings
from prefect.client.orchestration import get_client
from prefect.client.schemas.actions import WorkPoolCreate
from prefect.exceptions import ObjectAlreadyExists, ObjectNotFound

ENTRYPOINT = "resolwe_prefect/execution/flows.py:process_data"


def deployment_name() -> tuple[str, str]:
    """``(flow name, deployment name)`` of the deployment Data objects are submitted to."""
    flow_name, _, name = settings.PREFECT_DEPLOYMENT.partition("/")
    return flow_name, name


async def ensure_work_pool(name: str, pool_type: str = "process") -> None:
    """Create a work pool unless it exists."""
    async with get_client() as client:
        try:
            await client.read_work_pool(name)
        except ObjectNotFound:
            try:
                await client.create_work_pool(WorkPoolCreate(name=name, type=pool_type))
            except ObjectAlreadyExists:
                pass


WORK_POOLS = {"resolwe-local": "process", "resolwe-process": "process"}


async def ensure_work_pools() -> list[str]:
    """Create every pool ``prefect.yaml`` deploys to; return their names."""
    for name, pool_type in WORK_POOLS.items():
        await ensure_work_pool(name, pool_type)
    return list(WORK_POOLS)


async def ensure_local_deployment() -> UUID:
    """Register the Data flow's deployment on the embedded worker's pool and return its id."""
    from resolwe_prefect.execution.flows import process_data

    await ensure_work_pool(settings.PREFECT_WORK_POOL)
    _flow_name, name = deployment_name()
    deployment = await process_data.to_deployment(
        name=name,
        work_pool_name=settings.PREFECT_WORK_POOL,
        description="Each flow run processes one Resolwe Data object.",
        tags=["resolwe"],
    )
    deployment.entrypoint = ENTRYPOINT
    return await deployment.apply()
