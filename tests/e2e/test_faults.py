"""Faults on the real stack: every Data object still reaches a correct final state, nothing stays in PR or WT.

The faults that kill or stop a component run on their own ``resolwe-prefect
up`` (module scope, fresh database, Docker backend): ``up`` writes its
components' pids into ``stack.json`` and restarts a component that dies,
so a test kills the real process and watches the stack heal. Killing a
program's process group with the local backend uses the session stack.

Each test prints ``FAULT <name>: <final status> after <s> s`` (run with
``-s`` or ``-rA`` to see it): the time from the fault to the final state.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
import uuid
from dataclasses import dataclass
from pathlib import Path

import psycopg
import pytest
import requests

from resolwe_prefect.cli.demo import ApiClient
from tests.e2e.conftest import ADMIN_PASSWORD, PROCESSES, running_stack

pytestmark = pytest.mark.e2e

ROOT = Path(__file__).resolve().parents[2]
FAULT_PROCESSES = Path(__file__).parent / "fault_processes"
FINAL = {"OK", "ER", "DR"}
FINAL_RUN_TYPES = {"COMPLETED", "FAILED", "CRASHED", "CANCELLED"}
RECOVERY_LIMIT = 60.0  # a Data object must be final this long after its run ends


def _docker_available() -> bool:
    if shutil.which("docker") is None:
        return False
    found = subprocess.run(
        ["docker", "image", "inspect", "resolwe-prefect/base:bookworm-py"], capture_output=True, timeout=30
    )
    return found.returncode == 0


@dataclass
class FaultStack:
    """One ``resolwe-prefect up`` of our own, whose components the tests may kill."""

    url: str
    prefect_api: str
    home: Path
    database_url: str
    client: ApiClient
    up: subprocess.Popen
    env: dict

    def pids(self) -> dict[str, int]:
        """The component pids ``up`` publishes in ``stack.json`` (rewritten when it restarts one)."""
        return json.loads((self.home / "stack.json").read_text())["components"]

    def wait_for_new_pid(self, name: str, old: int, timeout: float = 30) -> int:
        """The pid of the component ``up`` started in place of ``old``."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                pid = self.pids()[name]
            except (OSError, ValueError, KeyError):
                pid = old
            if pid != old:
                return pid
            assert self.up.poll() is None, f"up exited:\n{(self.home / 'up.log').read_text()[-3000:]}"
            time.sleep(0.2)
        raise AssertionError(f"up did not restart {name}")

    def db_data(self, data_id: int) -> dict:
        """The Data row as the worker wrote it, read from PostgreSQL (works while the API is down)."""
        with psycopg.connect(self.database_url) as connection:
            row = connection.execute(
                "SELECT status, output, process_error, flow_run_id FROM data_data WHERE id = %s", (data_id,)
            ).fetchone()
        return {"status": row[0], "output": row[1], "process_error": row[2], "flow_run_id": str(row[3])}

    def worker_log(self) -> str:
        return (self.home / "worker.log").read_text(errors="replace")


@pytest.fixture(scope="module")
def fault_stack() -> FaultStack:
    if not _docker_available():
        pytest.skip("Docker or the image resolwe-prefect/base:bookworm-py is not available")
    extra_env = {
        "RESOLWE_PREFECT_PROCESS_PATHS": os.pathsep.join([str(PROCESSES), str(FAULT_PROCESSES)]),
        "RESOLWE_PREFECT_BACKEND": "docker",
        "RESOLWE_PREFECT_WORKER_CONCURRENCY": "4",
    }
    with running_stack("faults", extra_env, cwd=ROOT) as running:
        info = running.info
        client = ApiClient(info["api"], "admin", ADMIN_PASSWORD)
        try:
            yield FaultStack(
                info["api"], info["prefect_api"], running.home, running.database_url, client, running.up, running.env
            )
        finally:
            for log in ("up.log", "worker.log"):
                for line in (running.home / log).read_text(errors="replace").splitlines()[-30:]:
                    print(f"[{log}] {line}")


