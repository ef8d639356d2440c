"""End to end: processes registered from YAML, Data created through the API, each run a Prefect flow run."""

from __future__ import annotations

import os
import uuid

import pytest
import requests

from resolwe_prefect.cli.demo import run_pipeline

pytestmark = pytest.mark.e2e


def test_demo_pipeline_ends_ok(stack):
    assert run_pipeline(stack.client, timeout=180)


def _wait_for_status(stack, data_id: int, status: str, timeout: float = 60) -> dict:
    """The Data object once it reaches ``status`` (e.g. PR, when its program is running)."""
    import time

    deadline = time.monotonic() + timeout
    while (data := stack.client.get_data(data_id))["status"] != status:
        assert time.monotonic() < deadline, f"data {data_id} stayed {data['status']}"
        time.sleep(0.1)
    return data


def test_each_data_object_is_one_flow_run(stack):
    data = stack.client.create_data("e2e-echo", {"text": "hello"})
    final = stack.wait([data["id"]])[data["id"]]
    assert final["status"] == "OK", final
    assert final["output"] == {"text": "hello"}
    assert final["flow_run_url"] == f"{stack.prefect_ui}/runs/flow-run/{final['flow_run_id']}"
    flow_run = stack.flow_run(final["flow_run_id"])
    assert flow_run["parameters"] == {"data_id": data["id"]}
    assert f"data-{data['id']}" in flow_run["name"] and "e2e-echo" in flow_run["name"]
    assert "process:e2e-echo" in flow_run["tags"] and "process-type:data:e2e:echo:" in flow_run["tags"]
    assert stack.final_state(final["flow_run_id"]) == "COMPLETED"


def test_input_values_reach_the_shell_quoted(stack):
    # An injection that ran would report the marker as a warning of the Data object.
    marker = f"pwned-{uuid.uuid4().hex}"
    text = f"a b; re-warning {marker} $(re-warning {marker}) `re-warning {marker}` 'q' \"d\""
    data = stack.client.create_data("e2e-echo", {"text": text})
    final = stack.wait([data["id"]])[data["id"]]
    assert final["status"] == "OK", final
    assert final["output"]["text"] == text
    assert not any(marker in warning for warning in final["process_warning"])


def test_program_environment_is_scrubbed(stack):
    data = stack.client.create_data("e2e-environment", {})
    final = stack.wait([data["id"]])[data["id"]]
    assert final["status"] == "OK", final
    names = set(final["output"]["names"].split())
    assert "RESOLWE_COMMANDS_FILE" in names
    leaked = {n for n in names if n.startswith(("PREFECT_", "DATABASE", "DJANGO", "RESOLWE_PREFECT_"))}
    assert not leaked


def test_failure_propagates_to_dependants(stack):
    failing = stack.client.create_data("e2e-fail", {})
    dependant = stack.client.create_data("e2e-after", {"before": failing["id"]})
    results = stack.wait([failing["id"], dependant["id"]])
    assert results[failing["id"]]["status"] == "ER"
    assert results[failing["id"]]["process_rc"] == 3
    assert any("return code is not 0" in e for e in results[failing["id"]]["process_error"])
    assert results[dependant["id"]]["status"] == "ER"
    assert "One or more inputs have status ERROR" in results[dependant["id"]]["process_error"]
    assert results[dependant["id"]]["output"] == {}
    assert stack.final_state(results[failing["id"]]["flow_run_id"]) == "FAILED"


def test_dependant_waits_then_starts_after_its_input(stack):
    first = stack.client.create_data("e2e-sleep", {"seconds": 2})
    second = stack.client.create_data("e2e-after", {"before": first["id"]})
    assert stack.client.get_data(second["id"])["status"] in {"RE", "WT"}
    results = stack.wait([first["id"], second["id"]])
    assert results[first["id"]]["status"] == "OK"
    assert results[first["id"]]["process_progress"] == 100
    assert results[second["id"]]["status"] == "OK"
    assert results[second["id"]]["started"] > results[first["id"]]["finished"]


