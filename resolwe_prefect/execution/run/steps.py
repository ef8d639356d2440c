"""The steps of one Data flow run, each a Prefect task: prepare, render, run, collect.

Each is an async task so that many flow runs can share one event loop in
the worker; the Django ORM is reached through threads. Status changes go
through ``data.transitions``, which also releases the dependants of an
object that finishes.
"""

from __future__ import annotations

import asyncio
import os
from pathlib import Path
from typing import Any

from asgiref.sync import sync_to_async
from django.conf import settings
from prefect import get_run_logger, task
from prefect.cache_policies import NO_CACHE

from resolwe_prefect.data import transitions
from resolwe_prefect.execution.backends import get_backend
from resolwe_prefect.execution.backends.base import python_runtime
from resolwe_prefect.execution.run import outputs, program
from resolwe_prefect.execution.run.artifacts import ProgressMirror, publish_outputs_summary
from resolwe_prefect.execution.run.channel import Channel
from resolwe_prefect.execution.run.children import ChildError
from resolwe_prefect.execution.run.children import run_workflow as create_steps
from resolwe_prefect.execution.run.plan import RunPlan, prepare_run
from resolwe_prefect.expressions import EvaluationError
from resolwe_prefect.runtime.commands import CommandReader
from resolwe_prefect.runtime.preamble import program_preamble
from resolwe_prefect.secrets.services import SecretAccessError, remove_secret_files, write_secret_files

PROGRESS_POLL_SECONDS = 0.5
#: How often a running program's flow run checks that its Data object is still there and still its own.
BINDING_POLL_SECONDS = 3.0
DETACHED_MESSAGE = "The Data object was deleted or restarted while its program ran; the program was stopped."


class ProgramError(Exception):
    """The program could not be prepared (bad template, unknown engine or language)."""


def db(function):
    """Run an ORM function from async code without blocking the worker's event loop."""
    return sync_to_async(function, thread_sensitive=False)


@task(name="prepare-run", cache_policy=NO_CACHE, retries=0)
async def prepare(data_id: int, flow_run_id: str, idempotency_key: str | None) -> RunPlan | None:
    """Bind the flow run to its Data object (PP), give the attempt fresh directories, make the run plan."""
    return await db(prepare_run)(data_id, flow_run_id, idempotency_key)


def _finish(plan: RunPlan, **outcome: Any) -> bool:
    return transitions.finish(plan.data_id, plan.flow_run_id, **outcome)


@task(name="run-workflow", cache_policy=NO_CACHE, retries=0)
async def run_workflow(plan: RunPlan) -> dict[str, Any]:
    """A workflow process runs no program: it creates its steps as Data objects and is done."""

    def create_and_finish() -> dict[str, Any]:
        try:
            steps = create_steps(plan, program.engine_for(plan))
        except (ChildError, EvaluationError) as error:
            message = f"Error in workflow: {error}"
            _finish(plan, ok=False, output={}, error=[message])
            return {"data_id": plan.data_id, "ok": False, "errors": [message]}
        _finish(plan, ok=True, output={"steps": steps}, rc=0)
        return {"data_id": plan.data_id, "ok": True, "output": {"steps": steps}, "errors": []}

    return await db(create_and_finish)()


def object_storage_configured() -> bool:
    """Whether inputs may be kept elsewhere than on the local disk (then the flow run stages them)."""
    from resolwe_prefect.storage.config import object_storage_configured as configured

    return configured()


@task(name="stage-inputs", cache_policy=NO_CACHE, retries=2, retry_delay_seconds=5)
async def stage_inputs(plan: RunPlan) -> list[int]:
    """Download the inputs kept only in object storage onto this host; the ids of those staged."""
    from resolwe_prefect.data.dependencies import input_data_ids
    from resolwe_prefect.storage import staging

    staged = await db(staging.stage_inputs)(input_data_ids(plan.process.input_schema, plan.input), plan.data_id)
    if staged:
        get_run_logger().info("Staged the files of Data %s from object storage.", ", ".join(map(str, staged)))
    return staged


@task(name="unstage-inputs", cache_policy=NO_CACHE, retries=0)
async def unstage_inputs(plan: RunPlan, staged: list[int]) -> list[int]:
    """Release this run's inputs; remove the local copies staged for it that no other unfinished reader needs."""
    from resolwe_prefect.storage import staging

    return await db(staging.unstage)(staged, plan.data_id)


PROGRAM_LANGUAGES = ("bash", "python")


@task(name="render-program", cache_policy=NO_CACHE, retries=0)
async def render_program(plan: RunPlan) -> str:
    """Render the process's program with its inputs, every value shell-quoted unless ``|safe``.

    A Python process's program is written as it is stored, beside its hydrated
    inputs (``run.json``); the script runs Resolwe's Python runtime on them.
    """
    language = plan.process.language
    if language not in PROGRAM_LANGUAGES:
        raise ProgramError(f"Error in process script: Unsupported execution engine: {language}")  # Resolwe's words
    backend = get_backend(settings.FLOW_EXECUTOR["BACKEND"])
    try:
        await db(program.run_secrets)(plan)
    except SecretAccessError as error:
        raise ProgramError(str(error)) from error
    if language == "python":
        try:
            await asyncio.to_thread(python_runtime)  # built once per content; the backends mount it
        except (ImportError, OSError, RuntimeError, ValueError) as error:
            raise ProgramError(f"The Python runtime is not available: {error}") from error
        try:
            return await db(program.python_program)(plan, backend)
        except (FileNotFoundError, ValueError) as error:
            raise ProgramError(str(error)) from error
    try:
        rendered = await db(program.render_bash)(plan, backend)
    except EvaluationError as error:
        raise ProgramError(f"Error in process script: {error}") from error
    except FileNotFoundError as error:
        raise ProgramError(str(error)) from error
    return program_preamble(backend.bin_dir()) + "\n" + rendered + "\n"


