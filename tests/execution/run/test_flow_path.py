"""A flow run's path without a Prefect server: prepare, program, collect, children (real database, temp dirs)."""

from __future__ import annotations

import json
import uuid
from pathlib import Path

import pytest

from resolwe_prefect.data import transitions
from resolwe_prefect.data.models import Data, DataDependency
from resolwe_prefect.execution.backends import get_backend
from resolwe_prefect.execution.run import outputs, program
from resolwe_prefect.execution.run.plan import ProcessSpec, prepare_run
from resolwe_prefect.runtime.commands import encode_record
from tests.data.conftest import make_process

pytestmark = pytest.mark.django_db

OUTPUTS = [
    {"name": "text", "label": "Text", "type": "basic:string:"},
    {"name": "file", "label": "File", "type": "basic:file:", "required": False},
]


@pytest.fixture(autouse=True)
def directories(settings, tmp_path):
    settings.FLOW_EXECUTOR = {**settings.FLOW_EXECUTOR, "DATA_DIR": tmp_path / "data", "SANDBOX": "bwrap"}
    settings.STATE_DIR = tmp_path / "state"


@pytest.fixture
def bound(admin):
    """A Data object bound to a flow run, waiting for it (WT)."""
    process = make_process(admin, "flow-path", outputs=OUTPUTS, requirements={"resources": {"network": True}})
    return Data.objects.create(name="d", contributor=admin, process=process, status="WT", flow_run_id=uuid.uuid4())


@pytest.fixture
def released():
    ids: list[int] = []

    def listen(sender, data_id, **kwargs):
        ids.append(data_id)

    transitions.data_finished.connect(listen, dispatch_uid="test-flow-path")
    yield ids
    transitions.data_finished.disconnect(dispatch_uid="test-flow-path")


def _report(plan, *records: tuple[str, ...]) -> None:
    with open(Path(plan.runtime_dir) / "commands", "ab") as handle:
        for name, *args in records:
            handle.write(encode_record(name, *args))


def test_prepare_binds_the_attempt_with_fresh_directories_and_a_frozen_process(bound):
    plan = prepare_run(bound.pk, str(bound.flow_run_id))
    assert plan is not None and isinstance(plan.process, ProcessSpec)
    assert plan.process.slug == "flow-path" and plan.process.output_schema == OUTPUTS
    assert Path(plan.data_dir).is_dir() and not any(Path(plan.data_dir).iterdir())
    assert (Path(plan.runtime_dir) / "tmp").is_dir()
    assert Data.objects.get(pk=bound.pk).status == "PP"
    (Path(plan.data_dir) / "left-over").write_text("x")
    again = prepare_run(bound.pk, str(bound.flow_run_id))  # a retry of the same run starts clean
    assert again is not None and not (Path(again.data_dir) / "left-over").exists()
    assert prepare_run(bound.pk, str(uuid.uuid4())) is None


def test_prepare_renders_the_name_only_from_a_data_name_and_not_over_a_users(admin):
    """As Resolwe's ``_render_name``: without ``data_name`` the name given (or set since by a program) stays."""
    jinja = {"expression-engine": "jinja"}
    plain = make_process(admin, "unnamed")
    named = make_process(admin, "named", data_name="Named {{ 1 + 1 }}", requirements=jinja)
    cases = ((plain, "Set by a spawner", False, "Set by a spawner"), (named, "old", False, "Named 2"),
             (named, "Mine", True, "Mine"))  # fmt: skip
    for process, name, by_user, expected in cases:
        data = Data.objects.create(name=name, named_by_user=by_user, contributor=admin, process=process, status="WT",
                                   flow_run_id=uuid.uuid4())  # fmt: skip
        assert prepare_run(data.pk, str(data.flow_run_id)) is not None
        assert Data.objects.get(pk=data.pk).name == expected


def test_program_job_scrubs_the_environment_and_shows_sandbox_paths(bound):
    plan = prepare_run(bound.pk, str(bound.flow_run_id))
    backend = get_backend("local")
    job = program.program_job(plan, "true", backend)
    assert job.env["HOME"] == "/data" and job.env["RESOLWE_COMMANDS_FILE"] == "/runtime/commands"
    assert job.env["PATH"].startswith("/opt/resolwe/bin:")
    assert not [name for name in job.env if name.startswith(("PREFECT", "DATABASE", "DJANGO"))]
    assert job.network is True and job.timeout is None and job.data_id == bound.pk


def test_collect_saves_outputs_once_and_releases(bound, released, django_capture_on_commit_callbacks):
    plan = prepare_run(bound.pk, str(bound.flow_run_id))
    (Path(plan.data_dir) / "out.txt").write_text("content")
    _report(plan, ("save", "text", "hello"), ("save-file", "file", "out.txt"))
    with django_capture_on_commit_callbacks(execute=True):
        outcome = outputs.collect_and_save_sync(plan, {"return_code": 0})
    assert outcome["ok"] and outcome["written"], outcome
    data = Data.objects.get(pk=bound.pk)
    assert data.status == "OK" and data.output["text"] == "hello" and data.output["file"]["file"] == "out.txt"
    assert released == [bound.pk]
    with django_capture_on_commit_callbacks(execute=True):  # a second collection of the same end writes nothing
        assert outputs.collect_and_save_sync(plan, {"return_code": 0})["written"] is False
    assert released == [bound.pk]


