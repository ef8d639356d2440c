"""The worker's sweep: what it does for in-flight Data whose flow run's events never arrived.

The Prefect server is replaced by a client that answers ``read_flow_runs``
with the states under test; the database is the test suite's PostgreSQL.
"""

from __future__ import annotations

import asyncio
import uuid
from datetime import timedelta
from types import SimpleNamespace

import pytest
from asgiref.sync import sync_to_async
from django.db import connections
from django.utils import timezone
from prefect.client.schemas.objects import StateType

from resolwe_prefect.data.models import Data, DataStatus
from resolwe_prefect.execution.run.plan import CANCELLED_MESSAGE
from resolwe_prefect.execution.worker import core as worker_module
from resolwe_prefect.execution.worker import sweep as sweep_module
from tests.data.conftest import make_process


class ServerWithRuns:
    """Answers the sweep's one question, which flow runs are in what state."""

    def __init__(self, runs: list) -> None:
        self.runs = runs

    async def __aenter__(self) -> ServerWithRuns:
        return self

    async def __aexit__(self, *exc) -> bool:
        return False

    async def read_flow_runs(self, flow_run_filter=None) -> list:
        return self.runs


def _in_flight_data(user, flow_run_id: uuid.UUID, *, fresh: bool = False) -> Data:
    """A Data object in PR whose last change is older than a sweep interval (or just now, when ``fresh``)."""
    data = Data.objects.create(
        name="Long program", contributor=user, process=make_process(user, f"long-program-{flow_run_id.hex[:8]}"),
        status=DataStatus.PROCESSING, flow_run_id=flow_run_id,
    )  # fmt: skip
    if not fresh:
        Data.objects.filter(pk=data.pk).update(modified=timezone.now() - timedelta(minutes=5))
    return data


async def _sweep_while_running(worker: worker_module.DataWorker, flow_run_id: uuid.UUID) -> bool:
    """One sweep while a long program is this worker's run ``flow_run_id``; whether the sweep stopped it."""
    task = asyncio.create_task(asyncio.sleep(60))
    worker.running[flow_run_id] = task
    await worker.sweep()
    await asyncio.sleep(0)  # let a cancelled task see its cancellation
    stopped = task.done()
    task.cancel()
    await asyncio.gather(task, return_exceptions=True)
    return stopped


def _server_says(monkeypatch, flow_run_id: uuid.UUID, state: StateType) -> None:
    """The Prefect server, as the sweep reads it, has the flow run in ``state``."""
    run = SimpleNamespace(id=flow_run_id, state=SimpleNamespace(type=state, name=state.value.title()))
    monkeypatch.setattr(sweep_module, "get_client", lambda: ServerWithRuns([run]))


def _closing_sync_to_async(function, thread_sensitive: bool = True):
    """The worker's ``sync_to_async``, but each call closes its thread's connection when done.

    Otherwise the thread pool's connections outlive the test and keep the
    test database from being dropped.
    """

    def call(*args, **kwargs):
        try:
            return function(*args, **kwargs)
        finally:
            connections.close_all()

    return sync_to_async(call, thread_sensitive=False)


@pytest.fixture
def worker(monkeypatch) -> worker_module.DataWorker:
    for module in (worker_module, sweep_module):
        monkeypatch.setattr(module, "sync_to_async", _closing_sync_to_async)
    worker = worker_module.DataWorker("resolwe-local", uuid.uuid4(), slots={"batch": 1})

    async def nothing(*args, **kwargs) -> None:
        return None

    monkeypatch.setattr(worker, "recover_orphans", nothing)
    monkeypatch.setattr(worker, "sync_launch_deployments", nothing)
    return worker


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("fresh", [False, True], ids=["quiet-program", "program-reporting-progress"])
def test_a_missed_cancelling_event_is_caught_by_the_sweep(admin, worker, monkeypatch, fresh):
    """An operator cancelled the run, but the event never came: the sweep stops it and the Data ends ER.

    Also when the program keeps its Data object fresh (progress), which the
    sweep's look at stale Data objects alone would pass over.
    """
    flow_run_id = uuid.uuid4()
    data = _in_flight_data(admin, flow_run_id, fresh=fresh)
    _server_says(monkeypatch, flow_run_id, StateType.CANCELLING)

    assert asyncio.run(_sweep_while_running(worker, flow_run_id)) is True

    data.refresh_from_db()
    assert data.status == DataStatus.ERROR and data.process_error == [CANCELLED_MESSAGE]
    assert flow_run_id in worker._cancelling  # the Cancelling event, if it comes late, changes nothing


@pytest.mark.django_db(transaction=True)
def test_a_running_run_is_left_alone(admin, worker, monkeypatch):
    flow_run_id = uuid.uuid4()
    data = _in_flight_data(admin, flow_run_id)
    _server_says(monkeypatch, flow_run_id, StateType.RUNNING)

    assert asyncio.run(_sweep_while_running(worker, flow_run_id)) is False

    data.refresh_from_db()
    assert data.status == DataStatus.PROCESSING


@pytest.mark.django_db(transaction=True)
def test_a_cancelling_run_of_another_worker_is_left_to_it(admin, worker, monkeypatch):
    """Runs on a standard Prefect worker's pool are cancelled by that worker, not by this sweep."""
    flow_run_id = uuid.uuid4()
    data = _in_flight_data(admin, flow_run_id)
    _server_says(monkeypatch, flow_run_id, StateType.CANCELLING)

    asyncio.run(worker.sweep())

    data.refresh_from_db()
    assert data.status == DataStatus.PROCESSING