# --- helpers ------------------------------------------------------------------------------------


def _flow_run(prefect_api: str, flow_run_id: str) -> dict:
    response = requests.get(f"{prefect_api}/flow_runs/{flow_run_id}", timeout=30)
    response.raise_for_status()
    return response.json()


def _wait_status(client: ApiClient, data_id: int, statuses: set[str], timeout: float) -> dict:
    """Poll the API until the Data object has one of ``statuses``."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            data = client.get_data(data_id)
        except requests.RequestException:
            data = {"status": "?"}
        if data["status"] in statuses:
            return data
        assert time.monotonic() < deadline, f"data {data_id} stayed {data['status']} ({data.get('process_error')})"
        time.sleep(0.2)


def _wait_run_final(prefect_api: str, flow_run_id: str, timeout: float) -> dict:
    deadline = time.monotonic() + timeout
    while True:
        try:
            run = _flow_run(prefect_api, flow_run_id)
            if run["state"]["type"] in FINAL_RUN_TYPES:
                return run
        except requests.RequestException:
            pass
        assert time.monotonic() < deadline, f"flow run {flow_run_id} is not final"
        time.sleep(0.3)


def _containers(data_id: int) -> list[str]:
    listed = subprocess.run(
        ["docker", "ps", "-aq", "--filter", f"label=resolwe.data_id={data_id}"],
        capture_output=True,
        text=True,
        timeout=30,
        check=True,
    )
    return listed.stdout.split()


ARTIFACTS = Path(os.environ.get("TEST_ARTIFACTS_DIR", Path(__file__).resolve().parents[2] / "test-artifacts"))


def _report(name: str, status: str, since: float) -> float:
    """Print how long a fault took to reach a final state, and keep it in ``test-artifacts/faults.jsonl``."""
    elapsed = time.monotonic() - since
    print(f"FAULT {name}: {status} after {elapsed:.1f} s")
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    with open(ARTIFACTS / "faults.jsonl", "a", encoding="utf-8") as log:
        log.write(json.dumps({"fault": name, "status": status, "seconds": round(elapsed, 2)}) + "\n")
    return elapsed


def _running_program(stack: FaultStack, seconds: int) -> tuple[dict, str]:
    """A fault-sleep Data object whose program runs in its container: (data, container id)."""
    data = stack.client.create_data("fault-sleep", {"seconds": seconds})
    data = _wait_status(stack.client, data["id"], {"PR"}, timeout=90)
    deadline = time.monotonic() + 30
    while not (containers := _containers(data["id"])):
        assert time.monotonic() < deadline, "no container for the program"
        time.sleep(0.2)
    # The container exists before its program has run a line; fault-sleep echoes
    # "started" and then reports progress 0.1, so progress means the echo is done
    # and a fault injected now hits a program that has produced output.
    while stack.client.get_data(data["id"])["process_progress"] < 10:
        assert time.monotonic() < deadline, "the program never reported its progress"
        time.sleep(0.2)
    return data, containers[0]


def _post_events(prefect_api: str, events: list[dict]) -> None:
    response = requests.post(f"{prefect_api}/events", json=events, timeout=30)
    assert response.status_code == 204, response.text


def _recorded_events(prefect_api: str, flow_run_id: str, name: str) -> list[dict]:
    """Events Prefect recorded for a flow run (the store catches up asynchronously)."""
    deadline = time.monotonic() + 30
    while True:
        response = requests.post(
            f"{prefect_api}/events/filter",
            json={
                "filter": {
                    "event": {"name": [name]},
                    "resource": {"id": [f"prefect.flow-run.{flow_run_id}"]},
                    "occurred": {"since": "2000-01-01T00:00:00Z"},
                },
                "limit": 50,
            },
            timeout=30,
        )
        response.raise_for_status()
        found = response.json()["events"]
        if found or time.monotonic() > deadline:
            return found
        time.sleep(0.5)


def _wait_for_log(stack: FaultStack, line: str, timeout: float = 30) -> None:
    """Proof that the worker received and handled a replayed event: its log line."""
    deadline = time.monotonic() + timeout
    while line not in stack.worker_log():
        assert time.monotonic() < deadline, f"the worker never logged {line!r}"
        time.sleep(0.2)


def _flow_runs_of(prefect_api: str, data_id: int) -> list[dict]:
    response = requests.post(
        f"{prefect_api}/flow_runs/filter", json={"flow_runs": {"name": {"like_": f"data-{data_id}"}}}, timeout=30
    )
    response.raise_for_status()
    return [run for run in response.json() if run["parameters"].get("data_id") == data_id]


# --- 2. the program is killed -------------------------------------------------------------------


def test_program_container_killed(fault_stack):
    """``docker kill`` of the program's container: ER with a message saying so, the saved stdout kept."""
    data, container = _running_program(fault_stack, 60)
    fault = time.monotonic()
    subprocess.run(["docker", "kill", container], check=True, capture_output=True, timeout=30)
    final = _wait_status(fault_stack.client, data["id"], FINAL, timeout=RECOVERY_LIMIT)
    _report("program-container-killed", final["status"], fault)
    assert final["status"] == "ER"
    assert any("killed" in error for error in final["process_error"]), final["process_error"]
    assert _wait_run_final(fault_stack.prefect_api, final["flow_run_id"], 30)["state"]["type"] == "FAILED"
    stdout = requests.get(
        f"{fault_stack.url}/data/{data['id']}/stdout.txt", cookies=fault_stack.client.session.cookies, timeout=30
    )
    assert b"started" in stdout.content
    assert not _containers(data["id"])


