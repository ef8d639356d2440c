"""``prefect deploy --all`` ships the Data flow, and a standard Prefect process worker can run it."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import requests

pytestmark = pytest.mark.e2e

ROOT = Path(__file__).resolve().parents[2]
PREFECT = [sys.executable, "-m", "prefect", "--no-prompt"]


def test_prefect_deploy_all_and_process_pool_worker(stack):
    env = {**stack.env, "PREFECT_WORKER_QUERY_SECONDS": "1"}
    subprocess.run([sys.executable, "-m", "resolwe_prefect.cli", "pools"], env=env, check=True, cwd=ROOT)
    deployed = subprocess.run([*PREFECT, "deploy", "--all"], env=env, cwd=ROOT, capture_output=True, text=True)
    assert deployed.returncode == 0, deployed.stdout + deployed.stderr
    names = {d["name"] for d in requests.post(f"{stack.prefect_api}/deployments/filter", json={}, timeout=30).json()}
    assert {"local", "process", "docker", "kubernetes"} <= names
    pools = {
        p["name"]: p["type"]
        for p in requests.post(f"{stack.prefect_api}/work_pools/filter", json={}, timeout=30).json()
    }
    assert pools["resolwe-docker"] == "docker" and pools["resolwe-kubernetes"] == "kubernetes"

    worker = subprocess.Popen(
        [*PREFECT, "worker", "start", "--pool", "resolwe-process"],
        env=env,
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    try:
        script = (
            "from resolwe_prefect.execution.django_setup import ensure_django; ensure_django()\n"
            "from django.contrib.auth.models import User\n"
            "from resolwe_prefect.data.services import create_data\n"
            "from resolwe_prefect.data import lifecycle\n"
            "d = create_data(user=User.objects.get(username='admin'), process_ref={'slug': 'e2e-echo'},"
            " input={'text': 'via the process pool'})\n"
            "lifecycle.advance([d.pk]); print(d.pk)\n"
        )
        created = subprocess.run(
            [sys.executable, "-c", script],
            env={**env, "RESOLWE_PREFECT_DEPLOYMENT": "resolwe-data/process"},
            cwd=ROOT,
            capture_output=True,
            text=True,
            check=True,
        )
        data_id = int(created.stdout.strip().splitlines()[-1])
        final = stack.wait([data_id], timeout=120)[data_id]
        assert final["status"] == "OK", final["process_error"]
        assert final["output"] == {"text": "via the process pool"}
        flow_run = requests.get(f"{stack.prefect_api}/flow_runs/{final['flow_run_id']}", timeout=30).json()
        deployment = requests.get(f"{stack.prefect_api}/deployments/{flow_run['deployment_id']}", timeout=30).json()
        assert deployment["name"] == "process"
    finally:
        # A Prefect worker stops on the second SIGTERM (the first only asks it to drain).
        for _ in range(2):
            try:
                os.killpg(worker.pid, signal.SIGTERM)
            except ProcessLookupError:
                break
            time.sleep(0.5)
        worker.wait(timeout=30)
