"""The tasks of one Data flow run: stage, render, run, collect.

Each is an async Prefect task so that many flow runs can share one event
loop in the worker; the Django ORM is reached through threads.
"""

from __future__ import annotations

import asyncio
import dataclasses
import os
from pathlib import Path
from typing import Any

from asgiref.sync import sync_to_async
from django.conf import settings
from prefect import get_run_logger, task
from prefect.cache_policies import NO_CACHE

from resolwe_prefect.execution import writeback
from resolwe_prefect.execution.backends import ProgramJob, get_backend
from resolwe_prefect.execution.writeback import RunPlan
from resolwe_prefect.secrets.services import SecretAccessError

PROGRESS_POLL_SECONDS = 0.5
SYSTEM_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"


class ProgramError(Exception):
    """The program could not be prepared (bad template, unknown engine or language)."""


def db(function):
    """Run an ORM function from async code without blocking the worker's event loop."""
    return sync_to_async(function, thread_sensitive=False)


@task(name="stage-inputs", cache_policy=NO_CACHE, retries=0)
async def stage_inputs(data_id: int, flow_run_id: str) -> RunPlan | None:
    """Bind the flow run to its Data object (PP) and prepare its directories."""
    return await db(writeback.claim_data)(data_id, flow_run_id)


def _program_context(plan: RunPlan, backend) -> dict[str, Any]:
    from resolwe_prefect.data.models import Data
    from resolwe_prefect.data.naming import data_summary
    from resolwe_prefect.expressions.context import build_program_context

    def load_data(data_id: int) -> dict[str, Any]:
        data = Data.objects.select_related("process", "entity").get(pk=data_id)
        return data_summary(data)

    def file_path(data_id: int, path: str) -> str:
        return backend.program_path(Path(plan.data_dir), writeback.data_dir(data_id) / path)

    requirements = dict(plan.process.get("requirements") or {})
    requirements["resources"] = {**requirements.get("resources", {}), **plan.limits}
    return build_program_context(
        inputs=_resolve_uploads(plan.process["input_schema"], plan.input, backend, plan),
        input_schema=plan.process["input_schema"],
        process=plan.process,
        data={"id": plan.data_id, "slug": plan.slug, "name": plan.name, "dir": plan.data_dir},
        requirements=requirements,
        load_data=load_data,
        file_path=file_path,
    )


def _resolve_uploads(schema: list[dict], values: dict, backend, plan: RunPlan) -> dict:
    """Turn every ``file_temp`` upload handle into a path the program can read."""
    from resolwe_prefect.execution.staging import resolve_file_temp

    resolved = dict(values)
    for field in schema or []:
        name, type_ = field.get("name"), field.get("type", "")
        if name not in resolved:
            continue
        if "group" in field and isinstance(resolved[name], dict):
            resolved[name] = _resolve_uploads(field["group"], resolved[name], backend, plan)
        elif type_.startswith(("basic:file:", "list:basic:file:")):
            items = resolved[name] if isinstance(resolved[name], list) else [resolved[name]]
            mapped = []
            for item in items:
                if isinstance(item, dict) and item.get("file_temp"):
                    location = resolve_file_temp(item["file_temp"])
                    if isinstance(location, Path):
                        location = backend.program_path(Path(plan.data_dir), location)
                    item = {**item, "file_temp": location}
                mapped.append(item)
            resolved[name] = mapped if isinstance(resolved[name], list) else mapped[0]
    return resolved


def _engine(plan: RunPlan):
    from resolwe_prefect.expressions import get_engine

    name = (plan.process.get("requirements") or {}).get("expression-engine", "jinja")
    return get_engine(name, settings.FLOW_EXPRESSION_ENGINES)


@task(name="run-workflow", cache_policy=NO_CACHE, retries=0)
async def run_workflow(plan: RunPlan) -> dict[str, Any]:
    """A workflow process runs no program: it creates its steps as Data objects and is done."""
    from resolwe_prefect.data import lifecycle
    from resolwe_prefect.execution.children import ChildError, run_workflow as create_steps
    from resolwe_prefect.expressions import EvaluationError

    def create_and_finish() -> dict[str, Any]:
        try:
            steps = create_steps(plan, _engine(plan))
        except (ChildError, EvaluationError) as error:
            message = f"Error in workflow: {error}"
            if writeback.finish(plan, ok=False, output={}, error=[message]):
                lifecycle.children_finished(plan.data_id)
            return {"data_id": plan.data_id, "ok": False, "errors": [message]}
        if writeback.finish(plan, ok=True, output={"steps": steps}, rc=0):
            lifecycle.children_finished(plan.data_id)
        return {"data_id": plan.data_id, "ok": True, "output": {"steps": steps}, "errors": []}

    return await db(create_and_finish)()