def test_bad_input_is_rejected_and_nothing_is_created(stack):
    session = stack.client.session
    before = session.get(f"{stack.url}/api/data?limit=1").json()["count"]
    response = session.post(f"{stack.url}/api/data", json={"process": {"slug": "e2e-echo"}, "input": {"text": 42}})
    assert response.status_code == 400
    assert "text" in response.text
    response = session.post(
        f"{stack.url}/api/data", json={"process": {"slug": "e2e-after"}, "input": {"before": 999999}}
    )
    assert response.status_code == 400
    assert "before" in response.text
    assert session.get(f"{stack.url}/api/data?limit=1").json()["count"] == before


def test_stdout_is_stored_and_streamed_to_the_prefect_logs(stack):
    """The program's output reaches both the Data object's stdout file (users) and the flow run's logs (operators)."""
    data = stack.client.create_data("e2e-fail", {})
    final = stack.wait([data["id"]])[data["id"]]
    response = requests.get(
        f"{stack.url}/data/{data['id']}/stdout.txt", cookies=stack.client.session.cookies, timeout=30
    )
    assert response.status_code == 200
    assert b"about to fail" in response.content
    messages = stack.log_messages(final["flow_run_id"], containing="about to fail")
    assert "about to fail" in messages, messages


def test_interactive_process_is_stopped_at_its_time_limit(stack):
    """Interactive work has a time limit (RESOLWE_PREFECT_INTERACTIVE_TIMEOUT), so it cannot hold its queue."""
    import time

    from .conftest import INTERACTIVE_TIMEOUT

    started = time.monotonic()
    data = stack.client.create_data("e2e-interactive-sleep", {"seconds": 120})
    final = stack.wait([data["id"]], timeout=90)[data["id"]]
    took = time.monotonic() - started
    assert final["status"] == "ER", final
    assert f"time limit of {INTERACTIVE_TIMEOUT} s" in " ".join(final["process_error"]), final["process_error"]
    assert INTERACTIVE_TIMEOUT <= took < INTERACTIVE_TIMEOUT + 30, took
    assert stack.final_state(final["flow_run_id"]) == "FAILED"
    assert stack.flow_run(final["flow_run_id"])["work_queue_name"] == "interactive"
    # What it printed before it was stopped is kept.
    stdout = requests.get(f"{stack.url}/data/{data['id']}/stdout.txt", cookies=stack.client.session.cookies, timeout=30)
    assert b"interactive step starts" in stdout.content


def test_operator_cancel_from_prefect_ends_data_in_error(stack):
    """Cancelling the flow run as the Prefect UI does ends the Data object in ER with Resolwe's message."""
    import time

    data = stack.client.create_data("e2e-sleep", {"seconds": 60})
    flow_run_id = _wait_for_status(stack, data["id"], "PR")["flow_run_id"]
    response = requests.post(
        f"{stack.prefect_api}/flow_runs/{flow_run_id}/set_state",
        json={"state": {"type": "CANCELLING", "name": "Cancelling"}, "force": True},
        timeout=30,
    )
    assert response.status_code in (200, 201)
    final = stack.wait([data["id"]], timeout=30)[data["id"]]
    assert final["status"] == "ER"
    assert final["process_error"][0] == "Processing was cancelled."
    deadline = time.monotonic() + 30
    while stack.flow_run(flow_run_id)["state"]["type"] != "CANCELLED":
        assert time.monotonic() < deadline
        time.sleep(0.2)


