"""The first steps of a launch flow run: a process started from the Prefect UI.

A run of a process's launch deployment (``prefect_api.launch_deployments``)
creates its own Data object, owned by the service user and bound to the run
at once, waits for its inputs, and then processes it like any other flow
run; a retried launch finds its object again.
"""

from __future__ import annotations

import asyncio
import uuid
from typing import Any
from uuid import UUID

from asgiref.sync import sync_to_async
from django.conf import settings
from django.db import transaction
from prefect import get_run_logger, task
from prefect.cache_policies import NO_CACHE
from prefect.client.orchestration import get_client

from resolwe_prefect.data import lifecycle, transitions
from resolwe_prefect.data.models import Data
from resolwe_prefect.data.services import DataError, create_data
from resolwe_prefect.execution.prefect_api.launch_deployments import service_user
from resolwe_prefect.execution.prefect_api.naming import flow_run_name, flow_run_tags

LAUNCH_INPUT_POLL_SECONDS = 1.0


class LaunchError(Exception):
    """A launch from the Prefect UI was refused (unknown process, bad inputs); nothing was created."""


async def process_slug_of(deployment_id: UUID | str | None) -> str:
    """Which process a launch flow run runs: its deployment is named after the process's slug."""
    if deployment_id is None:
        raise ValueError("A launch flow run must be started from a process's deployment.")
    async with get_client() as client:
        return (await client.read_deployment(deployment_id)).name


def create_launched_data(flow_run_id: str, process_slug: str, inputs: Any, name: str | None = None) -> int:
    """Create the Data object of a launch flow run, bound to that run; a retried run gets its object back.

    The object is created and bound in one transaction, so the dispatcher,
    which only submits unbound Data objects, never gives it a second flow run.
    Bad inputs raise ``DataError`` naming the field, and nothing is created.
    """
    run_uuid = uuid.UUID(str(flow_run_id))
    existing = Data.objects.filter(flow_run_id=run_uuid).values_list("pk", flat=True).first()
    if existing is not None:
        return existing
    with transaction.atomic():
        data = create_data(user=service_user(), process_ref={"slug": process_slug}, input=inputs, name=name or None)
        transitions.bind(data.pk, run_uuid)
    return data.pk


def _name_and_tags(data_id: int) -> tuple[str, list[str]]:
    data = Data.objects.select_related("process").get(pk=data_id)
    return flow_run_name(data), flow_run_tags(data)


@task(name="create-data", cache_policy=NO_CACHE, retries=0)
async def create_data_for_run(
    flow_run_id: str, deployment_id: str | None, tags: list[str], inputs: Any, name: str | None
) -> int:
    """Create the Data object a launch flow run processes, owned by the service user (or find it on a retry)."""
    slug = await process_slug_of(deployment_id)
    try:
        data_id = await sync_to_async(create_launched_data, thread_sensitive=False)(flow_run_id, slug, inputs, name)
    except DataError as error:
        detail = error.detail if isinstance(error.detail, dict) else {"error": error.detail}
        raise LaunchError(f"Could not create the Data object of {slug}: {detail}") from error
    get_run_logger().info("Data %s created for this flow run, owned by %s", data_id, settings.LAUNCH_SERVICE_USER)
    run_name, data_tags = await sync_to_async(_name_and_tags, thread_sensitive=False)(data_id)
    async with get_client() as client:  # the UI then names the run like any other Data flow run
        await client.update_flow_run(UUID(flow_run_id), name=run_name, tags=sorted({*tags, *data_tags, "launched"}))
    return data_id


@task(name="wait-for-inputs", cache_policy=NO_CACHE, retries=0)
async def wait_for_inputs(data_id: int) -> bool:
    """Hold a launched Data object until its input Data objects are OK; ``False`` (and ER) when one fails."""
    state = await sync_to_async(lifecycle.inputs_state, thread_sensitive=False)(data_id)
    while state == "waiting":
        await asyncio.sleep(LAUNCH_INPUT_POLL_SECONDS)
        state = await sync_to_async(lifecycle.inputs_state, thread_sensitive=False)(data_id)
    if state == "ready":
        return True
    await sync_to_async(lifecycle.fail_on_inputs, thread_sensitive=False)(data_id)
    return False
