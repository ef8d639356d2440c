"""The run plan: a Data object as one flow run sees it, made when the run starts its attempt.

``prepare_run`` binds the flow run to its Data object through
``transitions.prepare`` (PP), gives the attempt fresh directories and
returns everything the steps need to render, run and collect, so that they
read the database as little as possible. The process is copied into a
frozen, typed :class:`ProcessSpec`: what the run executes cannot change
under it, whatever happens to the Process row meanwhile.
"""

from __future__ import annotations

import shutil
from dataclasses import asdict, dataclass, field
from typing import Any

from resolwe_prefect.data import layout, transitions
from resolwe_prefect.data.resources import resource_limits
from resolwe_prefect.processes.models import Process

CANCELLED_MESSAGE = "Processing was cancelled."


@dataclass(frozen=True)
class ProcessSpec:
    """The process of one run, as registered (Resolwe's field names)."""

    id: int
    slug: str
    version: str
    name: str
    type: str
    run: dict[str, Any]
    requirements: dict[str, Any]
    input_schema: list[dict[str, Any]]
    output_schema: list[dict[str, Any]]
    scheduling_class: str = Process.SCHEDULING_CLASS_BATCH
    persistence: str = "RAW"

    @classmethod
    def of(cls, process: Process) -> ProcessSpec:
        return cls(
            id=process.pk,
            slug=process.slug,
            version=str(process.version),
            name=process.name,
            type=process.type,
            run=dict(process.run or {}),
            requirements=dict(process.requirements or {}),
            input_schema=list(process.input_schema or []),
            output_schema=list(process.output_schema or []),
            scheduling_class=process.scheduling_class,
            persistence=process.persistence,
        )

    @property
    def language(self) -> str:
        return str(self.run.get("language") or "bash")

    @property
    def program(self) -> Any:
        return self.run.get("program", "")

    @property
    def expression_engine(self) -> str:
        return str(self.requirements.get("expression-engine") or "jinja")

    @property
    def interactive(self) -> bool:
        return self.scheduling_class == Process.SCHEDULING_CLASS_INTERACTIVE

    @property
    def docker_image(self) -> str | None:
        return ((self.requirements.get("executor") or {}).get("docker") or {}).get("image")

    def as_dict(self) -> dict[str, Any]:
        """The process as the template context and the artifacts show it."""
        return asdict(self)


@dataclass
class RunPlan:
    """A Data object as one flow run sees it: enough to render, run and collect."""

    data_id: int
    flow_run_id: str
    slug: str
    name: str
    contributor_id: int
    process: ProcessSpec
    input: dict[str, Any]
    limits: dict[str, Any]
    data_dir: str
    runtime_dir: str
    collection_id: int | None = None
    entity_id: int | None = None
    extra: dict[str, Any] = field(default_factory=dict)


def prepare_run(data_id: int, flow_run_id: str, idempotency_key: str | None = None) -> RunPlan | None:
    """Start an attempt (PP) with fresh directories; ``None`` when the Data object is not this run's."""
    from resolwe_prefect.data.naming import render_data_name

    def rename(data: Any) -> str:
        # As Resolwe's ``_render_name``: a process without ``data_name`` keeps the name the Data
        # object has (given at creation, or since by a program's object API).
        if not data.process.data_name:
            return data.name
        return render_data_name(data.process, data.input, data.contributor_id)

    data = transitions.prepare(data_id, flow_run_id, idempotency_key, rename=rename)
    if data is None:
        return None
    directory, scratch = layout.data_dir(data.pk), layout.runtime_dir(data.pk)
    for path in (directory, scratch):
        shutil.rmtree(path, ignore_errors=True)
        path.mkdir(parents=True)
    (scratch / "tmp").mkdir()
    return RunPlan(
        data_id=data.pk,
        flow_run_id=str(data.flow_run_id),
        slug=data.slug,
        name=data.name,
        contributor_id=data.contributor_id,
        process=ProcessSpec.of(data.process),
        input=data.input,
        limits=resource_limits(data.process, data.process_resources),
        data_dir=str(directory),
        runtime_dir=str(scratch),
        collection_id=data.collection_id,
        entity_id=data.entity_id,
    )
