"""Every status transition of a Data object, with the real database: allowed moves and guarded refusals."""

from __future__ import annotations

import ast
import uuid
from pathlib import Path

import pytest

from resolwe_prefect.data import transitions
from resolwe_prefect.data.models import Data, DataStatus

from .conftest import make_process

pytestmark = pytest.mark.django_db

ALL = [s.value for s in DataStatus]
UNFINISHED = ["RE", "WT", "PP", "PR"]
FINAL = ["OK", "ER", "DR"]
NOT_FINAL = [s for s in ALL if s not in FINAL]  # UP too: a flow run's news reaches any object not yet final


@pytest.fixture
def process(admin):
    return make_process(admin, "transitions")


@pytest.fixture
def finished(monkeypatch):
    """The ids ``data_finished`` announced (sent only once the transaction commits)."""
    sent: list[int] = []

    def listen(sender, data_id, **kwargs):
        sent.append(data_id)

    transitions.data_finished.connect(listen, dispatch_uid="test-transitions")
    yield sent
    transitions.data_finished.disconnect(dispatch_uid="test-transitions")


def _data(admin, process, status: str, *, bound: bool = True, **fields) -> Data:
    return Data.objects.create(
        name="d", contributor=admin, process=process, status=status,
        flow_run_id=uuid.uuid4() if bound else None, **fields,
    )  # fmt: skip


def _status(data: Data) -> str:
    return Data.objects.values_list("status", flat=True).get(pk=data.pk)


# --- before a flow run ---------------------------------------------------------------------


@pytest.mark.parametrize("status", ALL)
def test_restart_only_from_er(admin, process, status):
    data = _data(admin, process, status, output={"x": 1}, process_error=["boom"])
    if status != "ER":
        with pytest.raises(ValueError):
            transitions.restart(data)
        assert _status(data) == status
        return
    transitions.restart(data)
    data.refresh_from_db()
    assert (data.status, data.flow_run_id, data.attempt, data.output, data.process_error) == ("RE", None, 2, {}, [])


@pytest.mark.parametrize("status", ALL)
def test_queue_moves_only_unbound_re_to_wt(admin, process, status):
    unbound, bound = _data(admin, process, status, bound=False), _data(admin, process, status)
    transitions.queue([unbound.pk, bound.pk])
    assert _status(unbound) == ("WT" if status == "RE" else status)
    assert _status(bound) == status


@pytest.mark.parametrize("status", ALL)
def test_fail_on_inputs_from_unfinished_only(admin, process, status, finished, django_capture_on_commit_callbacks):
    data = _data(admin, process, status)
    with django_capture_on_commit_callbacks(execute=True):
        transitions.fail_on_inputs(data)
    if status in UNFINISHED:
        data.refresh_from_db()
        assert (data.status, data.process_error, data.process_rc) == ("ER", [transitions.INPUT_ERROR], 1)
        assert finished == [data.pk]
    else:
        assert _status(data) == status and finished == []


@pytest.mark.parametrize("status", ALL)
def test_bind_only_unbound_re_or_wt(admin, process, status):
    data = _data(admin, process, status, bound=False)
    run = uuid.uuid4()
    assert transitions.bind(data.pk, run) is (status in ("RE", "WT"))
    data.refresh_from_db()
    if status in ("RE", "WT"):
        assert (data.status, data.flow_run_id) == ("WT", run) and data.scheduled is not None
    else:
        assert (data.status, data.flow_run_id) == (status, None)


def test_bind_refuses_a_bound_object(admin, process):
    data = _data(admin, process, "WT")
    before = data.flow_run_id
    assert transitions.bind(data.pk, uuid.uuid4()) is False
    data.refresh_from_db()
    assert data.flow_run_id == before


# --- during a flow run ---------------------------------------------------------------------


@pytest.mark.parametrize("status", ALL)
def test_prepare_from_any_status_of_its_own_run(admin, process, status):
    data = _data(admin, process, status, output={"old": 1}, process_progress=50)
    prepared = transitions.prepare(data.pk, data.flow_run_id, None)
    assert prepared is not None
    data.refresh_from_db()
    assert (data.status, data.output, data.process_progress) == ("PP", {}, 0)


def test_prepare_refuses_another_runs_object_and_a_wrong_key(admin, process):
    data = _data(admin, process, "WT")
    assert transitions.prepare(data.pk, uuid.uuid4(), None) is None
    unbound = _data(admin, process, "WT", bound=False)
    run = uuid.uuid4()
    assert transitions.prepare(unbound.pk, run, "not-this-attempt") is None
    assert transitions.prepare(unbound.pk, run, transitions.attempt_key(unbound)) is not None
    unbound.refresh_from_db()
    assert (unbound.status, unbound.flow_run_id) == ("PP", run)
    assert transitions.prepare(10**9, run, None) is None


