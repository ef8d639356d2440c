"""Actors, objects and a task runner for the background-task tests.

Tasks run inline (``RESOLWE_PREFECT_TASKS_SYNC``) when the request's
transaction commits; ``run`` executes those on-commit callbacks, so a test
sees the final task state right after the request, without sleeping.
"""

from __future__ import annotations

from contextlib import contextmanager
from pathlib import Path

import pytest
from django.contrib.auth import get_user_model
from rest_framework.test import APIClient

from resolwe_prefect.data.models import Data, DataStatus, Storage
from resolwe_prefect.permissions import services as permissions
from resolwe_prefect.processes.models import Process
from resolwe_prefect.tasks.models import BackgroundTask


@pytest.fixture(autouse=True)
def sync_tasks(settings):
    settings.RESOLWE_PREFECT_TASKS_SYNC = True


@pytest.fixture(autouse=True)
def data_root(settings, tmp_path) -> Path:
    """Every test gets its own DATA_DIR, so files on disk can be asserted exactly."""
    root = tmp_path / "data"
    root.mkdir()
    settings.FLOW_EXECUTOR = {**settings.FLOW_EXECUTOR, "DATA_DIR": root}
    return root


@pytest.fixture
def run(django_capture_on_commit_callbacks):
    """``with run(): client.post(...)`` runs the tasks the request started, as its commit would."""

    @contextmanager
    def runner():
        with django_capture_on_commit_callbacks(execute=True):
            yield

    return runner


@pytest.fixture
def bob(db):
    return get_user_model().objects.create_user("bob", "bob@example.com", "pw")


@pytest.fixture
def bob_client(bob) -> APIClient:
    client = APIClient()
    client.force_authenticate(bob)
    return client


@pytest.fixture
def process(admin) -> Process:
    """A process with a Data input, a file output and a JSON output (stored as a Storage id)."""
    return Process.objects.create(
        slug="task-proc", name="Task proc", version="1.0.0", type="data:task:", contributor=admin,
        input_schema=[{"name": "src", "label": "Source", "type": "data:task:", "required": False}],
        output_schema=[
            {"name": "out", "label": "Out", "type": "basic:file:"},
            {"name": "table", "label": "Table", "type": "basic:json:"},
        ],
        run={"language": "bash", "program": "true"},
    )  # fmt: skip


@pytest.fixture
def make_finished(contributor, process, data_root):
    """A finished Data object with a file on disk and a JSON output in a Storage, placed as the API places it."""

    def make(user=None, content: str = "hello", status: str = DataStatus.DONE, **kwargs) -> Data:
        user = user or contributor
        data = Data.objects.create(
            name=kwargs.pop("name", "Result"), contributor=user, process=process, status=status, **kwargs
        )
        storage = Storage.objects.create(name=f"Storage for data id {data.pk}", contributor=user, json={"rows": [1, 2]})
        storage.data.add(data)
        directory = data_root / str(data.pk)
        (directory / "sub").mkdir(parents=True)
        (directory / "out.txt").write_text(content)
        (directory / "sub" / "nested.txt").write_text(content * 2)
        data.output = {
            "out": {"file": "out.txt", "size": len(content), "total_size": len(content)},
            "table": storage.pk,
        }
        data.save(update_fields=["output"])
        permissions.on_created(data)
        return data

    return make


def task_of(response) -> BackgroundTask:
    """The task a 200 response describes, re-read from the database (its final state)."""
    assert response.status_code == 200, response.content
    body = response.json()
    assert set(body) == {"id", "started", "finished", "status", "description", "output"}
    return BackgroundTask.objects.get(pk=body["id"])
