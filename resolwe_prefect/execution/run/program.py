"""Preparing a program: its template context, its environment and its secrets.

Pure preparation for the ``render-program`` and ``run-program`` tasks; the
ORM is used synchronously here and reached from the tasks through threads.
A bash process's program is its rendered template; a Python process's is
``python3 -m resolwe.process.run /runtime/run.json`` over the stored module
(``/runtime/process.py``) and its hydrated inputs (docs/python-processes.md).
"""

from __future__ import annotations

import json
import os
import shlex
import shutil
from pathlib import Path
from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model

from resolwe_prefect.data import layout
from resolwe_prefect.data.dependencies import input_data_ids
from resolwe_prefect.data.expression_filters import acting_as
from resolwe_prefect.data.models import Data
from resolwe_prefect.data.naming import data_summary
from resolwe_prefect.execution.backends import Backend, ProgramJob
from resolwe_prefect.execution.run.plan import RunPlan
from resolwe_prefect.execution.run.staging import resolve_file_temp
from resolwe_prefect.expressions.configured import configured_engine
from resolwe_prefect.expressions.context import build_program_context
from resolwe_prefect.expressions.engine import JinjaEngine
from resolwe_prefect.schema.fields import fill_defaults
from resolwe_prefect.schema.walk import FieldVisit, Schema, map_fields
from resolwe_prefect.secrets.services import secrets_for_run

SYSTEM_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
PYTHON_SOURCE = "process.py"
PYTHON_RUN = "run.json"
CHANNEL_SOCKET = "channel.sock"


def engine_for(plan: RunPlan) -> JinjaEngine:
    """The expression engine the process asks for (``requirements.expression-engine``)."""
    return configured_engine(plan.process.expression_engine)


def render_bash(plan: RunPlan, backend: Backend) -> str:
    """The bash program rendered with its hydrated inputs, values shell-quoted unless ``|safe``.

    Runs in a thread with the ORM: the lookup filters (``sample_name``, ``data_by_slug``, ...)
    query the database, as the Data object's contributor. As in Resolwe, a process that declares
    no ``requirements.expression-engine`` runs its program literally.
    """
    if not plan.process.requirements.get("expression-engine"):
        return str(plan.process.program)
    with acting_as(plan.contributor_id):
        return engine_for(plan).evaluate_block(plan.process.program, program_context(plan, backend), shell_escape=True)


def program_context(plan: RunPlan, backend: Backend) -> dict[str, Any]:
    """Inputs hydrated as Resolwe does, with every path as the program will see it."""

    def load_data(data_id: int) -> dict[str, Any]:
        data = Data.objects.select_related("process", "entity").get(pk=data_id)
        return data_summary(data)

    def file_path(data_id: int, path: str) -> str:
        return program_path(backend, plan, layout.data_dir(data_id) / path)

    return build_program_context(
        inputs=resolve_uploads(plan.process.input_schema, plan.input, backend, plan),
        input_schema=plan.process.input_schema,
        process=plan.process.as_dict(),
        data={
            "id": plan.data_id,
            "slug": plan.slug,
            "name": plan.name,
            "dir": program_path(backend, plan, Path(plan.data_dir)),
        },
        requirements=effective_requirements(plan),
        load_data=load_data,
        file_path=file_path,
    )


def effective_requirements(plan: RunPlan) -> dict[str, Any]:
    """The process's requirements with the resources this run really has."""
    requirements = dict(plan.process.requirements)
    requirements["resources"] = {**requirements.get("resources", {}), **plan.limits}
    return requirements


def python_run_spec(plan: RunPlan, backend: Backend) -> dict[str, Any]:
    """``run.json`` of a Python process: the inputs hydrated as for bash (uploads staged and mapped, defaults filled).

    A ``data:`` input stays the Data id: the program reads the object through the channel.
    """
    schema = plan.process.input_schema
    runtime = Path(plan.runtime_dir)
    return {
        "source": program_path(backend, plan, runtime / PYTHON_SOURCE),
        "slug": plan.process.slug,
        "data": {
            "id": plan.data_id,
            "name": plan.name,
            "slug": plan.slug,
            "entity_id": plan.entity_id,
            "collection_id": plan.collection_id,
            "contributor_id": plan.contributor_id,
        },
        "inputs": resolve_uploads(schema, fill_defaults(schema, plan.input), backend, plan),
        "requirements": effective_requirements(plan),
        "process": {key: value for key, value in plan.process.as_dict().items() if key != "run"},
    }


def python_program(plan: RunPlan, backend: Backend) -> str:
    """Write ``process.py`` and ``run.json`` into the runtime directory; the script that runs them."""
    runtime = Path(plan.runtime_dir)
    spec = python_run_spec(plan, backend)
    source = plan.process.program
    if not isinstance(source, str) or not source.strip():
        raise ValueError("The Python process has no program.")
    for name, text in ((PYTHON_SOURCE, source), (PYTHON_RUN, json.dumps(spec, indent=1, default=str))):
        path = runtime / name
        path.unlink(missing_ok=True)
        path.write_text(text, encoding="utf-8")
        path.chmod(0o644)
    run = shlex.quote(program_path(backend, plan, runtime / PYTHON_RUN))
    return f"exec python3 -m resolwe.process.run {run}\n"


