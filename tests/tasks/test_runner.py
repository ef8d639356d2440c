"""The task runner: WT on start, work after commit in its own transaction, OK + output or ER + message."""

from __future__ import annotations

import threading

import pytest
from django.db import transaction

from resolwe_prefect.entities.models import Collection
from resolwe_prefect.tasks import runner
from resolwe_prefect.tasks.models import BackgroundTask, TaskStatus


def _create_collection(name: str, user_id: int) -> list[str]:
    Collection.objects.create(name=name, contributor_id=user_id)
    return [name]


def _fail_after_writing(user_id: int) -> None:
    Collection.objects.create(name="half-done", contributor_id=user_id)
    raise RuntimeError("Something broke.")


@pytest.mark.django_db
def test_task_waits_for_commit_then_ends_ok(contributor, run):
    with run():
        task = runner.start_task(contributor, "Create", _create_collection, "made", contributor.pk)
        assert task.status == TaskStatus.WAITING and task.output is None  # nothing ran before the commit
    task.refresh_from_db()
    assert (task.status, task.output, task.description) == (TaskStatus.DONE, ["made"], "Create")
    assert task.finished is not None and task.finished >= task.started
    assert Collection.objects.filter(name="made").exists()


@pytest.mark.django_db
def test_failure_ends_er_with_the_message_and_rolls_back(contributor, run):
    with run():
        task = runner.start_task(contributor, "Fail", _fail_after_writing, contributor.pk)
    task.refresh_from_db()
    assert (task.status, task.output) == (TaskStatus.ERROR, "Something broke.")
    assert not Collection.objects.filter(name="half-done").exists()


@pytest.mark.django_db(transaction=True)
def test_production_path_runs_on_a_background_thread(settings, contributor):
    settings.RESOLWE_PREFECT_TASKS_SYNC = False
    threads: list[str] = []

    def work(user_id: int) -> str:
        threads.append(threading.current_thread().name)
        return _create_collection("threaded", user_id)[0]

    with transaction.atomic():
        task = runner.start_task(contributor, "Threaded", work, contributor.pk)
    assert runner.wait_for_tasks(timeout=30)
    task = BackgroundTask.objects.get(pk=task.pk)
    assert (task.status, task.output) == (TaskStatus.DONE, "threaded")
    assert threads and threads[0].startswith("resolwe-task") and threads[0] != threading.current_thread().name
    assert Collection.objects.filter(name="threaded").exists()
