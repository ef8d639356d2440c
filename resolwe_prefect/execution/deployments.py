"""Work pools and deployments of the Data flow.

``prefect.yaml`` deploys the same flow to process, Docker and Kubernetes
pools for operators; the embedded default only needs one pool and one
deployment, created here through the API so that ``resolwe-prefect up`` has
no ``prefect deploy`` step.
"""

from __future__ import annotations

import json
from pathlib import Path
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


async def ensure_work_pool(name: str, pool_type: str = "process", base_job_template: dict | None = None) -> None:
    """Create a work pool unless it exists."""
    async with get_client() as client:
        try:
            await client.read_work_pool(name)
        except ObjectNotFound:
            pool = WorkPoolCreate(name=name, type=pool_type, base_job_template=base_job_template or {})
            try:
                await client.create_work_pool(pool)
            except ObjectAlreadyExists:
                pass


DEPLOYMENTS_DIR = Path(__file__).resolve().parents[2] / "deployments"
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
