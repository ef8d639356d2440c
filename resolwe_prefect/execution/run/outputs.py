"""Collecting a finished program's outputs and saving them to its Data object."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

from django.db import transaction

from resolwe_prefect.annotations.services import annotate_entity
from resolwe_prefect.data import transitions
from resolwe_prefect.data.models import Data, Storage
from resolwe_prefect.execution.run.children import spawn_children, stage_exported_files
from resolwe_prefect.execution.run.plan import RunPlan
from resolwe_prefect.runtime.collect import collect_outputs
from resolwe_prefect.runtime.commands import CommandReader
from resolwe_prefect.runtime.report import ProcessReport
from resolwe_prefect.schema.fields import validate_values
from resolwe_prefect.schema.walk import FieldVisit, Schema, map_fields

logger = logging.getLogger(__name__)


def store_json_outputs(plan: RunPlan, output: dict[str, Any], schema: Schema) -> dict[str, Any]:
    """Move ``basic:json:`` values into Storage objects; the output keeps their ids, as in Resolwe."""

    def stored(visit: FieldVisit) -> Any:
        if not visit.type.startswith("basic:json:") or isinstance(visit.value, int):
            return visit.value
        storage = Storage.objects.create(
            name=f"Storage for data id {plan.data_id}", contributor_id=plan.contributor_id, json=visit.value
        )
        storage.data.add(plan.data_id)
        return storage.pk

    return map_fields(output, schema, stored)


def annotate(plan: RunPlan, annotations: dict[str, Any]) -> list[str]:
    """Apply ``re-annotate-entity`` reports to the Data object's entity; all or nothing."""
    data = Data.objects.select_related("entity", "contributor").get(pk=plan.data_id)
    return annotate_entity(data, annotations)


def publish_results(data_id: int, *, ok: bool) -> list[str]:
    """On a scratch workspace, keep the results in object storage before the Data object finishes.

    A dependant may start the moment its input is OK, on another host; an OK object whose results
    could not be kept is an error. An errored object's files (its stdout) are kept when they can be.
    """
    from resolwe_prefect.storage import config, scratch
    from resolwe_prefect.storage.transfer import TransferError

    if not config.local_is_scratch():
        return []
    try:
        scratch.publish(data_id)
    except TransferError as error:
        if ok:
            return [f"Could not keep the results in object storage: {error}"]
        logger.warning("Could not keep the files of errored Data %s in object storage: %s", data_id, error)
    return []


def collect_and_save_sync(plan: RunPlan, result: dict[str, Any]) -> dict[str, Any]:
    """Read the reports, check the outputs and save them once (``transitions.finish``)."""
    report = ProcessReport()
    for command in CommandReader(Path(plan.runtime_dir) / "commands").read_new():
        report.apply(command)
    exported = stage_exported_files(plan, report) if report.exports else {}
    collected = collect_outputs(
        report,
        output_schema=plan.process.output_schema,
        data_dir=Path(plan.data_dir),
        return_code=result["return_code"],
    )
    errors = list(collected.errors)
    if result.get("message"):
        errors.insert(0, result["message"])
    # Before anything is written: a failed publish leaves no spawned Data behind.
    errors.extend(publish_results(plan.data_id, ok=not errors))
    output = collected.output
    if not errors:
        # Everything that writes (Storage objects, annotations, spawned Data)
        # happens together or not at all.
        with transaction.atomic():
            stored = store_json_outputs(plan, output, plan.process.output_schema)
            errors.extend(
                f"{e.path}: {e.message}" if e.path else e.message
                for e in validate_values(plan.process.output_schema, stored, kind="output", check_required=False)
            )
            if not errors and report.annotations:
                errors.extend(annotate(plan, report.annotations))
            if not errors:
                errors.extend(spawn_children(plan, report.spawned, exported))
            if errors:
                transaction.set_rollback(True)
            else:
                output = stored
    rc = report.rc if report.rc is not None else result["return_code"]
    ok = not errors
    written = transitions.finish(
        plan.data_id,
        plan.flow_run_id,
        ok=ok,
        output=output,
        size=collected.size,
        rc=rc,
        info=report.info,
        warning=report.warning,
        error=errors,
    )
    return {"data_id": plan.data_id, "ok": ok, "output": output, "errors": errors, "written": written}
