"""Fixtures of the entities app's tests: its background operations reach into Data, so they use the data app's."""

from __future__ import annotations

from tests.data.conftest import (  # noqa: F401 (fixtures, and task_of)
    bob,
    bob_client,
    data_root,
    make_finished,
    run,
    sync_tasks,
    task_of,
    task_process,
)
