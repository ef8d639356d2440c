"""Fixtures for background tasks: running them inline, a second user, and the task a response describes.

Tasks run inline (``RESOLWE_PREFECT_TASKS_SYNC``) when the request's
transaction commits; ``run`` executes those on-commit callbacks, so a test
sees the final task state right after the request, without sleeping. The
tests of the tasks app and of the apps whose operations run as tasks import
these into their conftest.
"""

from __future__ import annotations

from contextlib import contextmanager

import pytest
from django.contrib.auth import get_user_model
from rest_framework.test import APIClient

from resolwe_prefect.tasks.models import BackgroundTask


@pytest.fixture
def sync_tasks(settings):
    settings.RESOLWE_PREFECT_TASKS_SYNC = True


@pytest.fixture
def run(sync_tasks, django_capture_on_commit_callbacks):
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


def task_of(response) -> BackgroundTask:
    """The task a 200 response describes, re-read from the database (its final state)."""
    assert response.status_code == 200, response.content
    body = response.json()
    assert set(body) == {"id", "started", "finished", "status", "description", "output"}
    return BackgroundTask.objects.get(pk=body["id"])