@pytest.mark.parametrize("status", ALL)
def test_start_and_progress_only_while_not_final(admin, process, status):
    data = _data(admin, process, status)
    assert transitions.progress(data.pk, data.flow_run_id, 0.5) is (status in NOT_FINAL)
    assert transitions.start(data.pk, data.flow_run_id) is (status in NOT_FINAL)
    data.refresh_from_db()
    if status in NOT_FINAL:
        assert (data.status, data.process_progress) == ("PR", 50) and data.started is not None
    else:
        assert data.status == status
    assert transitions.start(data.pk, uuid.uuid4()) is False


@pytest.mark.parametrize("status", ALL)
@pytest.mark.parametrize("ok", [True, False])
def test_finish_once_and_releases(admin, process, status, ok, finished, django_capture_on_commit_callbacks):
    data = _data(admin, process, status)
    with django_capture_on_commit_callbacks(execute=True):
        changed = transitions.finish(data.pk, data.flow_run_id, ok=ok, output={"x": 1}, error=[] if ok else ["bad"])
        assert finished == []  # not before the commit
    assert changed is (status in NOT_FINAL)
    data.refresh_from_db()
    if status in NOT_FINAL:
        assert data.status == ("OK" if ok else "ER") and finished == [data.pk]
        assert data.process_progress == (100 if ok else 0)
        with django_capture_on_commit_callbacks(execute=True):  # a second report of the same end
            assert transitions.finish(data.pk, data.flow_run_id, ok=not ok, output={}) is False
        assert finished == [data.pk]
    else:
        assert data.status == status and finished == []


def test_finish_refuses_a_stale_run(admin, process, finished, django_capture_on_commit_callbacks):
    data = _data(admin, process, "PR")
    with django_capture_on_commit_callbacks(execute=True):
        assert transitions.finish(data.pk, uuid.uuid4(), ok=True, output={}) is False
    assert _status(data) == "PR" and finished == []


@pytest.mark.parametrize("status", ALL)
def test_fail_only_while_not_final(admin, process, status, finished, django_capture_on_commit_callbacks):
    data = _data(admin, process, status, process_error=["earlier"])
    with django_capture_on_commit_callbacks(execute=True):
        changed = transitions.fail(data.flow_run_id, "crashed")
    if status in NOT_FINAL:
        data.refresh_from_db()
        assert changed == data.pk and data.status == "ER" and data.process_error == ["earlier", "crashed"]
        assert finished == [data.pk]
    else:
        assert changed is None and _status(data) == status and finished == []


def test_fail_names_the_object_when_given(admin, process):
    data = _data(admin, process, "PR")
    assert transitions.fail(data.flow_run_id, "x", data_id=data.pk + 1) is None
    assert transitions.fail(data.flow_run_id, "x", data_id=data.pk) == data.pk


@pytest.mark.parametrize("status", ALL)
def test_reopen_only_final_of_its_run(admin, process, status):
    data = _data(admin, process, status, finished=None)
    assert transitions.reopen(data.flow_run_id) == (data.pk if status in FINAL else None)
    assert _status(data) == ("WT" if status in FINAL else status)
    assert transitions.reopen(uuid.uuid4()) is None


def test_is_bound(admin, process):
    data = _data(admin, process, "PR")
    assert transitions.is_bound(data.pk, data.flow_run_id)
    assert not transitions.is_bound(data.pk, uuid.uuid4())
    data.delete()
    assert not transitions.is_bound(data.pk, data.flow_run_id)


# --- the owner -----------------------------------------------------------------------------

PACKAGE = Path(__file__).resolve().parents[2] / "resolwe_prefect"
#: Where a Data object's status may be written: its transitions, and its creation.
OWNERS = {"data/transitions.py", "data/services.py"}


def _status_writes(path: Path) -> list[int]:
    """Lines that assign ``x.status = ...`` or pass ``status=DataStatus...`` (an update or a create)."""
    lines = []
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Assign | ast.AugAssign):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            if any(isinstance(t, ast.Attribute) and t.attr == "status" for t in targets):
                lines.append(node.lineno)
        if isinstance(node, ast.Call) and getattr(node.func, "attr", "") in ("update", "create", "get_or_create"):
            for keyword in node.keywords:
                if keyword.arg == "status" and "DataStatus" in ast.unparse(keyword.value):
                    lines.append(node.lineno)
    return lines


def test_only_transitions_and_creation_write_a_data_status():
    writers = {
        str(path.relative_to(PACKAGE)): found
        for path in PACKAGE.rglob("*.py")
        if "migrations" not in path.parts and (found := _status_writes(path))
    }
    assert set(writers) <= OWNERS, writers