@task(name="render-program", cache_policy=NO_CACHE, retries=0)
async def render_program(plan: RunPlan) -> str:
    """Render the process's program with its inputs, every value shell-quoted unless ``|safe``."""
    from resolwe_prefect.expressions import EvaluationError
    from resolwe_prefect.runtime.preamble import bin_dir, program_preamble

    run = plan.process.get("run") or {}
    language = run.get("language", "bash")
    if language != "bash":
        raise ProgramError(f"Unsupported process language: {language!r}.")
    backend = get_backend(settings.FLOW_EXECUTOR["BACKEND"])
    try:
        await db(_secrets)(plan)
    except SecretAccessError as error:
        raise ProgramError(str(error)) from error
    try:
        engine = _engine(plan)
        context = await db(_program_context)(plan, backend)
        program = engine.evaluate_block(run.get("program", ""), context, shell_escape=True)
    except EvaluationError as error:
        raise ProgramError(f"Error in process script: {error}") from error
    except FileNotFoundError as error:
        raise ProgramError(str(error)) from error
    return program_preamble(str(bin_dir())) + "\n" + program + "\n"


def _secrets(plan: RunPlan) -> dict[str, str]:
    """The secrets this run may see, checked against the process's declared requirements."""
    from django.contrib.auth import get_user_model

    from resolwe_prefect.secrets.services import secrets_for_run

    return secrets_for_run(
        process_slug=plan.process["slug"],
        process_requirements=plan.process.get("requirements") or {},
        input_schema=plan.process["input_schema"],
        input_values=plan.input,
        contributor=get_user_model().objects.get(pk=plan.contributor_id),
    )


def program_environment(plan: RunPlan) -> dict[str, str]:
    """The program's whole environment: no credentials, no Prefect or Django settings."""
    from resolwe_prefect.runtime.preamble import bin_dir

    env = {
        "PATH": f"{bin_dir()}:{SYSTEM_PATH}",
        "HOME": plan.data_dir,
        "TMPDIR": str(Path(plan.runtime_dir) / "tmp"),
        "LANG": "C.UTF-8",
        "LC_ALL": "C.UTF-8",
        "RESOLWE_COMMANDS_FILE": str(Path(plan.runtime_dir) / "commands"),
        "RESOLWE_HOST_URL": settings.RESOLWE_HOST_URL,
        "RESOLWE_DATA_ID": str(plan.data_id),
    }
    env.update({str(k): str(v) for k, v in settings.FLOW_EXECUTOR.get("SET_ENV", {}).items()})
    return env


@task(name="run-program", cache_policy=NO_CACHE, retries=0)
async def run_program(plan: RunPlan, script: str) -> dict[str, Any]:
    """Run the program through the configured backend, streaming stdout and progress."""
    from resolwe_prefect.runtime.commands import CommandReader

    logger = get_run_logger()
    backend = get_backend(settings.FLOW_EXECUTOR["BACKEND"])
    timeout = None
    if plan.process.get("scheduling_class") == "IN":
        timeout = float(os.environ.get("RESOLWE_PREFECT_INTERACTIVE_TIMEOUT", "300"))
    job = ProgramJob(
        data_id=plan.data_id,
        script=script,
        data_dir=Path(plan.data_dir),
        runtime_dir=Path(plan.runtime_dir),
        env=program_environment(plan),
        cores=int(plan.limits.get("cores", 1)),
        memory_mb=int(plan.limits.get("memory", 4096)),
        network=bool(plan.limits.get("network", False)),
        image=((plan.process.get("requirements") or {}).get("executor", {}).get("docker", {}) or {}).get("image"),
        timeout=timeout,
    )
    secrets = await db(_secrets)(plan)
    if secrets:
        from resolwe_prefect.secrets.services import write_secret_files

        job.secrets_dir = Path(plan.runtime_dir) / "secrets"
        write_secret_files(secrets, job.secrets_dir)
    commands_file = Path(plan.runtime_dir) / "commands"
    commands_file.touch()
    await db(writeback.mark_processing)(plan)
    reader = CommandReader(commands_file)
    last_progress: list[float] = []

    async def watch_progress() -> None:
        while True:
            await asyncio.sleep(PROGRESS_POLL_SECONDS)
            await report_progress()

    async def report_progress() -> None:
        values = [float(c.args[0]) for c in reader.read_new() if c.name == "progress" and c.args]
        if values and (not last_progress or values[-1] != last_progress[-1]):
            last_progress.append(values[-1])
            await db(writeback.set_progress)(plan, values[-1])

    with open(Path(plan.data_dir) / "stdout.txt", "w", encoding="utf-8") as stdout:

        def on_output(line: str) -> None:
            stdout.write(line)
            logger.info(line.rstrip("\n"))

        watcher = asyncio.create_task(watch_progress())
        try:
            result = await backend.run(job, on_output)
        finally:
            watcher.cancel()
            if job.secrets_dir is not None:
                from resolwe_prefect.secrets.services import remove_secret_files

                remove_secret_files(job.secrets_dir)
    await report_progress()
    return {"return_code": result.return_code, "message": result.message}


