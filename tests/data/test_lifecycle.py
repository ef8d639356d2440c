"""Dependency resolution: wait for inputs, start when they are OK, fail when one fails."""

import pytest

from resolwe_prefect.data import lifecycle
from resolwe_prefect.data.models import Data, DataStatus
from resolwe_prefect.data.services import create_data

from .conftest import make_process

pytestmark = pytest.mark.django_db


@pytest.fixture
def chain(admin):
    make_process(admin, "source")
    make_process(
        admin,
        "sink",
        inputs=[{"name": "a", "label": "A", "type": "data:"}, {"name": "b", "label": "B", "type": "data:"}],
    )
    return admin


def test_ready_data_is_submitted_after_commit(chain, submitted, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        data = create_data(user=chain, process_ref={"slug": "source"})
    assert submitted == []
    lifecycle.advance([data.pk])
    assert submitted == [data.pk]
    assert callbacks


def test_dependant_waits_until_every_input_is_ok(chain, submitted):
    a = create_data(user=chain, process_ref={"slug": "source"})
    b = create_data(user=chain, process_ref={"slug": "source"})
    sink = create_data(user=chain, process_ref={"slug": "sink"}, input={"a": a.pk, "b": b.pk})
    assert lifecycle.advance([sink.pk]) == []
    assert Data.objects.get(pk=sink.pk).status == DataStatus.WAITING
    Data.objects.filter(pk=a.pk).update(status=DataStatus.DONE)
    lifecycle.children_finished(a.pk)
    assert sink.pk not in submitted
    Data.objects.filter(pk=b.pk).update(status=DataStatus.DONE)
    lifecycle.children_finished(b.pk)
    assert submitted == [sink.pk]


def test_failed_input_fails_the_whole_chain(chain, submitted, django_capture_on_commit_callbacks):
    make_process(chain, "after", inputs=[{"name": "x", "label": "X", "type": "data:"}])
    a = create_data(user=chain, process_ref={"slug": "source"})
    b = create_data(user=chain, process_ref={"slug": "source"})
    sink = create_data(user=chain, process_ref={"slug": "sink"}, input={"a": a.pk, "b": b.pk})
    after = create_data(user=chain, process_ref={"slug": "after"}, input={"x": sink.pk})
    Data.objects.filter(pk=a.pk).update(status=DataStatus.ERROR)
    # Each failure releases its own dependants once its transaction commits.
    with django_capture_on_commit_callbacks(execute=True):
        lifecycle.children_finished(a.pk)
    sink.refresh_from_db()
    after.refresh_from_db()
    assert sink.status == after.status == DataStatus.ERROR
    assert sink.process_error == [lifecycle.INPUT_ERROR] == after.process_error
    assert submitted == []


def test_deleted_input_counts_as_failed(chain, submitted):
    a = create_data(user=chain, process_ref={"slug": "source"})
    b = create_data(user=chain, process_ref={"slug": "source"})
    sink = create_data(user=chain, process_ref={"slug": "sink"}, input={"a": a.pk, "b": b.pk})
    Data.objects.filter(pk=b.pk).update(status=DataStatus.DONE)
    Data.objects.filter(pk=a.pk).delete()
    assert lifecycle.inputs_states([sink.pk]) == {sink.pk: "failed"}
    assert lifecycle.advance([sink.pk]) == []
    assert Data.objects.get(pk=sink.pk).status == DataStatus.ERROR


def test_releasing_a_fan_out_takes_a_fixed_number_of_queries(chain, submitted, django_assert_max_num_queries):
    """A parent with many children resolves them together, not two queries per child."""
    make_process(chain, "after", inputs=[{"name": "x", "label": "X", "type": "data:"}])
    root = create_data(user=chain, process_ref={"slug": "source"})
    children = [create_data(user=chain, process_ref={"slug": "after"}, input={"x": root.pk}).pk for _ in range(30)]
    Data.objects.filter(pk=root.pk).update(status=DataStatus.DONE)
    submitted.clear()
    with django_assert_max_num_queries(6):
        lifecycle.children_finished(root.pk)
    assert sorted(submitted) == sorted(children)


def test_processes_outside_the_allow_list_are_left_as_they_are(chain, submitted, settings):
    settings.FLOW_PROCESSES_ALLOW_LIST = ["sink"]
    data = create_data(user=chain, process_ref={"slug": "source"})
    assert lifecycle.advance([data.pk]) == []
    assert Data.objects.get(pk=data.pk).status == DataStatus.RESOLVING and submitted == []
    settings.FLOW_PROCESSES_ALLOW_LIST = ["source"]
    assert lifecycle.advance([data.pk]) == [data.pk]


def test_the_ignore_list_wins_over_the_allow_list(chain, submitted, settings):
    settings.FLOW_PROCESSES_ALLOW_LIST = ["source", "sink"]
    settings.FLOW_PROCESSES_IGNORE_LIST = ["source"]
    data = create_data(user=chain, process_ref={"slug": "source"})
    assert lifecycle.advance([data.pk]) == []
    assert Data.objects.get(pk=data.pk).status == DataStatus.RESOLVING
    settings.FLOW_PROCESSES_IGNORE_LIST = []
    assert lifecycle.advance([data.pk]) == [data.pk]


def test_the_lists_are_read_from_the_environment(monkeypatch):
    import importlib
    import json

    import django_project.settings as project_settings

    monkeypatch.setenv("FLOW_PROCESSES_ALLOW_LIST", json.dumps(["a", "b"]))
    monkeypatch.setenv("FLOW_PROCESSES_IGNORE_LIST", json.dumps(["b"]))
    try:
        reloaded = importlib.reload(project_settings)
        assert (reloaded.FLOW_PROCESSES_ALLOW_LIST, reloaded.FLOW_PROCESSES_IGNORE_LIST) == (["a", "b"], ["b"])
    finally:
        monkeypatch.undo()
        importlib.reload(project_settings)
