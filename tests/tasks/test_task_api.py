"""``/api/task``: only the caller's tasks, Resolwe's fields and filters."""

from __future__ import annotations

from datetime import datetime

import pytest
from django.utils import timezone

from resolwe_prefect.tasks.models import BackgroundTask, TaskStatus

pytestmark = pytest.mark.django_db


@pytest.fixture
def tasks(contributor, bob):
    mine_ok = BackgroundTask.objects.create(
        user=contributor, description="Mine", status=TaskStatus.DONE, output=[7], finished=timezone.now()
    )
    mine_waiting = BackgroundTask.objects.create(user=contributor, description="Mine too")
    theirs = BackgroundTask.objects.create(user=bob, description="Bob's", status=TaskStatus.DONE, output="x")
    return mine_ok, mine_waiting, theirs


def test_list_shows_only_the_callers_tasks(user_client, bob_client, anon_client, admin_client, tasks):
    mine_ok, mine_waiting, theirs = tasks
    assert [t["id"] for t in user_client.get("/api/task").json()] == [mine_ok.pk, mine_waiting.pk]
    assert [t["id"] for t in bob_client.get("/api/task").json()] == [theirs.pk]
    assert anon_client.get("/api/task").json() == []
    assert admin_client.get("/api/task").json() == []  # tasks are personal, superusers included
    assert user_client.get(f"/api/task/{theirs.pk}").status_code == 404
    assert anon_client.get(f"/api/task/{mine_ok.pk}").status_code == 404


def test_detail_shape_is_what_resdk_loads(user_client, tasks):
    body = user_client.get(f"/api/task/{tasks[0].pk}").json()
    assert set(body) == {"id", "started", "finished", "status", "description", "output"}
    assert (body["status"], body["description"], body["output"]) == ("OK", "Mine", [7])
    for stamp in (body["started"], body["finished"]):
        assert datetime.strptime(stamp, "%Y-%m-%dT%H:%M:%S.%f%z")  # resdk's format on Python < 3.11
    assert user_client.get(f"/api/task/{tasks[1].pk}").json()["finished"] is None


def test_filters_and_pagination(user_client, tasks):
    mine_ok, mine_waiting, _ = tasks
    assert [t["id"] for t in user_client.get("/api/task?status=WT").json()] == [mine_waiting.pk]
    assert [t["id"] for t in user_client.get("/api/task?status__in=OK,ER").json()] == [mine_ok.pk]
    assert [t["id"] for t in user_client.get(f"/api/task?id={mine_ok.pk}").json()] == [mine_ok.pk]
    ids = f"{mine_ok.pk},{mine_waiting.pk}"
    assert [t["id"] for t in user_client.get(f"/api/task?id__in={ids}").json()] == [mine_ok.pk, mine_waiting.pk]
    page = user_client.get("/api/task?limit=1").json()
    assert page["count"] == 2 and len(page["results"]) == 1
    assert user_client.get("/api/task?fields=id,status").json() == [
        {"id": mine_ok.pk, "status": "OK"},
        {"id": mine_waiting.pk, "status": "WT"},
    ]


def test_tasks_are_read_only(user_client, tasks):
    assert user_client.post("/api/task", {"description": "x"}, format="json").status_code == 405
    assert user_client.delete(f"/api/task/{tasks[0].pk}").status_code == 405
