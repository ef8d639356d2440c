"""Load: 20 clients create 50 Data objects each at once, with dependencies between them.

Each client logs in on its own session and POSTs a tree of 50 objects: a
head, then objects whose input is an earlier object of the same client
(object ``i`` reads object ``(i - 1) // 2``), so most of the 1,000 objects
wait (WT) and are handed to Prefect by the dependency resolution as their
inputs finish. The test then checks what an operator would: every object
ends OK, each has exactly one flow run, and every flow run of the
deployment belongs to one of them (none orphaned, none doubled).

It prints ``LOAD: ...`` with the times and writes them to
``test-artifacts/load.json``.
"""

from __future__ import annotations

import json
import os
import threading
import time
from datetime import UTC, datetime
from pathlib import Path

import pytest
import requests

from resolwe_prefect.cli.demo import ApiClient
from tests.e2e.conftest import ADMIN_PASSWORD

pytestmark = pytest.mark.e2e

CLIENTS, PER_CLIENT = 20, 50
TIMEOUT = 900.0
ARTIFACTS = Path(os.environ.get("TEST_ARTIFACTS_DIR", Path(__file__).resolve().parents[2] / "test-artifacts"))


def _client_tree(stack, tag: str, barrier: threading.Barrier, out: list, errors: list) -> None:
    """One client: log in, wait for the others, then POST its 50 objects as fast as the API answers."""
    try:
        client = ApiClient(stack.url, "admin", ADMIN_PASSWORD)
        barrier.wait(timeout=60)
        ids: list[int] = []
        for i in range(PER_CLIENT):
            if i == 0:
                body = {"process": {"slug": "e2e-echo"}, "input": {"text": tag}}
            else:
                body = {"process": {"slug": "e2e-after"}, "input": {"before": ids[(i - 1) // 2]}}
            response = client.session.post(f"{stack.url}/api/data", json={**body, "tags": [tag]}, timeout=120)
            assert response.status_code == 201, response.text
            ids.append(response.json()["id"])
        out.extend(ids)
    except Exception as error:  # reported by the test, with the client it came from
        errors.append(repr(error))


def _statuses(stack, tag: str) -> list[dict]:
    response = stack.client.session.get(
        f"{stack.url}/api/data",
        params={"tags": tag, "fields": "id,status,flow_run_id,process_error"},
        timeout=120,
    )
    response.raise_for_status()
    return response.json()


def _flow_runs_since(stack, since: str) -> list[dict]:
    """Every flow run of the Data deployment created after ``since``, read page by page like the UI."""
    deployment = requests.get(f"{stack.prefect_api}/deployments/name/resolwe-data/local", timeout=30).json()
    runs: list[dict] = []
    while True:
        page = requests.post(
            f"{stack.prefect_api}/flow_runs/filter",
            json={
                "flow_runs": {"expected_start_time": {"after_": since}},
                "deployments": {"id": {"any_": [deployment["id"]]}},
                "sort": "EXPECTED_START_TIME_ASC",
                "limit": 200,
                "offset": len(runs),
            },
            timeout=60,
        )
        page.raise_for_status()
        runs.extend(page.json())
        if len(page.json()) < 200:
            return runs


def test_twenty_clients_fifty_dependent_objects_each(stack):
    tag = f"load-{int(time.time())}"
    since = datetime.now(UTC).isoformat()
    barrier = threading.Barrier(CLIENTS + 1)
    created: list[int] = []
    errors: list[str] = []
    threads = [
        threading.Thread(target=_client_tree, args=(stack, tag, barrier, created, errors), daemon=True)
        for _ in range(CLIENTS)
    ]
    for thread in threads:
        thread.start()
    barrier.wait(timeout=120)
    started = time.monotonic()
    for thread in threads:
        thread.join(timeout=600)
    posted = time.monotonic() - started
    assert not errors, errors[:5]
    assert len(created) == CLIENTS * PER_CLIENT

    deadline = started + TIMEOUT
    while True:
        rows = _statuses(stack, tag)
        pending = [row for row in rows if row["status"] not in ("OK", "ER", "DR")]
        if not pending or time.monotonic() > deadline:
            break
        time.sleep(2)
    wall = time.monotonic() - started
    statuses = {row["status"] for row in rows}
    failed = [row for row in rows if row["status"] != "OK"]
    assert len(rows) == CLIENTS * PER_CLIENT and not failed, (len(rows), statuses, failed[:5])

    flow_run_ids = [row["flow_run_id"] for row in rows]
    assert len(set(flow_run_ids)) == len(rows), "a flow run is shared by two Data objects"
    runs = _flow_runs_since(stack, since)
    # Ours by what the run was asked to process, not by what the Data objects point at.
    ours = [run for run in runs if int((run.get("parameters") or {}).get("data_id", -1)) in set(created)]
    by_id = {run["id"]: run for run in runs}
    assert set(flow_run_ids) <= set(by_id), "a Data object names a flow run Prefect does not have"
    per_data: dict[int, int] = {}
    for run in ours:
        data_id = int(run["parameters"]["data_id"])
        per_data[data_id] = per_data.get(data_id, 0) + 1
    doubled = {data_id: n for data_id, n in per_data.items() if n > 1}
    assert not doubled, f"Data objects with more than one flow run: {doubled}"
    orphaned = [run["id"] for run in ours if run["id"] not in set(flow_run_ids)]
    assert not orphaned, f"flow runs no Data object owns: {orphaned[:5]}"
    not_completed = [run["id"] for run in ours if run["state_type"] != "COMPLETED"]
    assert not not_completed, f"flow runs not Completed: {not_completed[:5]}"

    figures = {
        "clients": CLIENTS,
        "per_client": PER_CLIENT,
        "data_objects": len(rows),
        "post_seconds": round(posted, 1),
        "wall_seconds": round(wall, 1),
        "objects_per_second": round(len(rows) / wall, 2),
        "flow_runs": len(ours),
    }
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    (ARTIFACTS / "load.json").write_text(json.dumps(figures, indent=2))
    print(
        f"LOAD: {len(rows)} Data objects from {CLIENTS} clients, all OK, one flow run each: "
        f"POSTs took {posted:.1f} s, all final after {wall:.1f} s ({len(rows) / wall:.2f}/s)"
    )