def test_program_process_group_killed_local_backend(stack):
    """Local backend (session stack): SIGKILL to the program's process group ends the Data object in ER."""
    data = stack.client.create_data("e2e-sleep", {"seconds": 60})
    data = _wait_status(stack.client, data["id"], {"PR"}, timeout=90)
    pid_file = stack.home / "runtime" / str(data["id"]) / "program.pid"
    deadline = time.monotonic() + 30
    while not pid_file.exists():
        assert time.monotonic() < deadline, "the local backend wrote no program.pid"
        time.sleep(0.1)
    fault = time.monotonic()
    os.killpg(int(pid_file.read_text()), signal.SIGKILL)
    final = _wait_status(stack.client, data["id"], FINAL, timeout=RECOVERY_LIMIT)
    _report("program-process-killed (local)", final["status"], fault)
    assert final["status"] == "ER"
    assert any("killed by signal 9" in error for error in final["process_error"]), final["process_error"]


# --- 3. the image is missing -----------------------------------------------------------------------


def test_missing_image_ends_in_error(fault_stack):
    """A process whose image does not exist locally (and cannot be pulled) ends in ER, saying which image."""
    start = time.monotonic()
    data = fault_stack.client.create_data("fault-missing-image", {})
    final = _wait_status(fault_stack.client, data["id"], FINAL, timeout=90)
    _report("missing-image", final["status"], start)
    assert final["status"] == "ER"
    assert any(
        "resolwe-prefect/does-not-exist:never" in error and "not available" in error for error in final["process_error"]
    ), final["process_error"]
    assert _wait_run_final(fault_stack.prefect_api, final["flow_run_id"], 30)["state"]["type"] == "FAILED"


# --- 1 + 4. the flow-run process (= the embedded worker) is killed and restarted ---------------------