def test_crashed_flow_run_reaches_its_data_object(stack):
    """A flow run that crashes with no hook (set Crashed from outside) still ends its Data object in ER."""

    data = stack.client.create_data("e2e-sleep", {"seconds": 5})
    flow_run_id = _wait_for_status(stack, data["id"], "PR")["flow_run_id"]
    response = requests.post(
        f"{stack.prefect_api}/flow_runs/{flow_run_id}/set_state",
        json={"state": {"type": "CRASHED", "name": "Crashed", "message": "infrastructure lost"}, "force": True},
        timeout=30,
    )
    assert response.status_code in (200, 201)
    final = stack.wait([data["id"]], timeout=60)[data["id"]]
    assert final["status"] == "ER"
    assert any("infrastructure lost" in error for error in final["process_error"])


def test_programs_run_unprivileged_and_offline(stack):
    """As root, the local backend runs programs as an unprivileged user with no network interfaces but lo."""
    import os

    data = stack.client.create_data("e2e-whoami", {})
    final = stack.wait([data["id"]])[data["id"]]
    assert final["status"] == "OK", final["process_error"]
    if os.geteuid() == 0:
        assert final["output"]["uid"] != 0
        assert final["output"]["network"].split() == ["lo"]


def test_operator_retry_from_prefect_reruns_the_same_flow_run(stack):
    """A retry from the Prefect UI (AwaitingRetry on the same flow run) takes the Data object back to processing."""
    marker = stack.home / "shared" / f"flaky-{uuid.uuid4().hex}"
    data = stack.client.create_data("e2e-flaky", {"marker": str(marker)})
    first = stack.wait([data["id"]])[data["id"]]
    assert first["status"] == "ER"
    marker.touch()  # the next attempt succeeds
    flow_run_id = first["flow_run_id"]
    assert stack.final_state(flow_run_id) == "FAILED"
    response = requests.post(
        f"{stack.prefect_api}/flow_runs/{flow_run_id}/set_state",
        json={"state": {"type": "SCHEDULED", "name": "AwaitingRetry", "message": "Retry from the UI"}, "force": False},
        timeout=30,
    )
    assert response.status_code in (200, 201), response.text
    assert response.json()["status"] == "ACCEPT"
    import time

    deadline = time.monotonic() + 60
    while (current := stack.client.get_data(data["id"]))["status"] != "OK":
        assert time.monotonic() < deadline, current["status"]
        time.sleep(0.1)
    assert current["flow_run_id"] == flow_run_id
    assert current["output"] == {"attempt": "second"}
    assert current["process_error"] == []
    assert stack.final_state(flow_run_id) == "COMPLETED"
    assert stack.flow_run(flow_run_id)["run_count"] == 2


def test_progress_and_outputs_show_as_prefect_artifacts(stack):
    """re-progress becomes a progress artifact and the finished run gets a markdown summary."""
    data = stack.client.create_data("e2e-sleep", {"seconds": 1})
    final = stack.wait([data["id"]])[data["id"]]
    assert final["status"] == "OK" and final["process_progress"] == 100, final
    stack.final_state(final["flow_run_id"])
    response = requests.post(
        f"{stack.prefect_api}/artifacts/filter",
        json={"flow_runs": {"id": {"any_": [final["flow_run_id"]]}}},
        timeout=30,
    )
    response.raise_for_status()
    artifacts = {artifact["type"]: artifact for artifact in response.json()}
    assert artifacts["progress"]["key"] == f"data-{data['id']}-progress"
    assert artifacts["progress"]["data"] == 100.0
    assert artifacts["markdown"]["key"] == f"data-{data['id']}-outputs"
    assert "status **OK**" in artifacts["markdown"]["data"]