def _store_json_outputs(plan: RunPlan, output: dict[str, Any], schema: list[dict]) -> dict[str, Any]:
    """Move ``basic:json:`` values into Storage objects; the output keeps their ids, as in Resolwe."""
    from resolwe_prefect.data.models import Storage

    stored = dict(output)
    for field in schema or []:
        name, type_ = field.get("name"), field.get("type", "")
        if name not in stored:
            continue
        if "group" in field and isinstance(stored[name], dict):
            stored[name] = _store_json_outputs(plan, stored[name], field["group"])
        elif type_.startswith("basic:json:") and not isinstance(stored[name], int):
            storage = Storage.objects.create(
                name=f"Storage for data id {plan.data_id}", contributor_id=plan.contributor_id, json=stored[name]
            )
            storage.data.add(plan.data_id)
            stored[name] = storage.pk
    return stored


def _annotate(plan: RunPlan, annotations: dict[str, Any]) -> list[str]:
    """Apply ``re-annotate-entity`` reports to the Data object's entity; all or nothing."""
    from resolwe_prefect.annotations.services import annotate_entity
    from resolwe_prefect.data.models import Data

    data = Data.objects.select_related("entity", "contributor").get(pk=plan.data_id)
    return annotate_entity(data, annotations)


def _collect_and_save(plan: RunPlan, result: dict[str, Any]) -> dict[str, Any]:
    from resolwe_prefect.data import lifecycle
    from resolwe_prefect.processes.fields import validate_values
    from resolwe_prefect.runtime.collect import collect_outputs
    from resolwe_prefect.runtime.commands import CommandReader
    from resolwe_prefect.runtime.report import ProcessReport

    from resolwe_prefect.execution.children import spawn_children, stage_exported_files

    report = ProcessReport()
    for command in CommandReader(Path(plan.runtime_dir) / "commands").read_new():
        report.apply(command)
    exported = stage_exported_files(plan, report) if report.exports else {}
    collected = collect_outputs(
        report,
        output_schema=plan.process["output_schema"],
        data_dir=Path(plan.data_dir),
        return_code=result["return_code"],
    )
    errors = list(collected.errors)
    if result.get("message"):
        errors.insert(0, result["message"])
    if not errors:
        errors.extend(
            f"{e.path}: {e.message}" if e.path else e.message
            for e in validate_values(plan.process["output_schema"], collected.output, kind="output", check_required=False)
        )
    output = collected.output
    if not errors and report.annotations:
        errors.extend(_annotate(plan, report.annotations))
    if not errors:
        output = _store_json_outputs(plan, output, plan.process["output_schema"])
        errors.extend(spawn_children(plan, report.spawned, exported))
    rc = report.rc if report.rc is not None else result["return_code"]
    ok = not errors
    written = writeback.finish(
        plan,
        ok=ok,
        output=output,
        size=collected.size,
        rc=rc,
        info=report.info,
        warning=report.warning,
        error=errors,
    )
    if written:
        lifecycle.children_finished(plan.data_id)
    return {"data_id": plan.data_id, "ok": ok, "output": output, "errors": errors, "written": written}


@task(name="collect-outputs", cache_policy=NO_CACHE, retries=0)
async def collect_and_save(plan: RunPlan, result: dict[str, Any]) -> dict[str, Any]:
    """Check the outputs against the output schema, save them and release dependants."""
    return await db(_collect_and_save)(plan, result)


@task(name="record-failure", cache_policy=NO_CACHE, retries=0)
async def record_failure(plan: RunPlan, message: str) -> None:
    """End an attempt that never reached its program (a broken template, an unknown engine)."""
    from resolwe_prefect.data import lifecycle

    def save() -> None:
        if writeback.finish(plan, ok=False, output={}, error=[message]):
            lifecycle.children_finished(plan.data_id)

    await db(save)()


def plan_summary(plan: RunPlan) -> dict[str, Any]:
    """A JSON-friendly view of a plan, for logs and artifacts."""
    return dataclasses.asdict(plan)