@task(name="run-program", cache_policy=NO_CACHE, retries=0)
async def run_program(plan: RunPlan, script: str) -> dict[str, Any]:
    """Run the program through the configured backend, streaming stdout and progress."""
    logger = get_run_logger()
    backend = get_backend(settings.FLOW_EXECUTOR["BACKEND"])
    job = program.program_job(plan, script, backend)
    secrets = await db(program.run_secrets)(plan)
    if secrets:
        job.secrets_dir = Path(plan.runtime_dir) / "secrets"
        write_secret_files(secrets, job.secrets_dir)
    commands_file = Path(plan.runtime_dir) / "commands"
    commands_file.touch()
    await db(transitions.start)(plan.data_id, plan.flow_run_id)
    reader = CommandReader(commands_file)
    last_progress: list[float] = []
    progress_artifact = ProgressMirror(plan)

    stop_watching = asyncio.Event()

    async def watch_progress() -> None:
        # Stopped by an event, never cancelled mid-report: a cancel between
        # reading the last re-progress and writing it left the artifact behind.
        while not stop_watching.is_set():
            try:
                await asyncio.wait_for(stop_watching.wait(), timeout=PROGRESS_POLL_SECONDS)
            except TimeoutError:
                pass
            await report_progress()

    async def report_progress() -> None:
        values = [float(c.args[0]) for c in reader.read_new() if c.name == "progress" and c.args]
        if values and (not last_progress or values[-1] != last_progress[-1]):
            last_progress.append(values[-1])
            await db(transitions.progress)(plan.data_id, plan.flow_run_id, values[-1])
            await progress_artifact.report(values[-1])

    # Never through a link or FIFO a program could have left there: a new file of ours, or nothing.
    stdout_fd = os.open(
        Path(plan.data_dir) / "stdout.txt", os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_NOFOLLOW, 0o644
    )
    with open(stdout_fd, "w", encoding="utf-8") as stdout:  # noqa: ASYNC230 - an fd of ours, opened at once

        def on_output(line: str) -> None:
            stdout.write(line)
            logger.info(line.rstrip("\n"))

        watcher = asyncio.create_task(watch_progress())
        channel = Channel(plan, backend) if plan.process.language == "python" else None
        try:
            if channel is not None:
                await open_channel(channel, job, backend)
            result, detached = await _run_while_bound(plan, backend.run(job, on_output))
        finally:
            if channel is not None:  # closed once the program has ended: nothing of it asks any more
                await channel.close()
            stop_watching.set()
            try:
                await asyncio.wait_for(watcher, timeout=30)
            except (Exception, asyncio.CancelledError):  # noqa: BLE001 - progress is best effort
                watcher.cancel()
            if job.secrets_dir is not None:
                remove_secret_files(job.secrets_dir)
    if detached:
        return {"return_code": -9, "message": DETACHED_MESSAGE, "detached": True}
    await report_progress()
    return {"return_code": result.return_code, "message": result.message}


async def open_channel(channel: Channel, job, backend) -> None:
    """Listen for a Python process's program: the Unix socket in its runtime directory, or TCP with a token."""
    endpoint = backend.channel_endpoint()
    if endpoint is None:
        await channel.start_unix()
        return
    job.env["RESOLWE_CHANNEL"] = await channel.start_tcp(endpoint.bind, endpoint.port, endpoint.host)
    job.channel_token = channel.token


async def _run_while_bound(plan: RunPlan, program) -> tuple[Any, bool]:
    """Run the program until it ends, or stop it (and every process it started) once its Data object is gone.

    A deleted or restarted Data object no longer belongs to this flow run;
    its program must not run on, whichever worker runs the flow.
    """
    running = asyncio.ensure_future(program)
    try:
        while True:
            done, _pending = await asyncio.wait({running}, timeout=BINDING_POLL_SECONDS)
            if done:
                return running.result(), False
            if not await db(transitions.is_bound)(plan.data_id, plan.flow_run_id):
                await _stop(running)
                return None, True
    except asyncio.CancelledError:  # an operator's cancel: the program goes first
        await _stop(running)
        raise


async def _stop(running: asyncio.Future) -> None:
    running.cancel()
    try:
        await running
    except asyncio.CancelledError:
        pass


@task(name="collect-outputs", cache_policy=NO_CACHE, retries=0)
async def collect_and_save(plan: RunPlan, result: dict[str, Any]) -> dict[str, Any]:
    """Check the outputs against the output schema and save them (the end of the attempt)."""
    outcome = await db(outputs.collect_and_save_sync)(plan, result)
    await publish_outputs_summary(plan, outcome)
    return outcome


@task(name="record-failure", cache_policy=NO_CACHE, retries=0)
async def record_failure(plan: RunPlan, message: str) -> None:
    """End an attempt that never reached its program (a broken template, an unknown engine)."""
    await db(_finish)(plan, ok=False, output={}, error=[message])
