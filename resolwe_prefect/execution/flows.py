"""The flows: one run of ``process_data`` processes one Data object.

Deployed to every work pool (the embedded in-process worker, process,
Docker and Kubernetes pools) from the same entrypoint,
``resolwe_prefect/execution/flows.py:process_data``; ``launch_process``
is the flow of every process's launch deployment. Their steps live in
``run``, which runs under any worker.
"""

from __future__ import annotations

from typing import Any

from prefect import flow
from prefect.client.schemas.objects import FlowRun
from prefect.context import FlowRunContext
from prefect.states import Cancelled, Failed

from resolwe_prefect.execution.django_setup import ensure_django

ensure_django()

from resolwe_prefect.data.transitions import INPUT_ERROR  # noqa: E402
from resolwe_prefect.execution.prefect_api.launch_deployments import LAUNCH_FLOW_NAME  # noqa: E402
from resolwe_prefect.execution.run import hooks  # noqa: E402
from resolwe_prefect.execution.run.launched import LaunchError, create_data_for_run, wait_for_inputs  # noqa: E402
from resolwe_prefect.execution.run.steps import (  # noqa: E402
    ProgramError,
    collect_and_save,
    object_storage_configured,
    prepare,
    record_failure,
    render_program,
    run_program,
    run_workflow,
    stage_inputs,
    unstage_inputs,
)

FLOW_NAME = "resolwe-data"
STORAGE_FLOW_NAME = "resolwe-storage"


def _this_flow_run() -> FlowRun:
    """The flow run whose flow is running now (a flow always runs inside its flow-run context)."""
    context = FlowRunContext.get()
    if context is None or context.flow_run is None:
        raise RuntimeError("A Data flow runs only as a Prefect flow run.")
    return context.flow_run


@flow(
    name=FLOW_NAME,
    description="Process one Resolwe Data object: stage its inputs, render and run its program, collect its outputs.",
    persist_result=False,
    log_prints=True,
    on_crashed=[hooks.on_crashed],
    on_cancellation=[hooks.on_cancellation],
)
async def process_data(data_id: int) -> Any:
    """Process Data ``data_id``; the run ends Failed exactly when the Data object ends in ER."""
    return await _process(data_id, _this_flow_run())


@flow(
    name=LAUNCH_FLOW_NAME,
    description="Run a Resolwe process from the Prefect UI: create its Data object, owned by the service user, "
    "and process it in this flow run.",
    persist_result=False,
    log_prints=True,
    on_crashed=[hooks.on_crashed],
    on_cancellation=[hooks.on_cancellation],
)
async def launch_process(inputs: dict[str, Any], name: str | None = None) -> Any:
    """One run of a process's launch deployment; the form's fields arrive as ``inputs``."""
    flow_run = _this_flow_run()
    deployment_id = str(flow_run.deployment_id) if flow_run.deployment_id else None
    try:
        data_id = await create_data_for_run(str(flow_run.id), deployment_id, list(flow_run.tags), inputs, name)
    except LaunchError as error:
        return Failed(message=str(error))
    if not await wait_for_inputs(data_id):
        return Failed(message=INPUT_ERROR)
    return await _process(data_id, flow_run)


async def _process(data_id: int, flow_run: Any) -> Any:
    """The steps every Data flow run takes, whoever created the run."""
    flow_run_id = str(flow_run.id)
    plan = await prepare(data_id, flow_run_id, flow_run.idempotency_key)
    if plan is None:
        return Cancelled(message=f"Data {data_id} does not belong to flow run {flow_run_id} (deleted or restarted).")
    if plan.process.language == "workflow":
        summary = await run_workflow(plan)
        return summary if summary["ok"] else Failed(message="; ".join(summary["errors"])[:1000])
    if not object_storage_configured():
        return await _run(plan)
    staged: list[int] = []
    try:
        try:
            staged = await stage_inputs(plan)
        except Exception as error:  # noqa: BLE001 - any failure to fetch an input ends the Data object in ER
            message = f"Could not stage the inputs from object storage: {error}"
            await record_failure(plan, message)
            return Failed(message=message)
        return await _run(plan)
    finally:
        await unstage_inputs(plan, staged)


async def _run(plan: Any) -> Any:
    """Render, run and collect the program of a Data object whose inputs are on this host."""
    try:
        script = await render_program(plan)
    except ProgramError as error:
        await record_failure(plan, str(error))
        return Failed(message=str(error))
    result = await run_program(plan, script)
    if result.get("detached"):
        return Cancelled(message=result["message"])
    summary = await collect_and_save(plan, result)
    if not summary["ok"]:
        return Failed(message="; ".join(summary["errors"])[:1000] or "Processing failed.")
    return summary


@flow(name=STORAGE_FLOW_NAME, log_prints=True)
async def storage_maintenance() -> dict[str, list[str]]:
    """One pass of the storage manager and one of the cleanup (``runstoragemanager``, ``runstoragecleanup``).

    Scheduled by the embedded worker when object storage is configured, so operators see every
    pass, its log and its failures in the Prefect UI, and can run one now.
    """
    from asgiref.sync import sync_to_async

    from resolwe_prefect.storage.manager import run_cleanup, run_manager

    manager = await sync_to_async(run_manager, thread_sensitive=False)()
    cleanup = await sync_to_async(run_cleanup, thread_sensitive=False)()
    for line in [*manager.lines(), *cleanup.lines()]:
        print(line)
    if manager.failed or cleanup.failed:
        return Failed(message="; ".join([*manager.failed, *cleanup.failed])[:1000])  # type: ignore[return-value]
    return {"manager": manager.lines(), "cleanup": cleanup.lines()}