def test_worker_killed_mid_run_and_restarted(fault_stack):
    """SIGKILL to the worker (the flow runs in it): ``up`` restarts it, the new worker settles the orphan.

    The orphan's flow run is Crashed in Prefect, its Data object ER saying
    why, its program's container removed; the restarted worker runs new work.
    """
    data, _container = _running_program(fault_stack, 120)
    worker = fault_stack.pids()["worker"]
    fault = time.monotonic()
    os.kill(worker, signal.SIGKILL)
    fault_stack.wait_for_new_pid("worker", worker)
    final = _wait_status(fault_stack.client, data["id"], FINAL, timeout=RECOVERY_LIMIT)
    elapsed = _report("worker-killed (flow-run process)", final["status"], fault)
    assert final["status"] == "ER"
    assert any("worker running it stopped" in error for error in final["process_error"]), final["process_error"]
    run = _wait_run_final(fault_stack.prefect_api, final["flow_run_id"], 30)
    assert run["state"]["type"] == "CRASHED"
    assert not _containers(data["id"]), "the orphaned program's container is still there"
    assert elapsed < RECOVERY_LIMIT
    after = fault_stack.client.create_data("fault-sleep", {"seconds": 1})
    assert _wait_status(fault_stack.client, after["id"], FINAL, timeout=90)["status"] == "OK"


# --- 5. the Prefect server restarts mid-run ------------------------------------------------------------


def test_prefect_server_restart_mid_run(fault_stack):
    """The Prefect server dies while a program runs; ``up`` restarts it and the run still ends OK."""
    data, _container = _running_program(fault_stack, 15)
    server = fault_stack.pids()["prefect"]
    fault = time.monotonic()
    os.killpg(server, signal.SIGKILL)
    fault_stack.wait_for_new_pid("prefect", server)
    final = _wait_status(fault_stack.client, data["id"], FINAL, timeout=15 + RECOVERY_LIMIT)
    _report("prefect-server-restart", final["status"], fault)
    assert final["status"] == "OK", final["process_error"]
    assert final["output"] == {"slept": 15}
    run = _wait_run_final(fault_stack.prefect_api, final["flow_run_id"], RECOVERY_LIMIT)
    assert run["state"]["type"] == "COMPLETED", run["state"]
    # The stack keeps working after the restart.
    after = fault_stack.client.create_data("fault-sleep", {"seconds": 1})
    assert _wait_status(fault_stack.client, after["id"], FINAL, timeout=90)["status"] == "OK"


# --- 6. the API is down when a run ends --------------------------------------------------------------


def test_api_down_when_the_run_ends(fault_stack):
    """The API process is stopped while the run ends: the worker writes the DB itself; the API shows it once back."""
    data, _container = _running_program(fault_stack, 5)
    api = fault_stack.pids()["api"]
    os.kill(api, signal.SIGSTOP)  # stopped: it accepts no request until it is killed and restarted
    fault = time.monotonic()
    try:
        with pytest.raises(requests.RequestException):
            requests.get(f"{fault_stack.url}/api/data/{data['id']}", timeout=2)
        deadline = time.monotonic() + 5 + RECOVERY_LIMIT
        while (row := fault_stack.db_data(data["id"]))["status"] not in FINAL:
            assert time.monotonic() < deadline, f"data stayed {row['status']} while the API was down"
            time.sleep(0.2)
        _report("api-down (DB, API stopped)", row["status"], fault)
        assert row["status"] == "OK" and row["output"] == {"slept": 5}
    finally:
        os.kill(api, signal.SIGKILL)  # up restarts it
    fault_stack.wait_for_new_pid("api", api)
    final = _wait_status(fault_stack.client, data["id"], FINAL, timeout=RECOVERY_LIMIT)
    _report("api-down (API back)", final["status"], fault)
    assert final["status"] == "OK" and final["output"] == {"slept": 5}
    assert _wait_run_final(fault_stack.prefect_api, final["flow_run_id"], 30)["state"]["type"] == "COMPLETED"


# --- 7. the same event delivered twice ------------------------------------------------------------------


