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
    make_process(admin, "sink", inputs=[{"name": "a", "label": "A", "type": "data:"}, {"name": "b", "label": "B", "type": "data:"}])
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


def test_failed_input_fails_the_whole_chain(chain, submitted):
    make_process(chain, "after", inputs=[{"name": "x", "label": "X", "type": "data:"}])
    a = create_data(user=chain, process_ref={"slug": "source"})
    b = create_data(user=chain, process_ref={"slug": "source"})
    sink = create_data(user=chain, process_ref={"slug": "sink"}, input={"a": a.pk, "b": b.pk})
    after = create_data(user=chain, process_ref={"slug": "after"}, input={"x": sink.pk})
    Data.objects.filter(pk=a.pk).update(status=DataStatus.ERROR)
    lifecycle.children_finished(a.pk)
    sink.refresh_from_db()
    after.refresh_from_db()
    assert sink.status == after.status == DataStatus.ERROR
    assert sink.process_error == [lifecycle.INPUT_ERROR] == after.process_error
    assert submitted == []