def test_restart_endpoint_starts_a_new_attempt_as_a_new_flow_run(stack):
    """POST /api/data/<id>/restart: attempt 2 is its own flow run, visible in Prefect, and ends OK."""
    marker = stack.home / "shared" / f"flaky-{uuid.uuid4().hex}"
    data = stack.client.create_data("e2e-flaky", {"marker": str(marker)})
    first = stack.wait([data["id"]])[data["id"]]
    assert first["status"] == "ER"
    marker.touch()  # the next attempt succeeds
    response = stack.client.session.post(f"{stack.url}/api/data/{data['id']}/restart", json={}, timeout=30)
    assert response.status_code == 200, response.text
    second = stack.wait([data["id"]])[data["id"]]
    assert second["status"] == "OK" and second["output"] == {"attempt": "second"}, second
    assert second["flow_run_id"] != first["flow_run_id"]
    assert stack.final_state(first["flow_run_id"]) == "FAILED"  # the first attempt keeps its history
    assert stack.final_state(second["flow_run_id"]) == "COMPLETED"
    flow_run = stack.flow_run(second["flow_run_id"])
    assert f"data-{data['id']} (attempt 2)" in flow_run["name"] and "attempt:2" in flow_run["tags"]


def test_interactive_work_is_not_starved_by_batch_work(stack):
    """With every batch slot taken, an interactive process still runs at once, from its own queue."""
    import time

    queues = requests.post(f"{stack.prefect_api}/work_pools/resolwe-local/queues/filter", json={}, timeout=30).json()
    limits = {queue["name"]: queue["concurrency_limit"] for queue in queues}
    assert limits["batch"] >= 1 and limits["interactive"] >= 1, limits
    if (
        "RESOLWE_PREFECT_WORKER_CONCURRENCY" not in stack.env
        and "RESOLWE_PREFECT_WORKER_INTERACTIVE_SLOTS" not in stack.env
    ):
        # Unconfigured, the caps fit the machine: one batch program per core, interactive slots on top.
        cores = os.cpu_count() or 1
        assert (limits["batch"], limits["interactive"]) == (cores, max(1, cores // 2)), limits
    batch = [stack.client.create_data("e2e-sleep", {"seconds": 30}) for _ in range(limits["batch"] + 1)]
    deadline = time.monotonic() + 60
    while sum(stack.client.get_data(d["id"])["status"] == "PR" for d in batch) < limits["batch"]:
        assert time.monotonic() < deadline, "the batch slots never filled"
        time.sleep(0.2)
    started = time.monotonic()
    interactive = stack.client.create_data("e2e-interactive", {})
    final = stack.wait([interactive["id"]], timeout=60)[interactive["id"]]
    took = time.monotonic() - started
    assert final["status"] == "OK" and final["output"] == {"answer": "ready"}, final
    states = [stack.client.get_data(d["id"])["status"] for d in batch]
    assert "OK" not in states and states.count("PR") == limits["batch"], states  # batch was still busy
    assert stack.flow_run(final["flow_run_id"])["work_queue_name"] == "interactive"
    assert stack.flow_run(stack.client.get_data(batch[0]["id"])["flow_run_id"])["work_queue_name"] == "batch"
    print(f"interactive Data OK {took:.2f} s after creation while {limits['batch']} batch runs held every batch slot")
    # The one batch object beyond the slots waits (WT) without a flow run: it gets one when a slot frees.
    waiting = [d for d in batch if stack.client.get_data(d["id"])["status"] == "WT"]
    assert len(waiting) == 1 and stack.client.get_data(waiting[0]["id"])["flow_run_id"] is None
    # Free the slots for the rest of the session: delete the waiting object, cancel the running ones
    # as an operator would.
    assert stack.client.session.delete(f"{stack.url}/api/data/{waiting[0]['id']}", timeout=30).status_code == 200
    running = [d for d in batch if d is not waiting[0]]
    for data in running:
        flow_run_id = stack.client.get_data(data["id"])["flow_run_id"]
        requests.post(
            f"{stack.prefect_api}/flow_runs/{flow_run_id}/set_state",
            json={"state": {"type": "CANCELLING", "message": "test cleanup"}, "force": True},
            timeout=30,
        )
    finals = stack.wait([d["id"] for d in running], timeout=90)
    assert {d["status"] for d in finals.values()} == {"ER"}
