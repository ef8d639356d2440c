"""Fixtures of the data app's tests; the background operations' tests also use the tasks app's fixtures."""

from __future__ import annotations

from pathlib import Path

import pytest

from resolwe_prefect.data import lifecycle
from resolwe_prefect.data.models import Data, DataStatus, Storage
from resolwe_prefect.permissions import services as permissions
from resolwe_prefect.processes.models import Process
from tests.tasks.fixtures import bob, bob_client, run, sync_tasks, task_of  # noqa: F401 (fixtures, and task_of)

SUBMITTED: list[int] = []


def record_submission(data_ids: list[int]) -> None:
    """A submitter that remembers what would have gone to Prefect."""
    SUBMITTED.extend(data_ids)


@pytest.fixture
def submitted():
    """Ready Data objects go to ``SUBMITTED`` instead of Prefect (nothing is offered to a worker)."""
    previous = lifecycle.registered()
    lifecycle.register(record_submission)
    SUBMITTED.clear()
    yield SUBMITTED
    lifecycle.register(*previous)


def make_process(user, slug, *, inputs=(), outputs=(), data_name=None, **fields) -> Process:
    return Process.objects.create(
        slug=slug,
        name=slug.title(),
        version=fields.pop("version", "1.0.0"),
        type=fields.pop("type", f"data:{slug}:"),
        contributor=user,
        input_schema=list(inputs),
        output_schema=list(outputs),
        data_name=data_name,
        run={"language": "bash", "program": "true"},
        **fields,
    )


@pytest.fixture
def data_root(settings, tmp_path) -> Path:
    """A DATA_DIR of the test's own, so files on disk can be asserted exactly."""
    root = tmp_path / "data"
    root.mkdir()
    settings.FLOW_EXECUTOR = {**settings.FLOW_EXECUTOR, "DATA_DIR": root}
    return root


@pytest.fixture
def task_process(admin) -> Process:
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
def make_finished(contributor, task_process, data_root):
    """A finished Data object with a file on disk and a JSON output in a Storage, placed as the API places it."""

    def make(user=None, content: str = "hello", status: str = DataStatus.DONE, **kwargs) -> Data:
        user = user or contributor
        data = Data.objects.create(
            name=kwargs.pop("name", "Result"), contributor=user, process=task_process, status=status, **kwargs
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
