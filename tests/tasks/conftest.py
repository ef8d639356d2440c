"""Fixtures of the tasks app's tests: the background-task fixtures, and finished Data to act on."""

from __future__ import annotations

from tests.data.conftest import data_root, make_finished, task_process  # noqa: F401 (fixtures)

from .fixtures import bob, bob_client, run, sync_tasks, task_of  # noqa: F401 (fixtures, and task_of)
