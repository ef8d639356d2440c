"""Running a process from the Prefect UI: one deployment per process.

Operators live in the Prefect UI, so a process can be started there too.
Each active process gets a deployment of the launch flow, named after its
slug, whose parameter schema is generated from the process's inputs (see
``parameters``). A flow run of it (``run.launched``) creates its own Data
object, owned by the configured service user, binds the object to itself
and processes it like any other: the Data object is then one flow run, as
always, and shows in the API with a link back to that run.

The service user is an ordinary user: it gets view on the processes it may
run, and can only use Data objects that were shared with it as inputs, so
a launch from the UI cannot read what the API would not let it read.
"""

from __future__ import annotations

import logging
from uuid import UUID

from asgiref.sync import sync_to_async
from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import transaction
from django.db.models import Max
from prefect.client.orchestration import get_client
from prefect.client.schemas.filters import FlowFilter, FlowFilterName

from resolwe_prefect.execution.prefect_api.deployments import deployment_name, work_queue_for
from resolwe_prefect.execution.prefect_api.parameters import launch_parameter_schema
from resolwe_prefect.permissions.models import Permission
from resolwe_prefect.permissions.services import filter_for_user, set_permission
from resolwe_prefect.processes.models import Process

logger = logging.getLogger(__name__)

LAUNCH_FLOW_NAME = "resolwe-launch"
LAUNCH_ENTRYPOINT = "resolwe_prefect/execution/flows.py:launch_process"


def service_user():
    """The user that owns Data objects launched from the Prefect UI (created on first use)."""
    user, created = get_user_model().objects.get_or_create(
        username=settings.LAUNCH_SERVICE_USER, defaults={"first_name": "Prefect", "last_name": "launch"}
    )
    if created:
        user.set_unusable_password()
        user.save(update_fields=["password"])
    return user


def launchable_processes() -> list[Process]:
    """The latest active version of every process: one deployment each."""
    latest: dict[str, Process] = {}
    for process in Process.objects.filter(is_active=True).order_by("slug", "-version"):
        latest.setdefault(process.slug, process)
    return list(latest.values())


def processes_fingerprint() -> tuple:
    """Changes whenever a process is registered, changed or retired: the cue to sync deployments again."""
    summary = Process.objects.aggregate(last=Max("modified"), top=Max("pk"))
    return (summary["last"], summary["top"], Process.objects.filter(is_active=True).count())


def _grant_view(processes: list[Process]) -> None:
    """Let the service user see the processes it has deployments for (never lowering a higher grant)."""
    user = service_user()
    visible = set(
        filter_for_user(Process.objects.filter(pk__in=[p.pk for p in processes]), user).values_list("pk", flat=True)
    )
    with transaction.atomic():
        for process in processes:
            if process.pk not in visible:
                set_permission(process, user, Permission.VIEW)


async def sync_launch_deployments() -> dict[UUID, str]:
    """Create or update the launch deployment of every active process; return ``{deployment id: slug}``.

    The deployments copy the pool, job variables and pull steps of the
    deployment Data objects are submitted to, so a launch runs where any
    other Data object would. Deployments of retired processes are removed.
    """
    processes = await sync_to_async(launchable_processes, thread_sensitive=False)()
    await sync_to_async(_grant_view, thread_sensitive=False)(processes)
    flow_name, name = deployment_name()
    deployed: dict[UUID, str] = {}
    async with get_client() as client:
        template = await client.read_deployment_by_name(f"{flow_name}/{name}")
        flow_id = await client.create_flow_from_name(LAUNCH_FLOW_NAME)
        for process in processes:
            deployment_id = await client.create_deployment(
                flow_id=flow_id,
                name=process.slug,
                version=str(process.version),
                description=f"Run **{process.name}** ({process.slug} {process.version}): creates one Data object, "
                f"owned by `{settings.LAUNCH_SERVICE_USER}`, and processes it.\n\n{process.description}",
                work_pool_name=template.work_pool_name,
                work_queue_name=work_queue_for(process.scheduling_class),
                tags=["resolwe", "launch", f"process:{process.slug}"],
                path=template.path,
                entrypoint=LAUNCH_ENTRYPOINT,
                pull_steps=template.pull_steps,
                job_variables=template.job_variables,
                storage_document_id=template.storage_document_id,
                parameter_openapi_schema=launch_parameter_schema(process.name, process.input_schema),
                enforce_parameter_schema=True,
            )
            deployed[deployment_id] = process.slug
        existing = await client.read_deployments(flow_filter=FlowFilter(name=FlowFilterName(any_=[LAUNCH_FLOW_NAME])))
        for deployment in existing:
            if deployment.id not in deployed:
                await client.delete_deployment(deployment.id)
                logger.info("Removed launch deployment %r: its process is no longer active", deployment.name)
    return deployed