def test_duplicate_and_stale_events_change_nothing(fault_stack):
    """Prefect events replayed (same id and a copy) change nothing: no status flip, no second release.

    Also the stale cases a replay produces after an operator's retry: the
    first run's Completed arriving while the retried run is in progress, and
    the AwaitingRetry arriving after the retried run finished.
    """
    stack = fault_stack
    parent = stack.client.create_data("fault-sleep", {"seconds": 1})
    child = stack.client.create_data("e2e-after", {"before": parent["id"]})
    results = stack.client.wait([parent["id"], child["id"]], timeout=120)
    assert results[parent["id"]]["status"] == "OK" and results[child["id"]]["status"] == "OK"
    run_id = results[parent["id"]]["flow_run_id"]
    _wait_run_final(stack.prefect_api, run_id, 30)

    completed = _recorded_events(stack.prefect_api, run_id, "prefect.flow-run.Completed")
    assert completed, "Prefect recorded no Completed event"
    original = {k: v for k, v in completed[0].items() if k != "received"}
    replay = [original, {**original, "id": str(uuid.uuid4())}]
    fault = time.monotonic()
    _post_events(stack.prefect_api, replay)
    _post_events(stack.prefect_api, replay)
    _wait_for_log(stack, f"Event Completed ({replay[1]['id']}) for flow run {run_id}: no change")
    again = stack.client.get_data(parent["id"])
    assert again["status"] == "OK" and again["output"] == results[parent["id"]]["output"]
    assert again["finished"] == results[parent["id"]]["finished"]
    child_now = stack.client.get_data(child["id"])
    assert child_now["status"] == "OK" and child_now["flow_run_id"] == results[child["id"]]["flow_run_id"]
    assert len(_flow_runs_of(stack.prefect_api, child["id"])) == 1, "the dependant was released twice"
    _report("duplicate-event (Completed x4)", again["status"], fault)

    # An operator retries the finished run (as the Prefect UI does), then old events are replayed.
    data = stack.client.create_data("fault-sleep", {"seconds": 5})
    first = stack.client.wait([data["id"]], timeout=90)[data["id"]]
    assert first["status"] == "OK"
    run_id = first["flow_run_id"]
    _wait_run_final(stack.prefect_api, run_id, 30)
    old_completed = {
        k: v
        for k, v in _recorded_events(stack.prefect_api, run_id, "prefect.flow-run.Completed")[0].items()
        if k != "received"
    }
    response = requests.post(
        f"{stack.prefect_api}/flow_runs/{run_id}/set_state",
        json={"state": {"type": "SCHEDULED", "name": "AwaitingRetry", "message": "Retry from the UI"}, "force": False},
        timeout=30,
    )
    assert response.json()["status"] == "ACCEPT", response.text
    _wait_status(stack.client, data["id"], {"PP", "PR"}, timeout=60)
    fault = time.monotonic()
    stale_id = str(uuid.uuid4())
    _post_events(stack.prefect_api, [{**old_completed, "id": stale_id}])
    _wait_for_log(stack, f"Event Completed ({stale_id}) for flow run {run_id} is stale")
    second = _wait_status(stack.client, data["id"], FINAL, timeout=RECOVERY_LIMIT)
    _report("stale-event (old Completed during retry)", second["status"], fault)
    assert second["status"] == "OK", second["process_error"]
    assert _wait_run_final(stack.prefect_api, run_id, 30)["state"]["type"] == "COMPLETED"

    retry_events = _recorded_events(stack.prefect_api, run_id, "prefect.flow-run.AwaitingRetry")
    assert retry_events
    fault = time.monotonic()
    retry_event = {k: v for k, v in retry_events[0].items() if k != "received"}
    stale_id = str(uuid.uuid4())
    _post_events(stack.prefect_api, [{**retry_event, "id": stale_id}])
    _wait_for_log(stack, f"Event AwaitingRetry ({stale_id}) for flow run {run_id} is stale")
    deadline = time.monotonic() + 3
    while time.monotonic() < deadline:
        current = stack.client.get_data(data["id"])
        assert current["status"] == "OK", f"a replayed AwaitingRetry flipped the Data object to {current['status']}"
        time.sleep(1)
    _report("stale-event (AwaitingRetry after the retry ended)", current["status"], fault)
    assert current["output"] == {"slept": 5}