def test_collect_reports_a_missing_file_and_a_bad_return_code(bound):
    plan = prepare_run(bound.pk, str(bound.flow_run_id))
    _report(plan, ("save", "text", "x"), ("save-file", "file", "missing.txt"))
    outcome = outputs.collect_and_save_sync(plan, {"return_code": 3, "message": "Process was killed."})
    data = Data.objects.get(pk=bound.pk)
    assert not outcome["ok"] and data.status == "ER"
    assert data.process_error[0] == "Process was killed."
    assert any("missing.txt" in error for error in data.process_error), data.process_error


def test_spawned_children_depend_on_their_creator(admin, bound):
    make_process(admin, "spawned-child", inputs=[{"name": "n", "label": "N", "type": "basic:integer:"}])
    plan = prepare_run(bound.pk, str(bound.flow_run_id))
    _report(plan, ("save", "text", "x"), ("run", "spawned-child", json.dumps({"n": 4})))
    outcome = outputs.collect_and_save_sync(plan, {"return_code": 0})
    assert outcome["ok"], outcome
    child = Data.objects.get(process__slug="spawned-child")
    assert child.input == {"n": 4} and child.contributor_id == admin.pk
    assert DataDependency.objects.filter(parent_id=bound.pk, child=child, kind=DataDependency.KIND_SUBPROCESS).exists()


def test_a_program_is_rendered_only_with_a_declared_expression_engine(admin):
    """As in Resolwe: without ``requirements.expression-engine`` the program runs as written."""
    backend = get_backend("local")
    for requirements, expected in (({}, "echo {{ 'x' }}"), ({"expression-engine": "jinja"}, "echo x")):
        process = make_process(admin, f"render-{len(requirements)}", requirements=requirements)
        process.run = {"language": "bash", "program": "echo {{ 'x' }}"}
        process.save()
        data = Data.objects.create(name="d", contributor=admin, process=process, status="WT", flow_run_id=uuid.uuid4())
        plan = prepare_run(data.pk, str(data.flow_run_id))
        assert plan is not None
        assert program.render_bash(plan, backend) == expected


def test_unknown_engines_fail_with_resolwes_message(admin):
    import asyncio

    from resolwe_prefect.execution.run import steps
    from resolwe_prefect.expressions import EvaluationError

    plans = []
    for slug, run, requirements in (
        ("perl-process", {"language": "perl", "program": "print 1"}, {}),
        ("mako-process", {"language": "bash", "program": "echo ${x}"}, {"expression-engine": "mako"}),
    ):
        process = make_process(admin, slug, requirements=requirements)
        process.run = run
        process.save()
        data = Data.objects.create(name="d", contributor=admin, process=process, status="WT", flow_run_id=uuid.uuid4())
        plans.append(prepare_run(data.pk, str(data.flow_run_id)))
    with pytest.raises(steps.ProgramError, match="^Error in process script: Unsupported execution engine: perl$"):
        asyncio.run(steps.render_program.fn(plans[0]))
    # render-program adds "Error in process script: " to every rendering error.
    with pytest.raises(EvaluationError, match="^Unsupported expression engine: mako$"):
        program.render_bash(plans[1], get_backend("local"))


def test_interactive_programs_are_limited_in_cpu_time_and_batch_ones_are_not(admin, settings):
    import asyncio
    import time

    settings.FLOW_PROCESS_RESOURCE_DEFAULTS = {"cpu_time_interactive": 1}
    backend = get_backend("local")
    jobs = {}
    for scheduling_class in ("IN", "BA"):
        process = make_process(admin, f"cpu-{scheduling_class.lower()}", scheduling_class=scheduling_class)
        data = Data.objects.create(name="d", contributor=admin, process=process, status="WT", flow_run_id=uuid.uuid4())
        plan = prepare_run(data.pk, str(data.flow_run_id))
        jobs[scheduling_class] = program.program_job(plan, "while :; do :; done", backend)
        if scheduling_class == "IN":
            plan_in = plan
    assert "ulimit -t" not in jobs["BA"].script
    assert jobs["IN"].script.startswith("ulimit -t 1\n")
    started = time.monotonic()
    result = asyncio.run(backend.run(jobs["IN"], lambda line: None))
    assert result.return_code != 0 and time.monotonic() - started < 30
    # Unconfigured: Resolwe's 30 seconds, times its margin of 1.2.
    settings.FLOW_PROCESS_RESOURCE_DEFAULTS = {}
    assert program.program_job(plan_in, "true", backend).script.startswith("ulimit -t 36\n")