def resolve_uploads(schema: Schema, values: dict[str, Any], backend: Backend, plan: RunPlan) -> dict[str, Any]:
    """Turn every ``file_temp`` upload handle into a path the program can read."""

    def resolved(item: Any) -> Any:
        if not isinstance(item, dict) or not item.get("file_temp"):
            return item
        location = resolve_file_temp(item["file_temp"], plan.contributor_id, Path(plan.runtime_dir) / "uploads")
        if isinstance(location, Path):
            location = program_path(backend, plan, stage_upload(location, plan))
        return {**item, "file_temp": location}

    def uploads(visit: FieldVisit) -> Any:
        if not visit.type.startswith(("basic:file:", "list:basic:file:")):
            return visit.value
        if isinstance(visit.value, list):
            return [resolved(item) for item in visit.value]
        return resolved(visit.value)

    return map_fields(values, schema, uploads)


def stage_upload(source: Path, plan: RunPlan) -> Path:
    """Give the run its own link to an uploaded file, which the program may move or delete.

    The upload itself stays where it is, read-only to the program, so a
    restart finds it again and one program cannot touch another's uploads.
    """
    target_dir = Path(plan.runtime_dir) / "uploads"
    target_dir.mkdir(exist_ok=True)
    target = target_dir / source.name
    if not target.exists():
        try:
            os.link(source, target)
        except OSError:  # another filesystem: copy instead
            shutil.copy2(source, target)
    # Ours, readable by the program's own identity, writable by no one else: the upload stays intact.
    target.chmod(0o644)
    return target


def run_secrets(plan: RunPlan) -> dict[str, str]:
    """The secrets this run may see, checked against the process's declared requirements."""
    return secrets_for_run(
        process_slug=plan.process.slug,
        process_requirements=plan.process.requirements,
        input_schema=plan.process.input_schema,
        input_values=plan.input,
        contributor=get_user_model().objects.get(pk=plan.contributor_id),
    )


def program_path(backend: Backend, plan: RunPlan, host_path: Path) -> str:
    """Where this run's program sees one of our files."""
    return backend.program_path(host_path, data_dir=Path(plan.data_dir), runtime_dir=Path(plan.runtime_dir))


def program_environment(plan: RunPlan, backend: Backend) -> dict[str, str]:
    """The program's whole environment: no credentials, no Prefect or Django settings."""
    runtime = Path(plan.runtime_dir)
    env = {
        "PATH": ":".join([backend.bin_dir(), *backend.tools_path(), SYSTEM_PATH]),
        "HOME": program_path(backend, plan, Path(plan.data_dir)),
        "TMPDIR": program_path(backend, plan, runtime / "tmp"),
        "LANG": "C.UTF-8",
        "LC_ALL": "C.UTF-8",
        "RESOLWE_COMMANDS_FILE": program_path(backend, plan, runtime / "commands"),
        "RESOLWE_HOST_URL": settings.RESOLWE_HOST_URL,
        "RESOLWE_DATA_ID": str(plan.data_id),
    }
    if plan.process.language == "python" or backend.tools_path():  # tools import resolwe_runtime_utils
        env.update(
            {
                "PYTHONPATH": backend.python_path(),
                "PYTHONUNBUFFERED": "1",
                "PYTHONDONTWRITEBYTECODE": "1",
                "PYTHONNOUSERSITE": "1",
            }
        )
    if plan.process.language == "python":
        if backend.channel_endpoint() is None:  # else the TCP address, known once the channel listens
            env["RESOLWE_CHANNEL"] = program_path(backend, plan, runtime / CHANNEL_SOCKET)
    env.update({str(k): str(v) for k, v in settings.FLOW_EXECUTOR.get("SET_ENV", {}).items()})
    return env


def interactive_cpu_seconds() -> int:
    """The CPU time an interactive program may use, as Resolwe's executor limits it: ``RLIMIT_CPU``
    of ``FLOW_PROCESS_RESOURCE_DEFAULTS["cpu_time_interactive"]`` (default 30) times 1.2, a margin
    Resolwe gives programs with a few threads; batch programs are not limited."""
    defaults = getattr(settings, "FLOW_PROCESS_RESOURCE_DEFAULTS", None) or {}
    return max(1, int(float(defaults.get("cpu_time_interactive", 30)) * 1.2))


def program_job(plan: RunPlan, script: str, backend: Backend) -> ProgramJob:
    """Everything the backend needs: the script, the environment, the limits and the inputs' directories.

    An interactive program also has a wall-clock limit (``INTERACTIVE_TIMEOUT``) and a CPU time
    limit set by the script itself (``ulimit -t``), so it holds on every backend alike.
    """
    timeout = None
    if plan.process.interactive:
        timeout = float(settings.FLOW_EXECUTOR.get("INTERACTIVE_TIMEOUT", 300))
        script = f"ulimit -t {interactive_cpu_seconds()}\n{script}"
    return ProgramJob(
        data_id=plan.data_id,
        script=script,
        data_dir=Path(plan.data_dir),
        runtime_dir=Path(plan.runtime_dir),
        env=program_environment(plan, backend),
        cores=int(plan.limits.get("cores", 1)),
        memory_mb=int(plan.limits.get("memory", 4096)),
        network=bool(plan.limits.get("network", False)),
        image=plan.process.docker_image,
        timeout=timeout,
        scheduling_class=plan.process.scheduling_class,
        input_dirs=[layout.data_dir(i) for i in input_data_ids(plan.process.input_schema, plan.input)],
        language=plan.process.language,
    )
