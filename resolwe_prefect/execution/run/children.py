"""Data objects that a flow run creates: workflow steps and spawned children.

A bash program's ``re-run`` children are created when it has finished well
(:func:`spawn_children`); a Python program's ``self.run_process`` child is
created at once, over the channel (:func:`spawn_now`), as Resolwe's listener
does, so the program can find it. All become ordinary Data objects with a
``subprocess`` dependency on their creator, inherit its contributor, tags and
collection, and are processed like any other Data object once their own
inputs are done.
"""

from __future__ import annotations

import shutil
import uuid
from pathlib import Path
from typing import Any

from django.db import transaction

from resolwe_prefect.data import layout
from resolwe_prefect.data.models import Data
from resolwe_prefect.data.services import DataError, create_data
from resolwe_prefect.execution.run.plan import RunPlan
from resolwe_prefect.processes.models import Process
from resolwe_prefect.runtime.collect import stage_exports
from resolwe_prefect.runtime.report import ProcessReport
from resolwe_prefect.schema.walk import FieldVisit, Schema, map_fields
from resolwe_prefect.uploads.storage import upload_path

SPAWN_ERROR = "Error while preparing spawned Data objects"


class ChildError(Exception):
    """A child could not be created; the message goes into the creator's ``process_error``."""


def _create_child(creator: Data, slug: str, inputs: dict[str, Any]) -> Data:

    try:
        return create_data(
            user=creator.contributor,
            process_ref={"slug": slug},
            input=inputs,
            tags=list(creator.tags),
            collection_id=creator.collection_id,
            parent=creator,
        )
    except DataError as error:
        raise ChildError(f"{slug}: {error.detail}") from error


def evaluate_step_inputs(engine, template: Any, context: dict[str, Any]) -> Any:
    """Evaluate a workflow step's input: one ``{{ expr }}`` gives a native value, other strings are rendered.

    Keys whose value evaluates to ``None`` are dropped, as Resolwe's workflow
    engine does for optional inputs that were not given.
    """
    if isinstance(template, dict):
        evaluated = {key: evaluate_step_inputs(engine, value, context) for key, value in template.items()}
        return {key: value for key, value in evaluated.items() if value is not None}
    if isinstance(template, list):
        return [evaluate_step_inputs(engine, value, context) for value in template]
    if isinstance(template, str):
        if engine.get_inline_expression(template) is not None:
            return engine.evaluate_inline(template, context)
        return engine.evaluate_block(template, context)
    return template


def run_workflow(plan: RunPlan, engine) -> list[int]:
    """Create every step of a workflow process; return the step ids in order (the ``steps`` output)."""

    creator = Data.objects.get(pk=plan.data_id)
    context: dict[str, Any] = {"input": dict(plan.input), "steps": {}}
    step_ids: list[int] = []
    with transaction.atomic():
        for step in plan.process.program or []:
            inputs = evaluate_step_inputs(engine, step.get("input") or {}, context)
            child = _create_child(creator, step["run"], inputs)
            context["steps"][step["id"]] = child.pk
            step_ids.append(child.pk)
    return step_ids


def stage_exported_files(plan: RunPlan, report) -> dict[str, str]:
    """Move ``re-export``-ed files into upload storage; return ``{name: upload handle}``.

    A spawned child then receives them as ``{"file": name, "file_temp": handle}``,
    exactly like a file a user uploaded.
    """
    return export_to_uploads(
        plan.data_id, Path(plan.data_dir), Path(plan.runtime_dir), list(report.exports), plan.contributor_id
    )


def export_to_uploads(
    data_id: int, data_dir: Path, runtime_dir: Path, names: list[str], owner_id: int
) -> dict[str, str]:
    """Copy the named files of a Data directory into upload storage; ``{name: upload handle}``.

    Only regular files inside ``data_dir`` are exported (``runtime.collect.stage_exports``);
    any other name is left out, so a child given it fails as unexported. On a scratch workspace
    the upload storage is the direct-upload bucket (under ``owner_id``'s prefix, as a client's
    upload), since the child's flow run may run on another host.
    """
    from resolwe_prefect.storage.scratch import export_upload

    staging = runtime_dir / "exports"
    handles: dict[str, str] = {}
    for name, staged in stage_exports(ProcessReport(exports=names), data_dir, staging).items():
        handle = f"export-{data_id}-{uuid.uuid4().hex}"
        remote = export_upload(Path(staged), owner_id, handle)
        if remote is not None:
            Path(staged).unlink()
            handles[name] = remote
            continue
        shutil.move(staged, upload_path(handle))
        handles[name] = handle
    return handles


def _with_exported_files(schema: Schema, values: dict[str, Any], exported: dict[str, str]) -> dict[str, Any]:
    """Inputs of a spawned child with every file name the program gave replaced by its exported upload."""

    def exported_file(name: str, file_name: str) -> dict[str, str]:
        if file_name not in exported:
            raise ChildError(f"File {file_name!r} given to input '{name}' was not exported with re-export.")
        return {"file": Path(file_name).name, "file_temp": exported[file_name]}

    def files(visit: FieldVisit) -> Any:
        value = visit.value
        if visit.type.startswith("basic:file:") and isinstance(value, str):
            return exported_file(visit.name, value)
        if visit.type.startswith("list:basic:file:") and isinstance(value, list):
            return [exported_file(visit.name, item) if isinstance(item, str) else item for item in value]
        return value

    return map_fields(values, schema, files)


def _spawn(creator: Data, request: dict[str, Any], exported: dict[str, str]) -> Data:
    """One child of ``creator`` as a program asked for it (``{"process": slug, "input": {...}}``)."""
    slug = str(request.get("process") or "")
    process = Process.objects.filter(slug=slug, is_active=True).order_by("-version").first()
    if process is None:
        raise ChildError(f"Process '{slug}' does not exist.")
    inputs = _with_exported_files(process.input_schema, request.get("input") or {}, exported)
    return _create_child(creator, slug, inputs)


def spawn_children(plan: RunPlan, requests: list[dict[str, Any]], exported: dict[str, str]) -> list[str]:
    """Create the Data objects a program asked for with ``re-run``; return errors (all or nothing)."""

    if not requests:
        return []
    creator = Data.objects.get(pk=plan.data_id)
    try:
        with transaction.atomic():
            for request in requests:
                _spawn(creator, request, exported)
    except ChildError as error:
        return [f"{SPAWN_ERROR}: {error}"]
    return []


def spawn_now(data_id: int, request: dict[str, Any], exports: list[str]) -> int:
    """Create a child of the running Data object now (a Python program's ``run_process``); its id.

    ``exports`` are the files of the Data directory the request names; they are copied into
    upload storage first. Raises :class:`ChildError` with the message the program reads.
    """
    creator = Data.objects.get(pk=data_id)
    exported = export_to_uploads(
        data_id, layout.data_dir(data_id), layout.runtime_dir(data_id), exports, creator.contributor_id
    )
    with transaction.atomic():
        try:
            return _spawn(creator, request, exported).pk
        except ChildError as error:
            raise ChildError(f"{SPAWN_ERROR}: {error}") from error