# --- 1. the flow-run process of a standard Prefect process worker is killed -----------------------


def _processes_of_flow_run(flow_run_id: str) -> list[int]:
    """Processes whose environment names the flow run: the process worker's flow-run (engine) process."""
    marker = f"PREFECT__FLOW_RUN_ID={flow_run_id}".encode()
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                if marker in (entry / "environ").read_bytes().split(b"\0"):
                    found.append(int(entry.name))
            except OSError:
                continue
    return found


def test_flow_run_process_killed_on_process_pool(fault_stack):
    """``prefect worker --pool resolwe-process``: SIGKILL to the flow-run process ends the Data object in ER.

    Prefect's worker reports the run Crashed and runs ``on_crashed`` in a new
    subprocess; the hook writes ER and removes the program's container.
    """
    stack = fault_stack
    env = {**stack.env, "PREFECT_WORKER_QUERY_SECONDS": "1"}
    subprocess.run(
        [sys.executable, "-m", "resolwe_prefect.cli", "pools"],
        env=env,
        check=True,
        cwd=ROOT,
        capture_output=True,
        timeout=120,
    )
    deployed = subprocess.run(
        [sys.executable, "-m", "prefect", "--no-prompt", "deploy", "--name", "process"],
        env=env,
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=180,
    )
    assert deployed.returncode == 0, deployed.stdout + deployed.stderr
    worker = subprocess.Popen(
        [sys.executable, "-m", "prefect", "--no-prompt", "worker", "start", "--pool", "resolwe-process"],
        env=env,
        cwd=ROOT,
        stdout=open(stack.home / "process-worker.log", "wb"),
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    try:
        script = (
            "from resolwe_prefect.execution.django_setup import ensure_django; ensure_django()\n"
            "from django.contrib.auth.models import User\n"
            "from resolwe_prefect.data.services import create_data\n"
            "from resolwe_prefect.data import lifecycle\n"
            "d = create_data(user=User.objects.get(username='admin'), process_ref={'slug': 'fault-sleep'},"
            " input={'seconds': 120})\n"
            "lifecycle.advance([d.pk]); print(d.pk)\n"
        )
        created = subprocess.run(
            [sys.executable, "-c", script],
            env={**env, "RESOLWE_PREFECT_DEPLOYMENT": "resolwe-data/process"},
            cwd=ROOT,
            capture_output=True,
            text=True,
            check=True,
            timeout=120,
        )
        data_id = int(created.stdout.strip().splitlines()[-1])
        data = _wait_status(stack.client, data_id, {"PR"}, timeout=120)
        pids = _processes_of_flow_run(data["flow_run_id"])
        assert pids, "no flow-run process found"
        fault = time.monotonic()
        for pid in pids:
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        final = _wait_status(stack.client, data_id, FINAL, timeout=RECOVERY_LIMIT)
        _report("flow-run-process-killed (process pool)", final["status"], fault)
        assert final["status"] == "ER"
        assert any("crashed" in error.lower() for error in final["process_error"]), final["process_error"]
        assert _wait_run_final(stack.prefect_api, final["flow_run_id"], 30)["state"]["type"] == "CRASHED"
        deadline = time.monotonic() + 30
        while _containers(data_id):
            assert time.monotonic() < deadline, "the killed run's program container is still there"
            time.sleep(0.5)
    finally:
        for _ in range(2):  # a Prefect worker stops on the second SIGTERM
            try:
                os.killpg(worker.pid, signal.SIGTERM)
            except ProcessLookupError:
                break
            time.sleep(0.5)
        worker.wait(timeout=30)
