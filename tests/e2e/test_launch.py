"""Launching a process from the Prefect UI: a deployment per process, its form, and the Data object a run creates.

Everything goes through the Prefect server's REST API exactly as the UI's
"Run" form does (read the deployment, POST ``create_flow_run`` with the
form's parameters), and the result is checked through the Django API.
"""

from __future__ import annotations

import time

import pytest
import requests

pytestmark = pytest.mark.e2e

SERVICE_USER = "prefect-launch"


def _deployment(stack, slug: str, timeout: float = 60) -> dict:
    """The launch deployment of a process (the worker creates them when it starts)."""
    deadline = time.monotonic() + timeout
    while True:
        response = requests.get(f"{stack.prefect_api}/deployments/name/resolwe-launch/{slug}", timeout=30)
        if response.status_code == 200:
            return response.json()
        assert time.monotonic() < deadline, f"no launch deployment for {slug}: {response.status_code} {response.text}"
        time.sleep(0.5)


def _launch(stack, slug: str, parameters: dict) -> requests.Response:
    """What the UI's "Run" button sends."""
    deployment = _deployment(stack, slug)
    return requests.post(
        f"{stack.prefect_api}/deployments/{deployment['id']}/create_flow_run",
        json={"parameters": parameters, "state": {"type": "SCHEDULED"}},
        timeout=30,
    )


def _data_of_flow_run(stack, flow_run_id: str) -> list[dict]:
    response = stack.client.session.get(f"{stack.url}/api/data", params={"flow_run_id": flow_run_id}, timeout=30)
    response.raise_for_status()
    return response.json()


def test_deployment_form_follows_the_input_schema(stack):
    """The parameter schema carries the process's fields, types, defaults, choices and groups, in order."""
    deployment = _deployment(stack, "e2e-launch-form")
    assert deployment["enforce_parameter_schema"] is True
    assert "process:e2e-launch-form" in deployment["tags"]
    inputs = deployment["parameter_openapi_schema"]["properties"]["inputs"]
    fields = inputs["properties"]
    # The UI orders fields by "position" (PostgreSQL's jsonb does not keep key order).
    assert sorted(fields, key=lambda field: fields[field]["position"]) == ["greeting", "times", "options"]
    assert fields["greeting"] == {
        "type": "string", "enum": ["hello", "goodbye"], "title": "Greeting", "description": "What to say.", "position": 0,
    }  # fmt: skip
    assert fields["times"] == {"type": "integer", "default": 2, "title": "Times", "position": 1}
    assert fields["options"]["properties"]["shout"] == {
        "type": "boolean",
        "default": False,
        "title": "Shout",
        "position": 0,
    }
    assert inputs["required"] == ["greeting"]
    data_input = _deployment(stack, "e2e-after")["parameter_openapi_schema"]["properties"]["inputs"]["properties"]
    assert data_input["before"]["type"] == "integer" and "data:" in data_input["before"]["description"]


def test_a_run_from_the_form_creates_its_own_data_object(stack):
    """The flow run creates a Data object owned by the service user, processes it itself, and the API shows it."""
    response = _launch(stack, "e2e-launch-form", {"inputs": {"greeting": "hello", "options": {"shout": True}}})
    assert response.status_code == 201, response.text
    flow_run_id = response.json()["id"]
    assert stack.final_state(flow_run_id, timeout=120) == "COMPLETED", stack.flow_run(flow_run_id)["state"]
    [data] = _data_of_flow_run(stack, flow_run_id)
    final = stack.wait([data["id"]])[data["id"]]
    assert final["status"] == "OK" and final["output"] == {"message": "HELLO x2"}, final
    assert final["contributor"]["username"] == SERVICE_USER
    assert final["flow_run_id"] == flow_run_id and final["flow_run_url"].endswith(f"/runs/flow-run/{flow_run_id}")
    flow_run = stack.flow_run(flow_run_id)
    assert flow_run["name"].startswith(f"data-{data['id']} e2e-launch-form")
    assert "launched" in flow_run["tags"] and "process:e2e-launch-form" in flow_run["tags"]
    # The dispatcher did not give it a second flow run.
    runs = requests.post(
        f"{stack.prefect_api}/flow_runs/filter",
        json={"flow_runs": {"name": {"like_": f"data-{data['id']} "}}},
        timeout=30,
    ).json()
    assert [run["id"] for run in runs] == [flow_run_id]


def test_form_values_outside_the_schema_are_refused_at_submission(stack):
    """A value that is not one of the choices never becomes a flow run, let alone a Data object."""
    response = _launch(stack, "e2e-launch-form", {"inputs": {"greeting": "hi"}})
    assert response.status_code == 409, response.text
    assert "greeting" in response.text and "hi" in response.text


def test_inputs_must_be_shared_with_the_service_user(stack):
    """A Data input the service user cannot see fails the run naming the field; once shared, the run works."""
    source = stack.client.create_data("e2e-echo", {"text": "private"})
    stack.wait([source["id"]])
    refused = _launch(stack, "e2e-after", {"inputs": {"before": source["id"]}})
    assert refused.status_code == 201, refused.text
    run_id = refused.json()["id"]
    assert stack.final_state(run_id, timeout=120) == "FAILED"
    message = stack.flow_run(run_id)["state"]["message"]
    assert "before" in message and "e2e-after" in message, message
    assert _data_of_flow_run(stack, run_id) == []  # nothing half-created

    shared = stack.client.session.post(
        f"{stack.url}/api/data/{source['id']}/permissions", json={"users": {SERVICE_USER: "view"}}, timeout=30
    )
    assert shared.status_code == 200, shared.text
    accepted = _launch(stack, "e2e-after", {"inputs": {"before": source["id"]}})
    run_id = accepted.json()["id"]
    assert stack.final_state(run_id, timeout=120) == "COMPLETED", stack.flow_run(run_id)["state"]
    [data] = _data_of_flow_run(stack, run_id)
    assert data["status"] == "OK" and data["output"] == {"ran": True}


def test_sync_command_for_clusters_without_the_embedded_worker(stack):
    """``manage sync_launch_deployments`` (for standard workers) lists every process and is idempotent."""
    import subprocess
    import sys

    before = _deployment(stack, "e2e-echo")["id"]
    run = subprocess.run(
        [sys.executable, "-m", "resolwe_prefect.cli", "manage", "sync_launch_deployments"],
        env=stack.env, capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert run.returncode == 0, run.stderr
    lines = run.stdout.splitlines()
    assert "resolwe-launch/e2e-echo" in lines and "resolwe-launch/e2e-launch-form" in lines
    assert lines[-1].endswith("launch deployments")
    assert _deployment(stack, "e2e-echo")["id"] == before  # updated in place, not recreated
