"""The storage framework on the real stack, with S3 (moto's server) and GCS (gcp-storage-emulator).

The issue's scenario: a local and an object-storage connector (copy delay 0; local delete delay
0, one other copy). A Data object's files reach the bucket after ``runstoragemanager``, the local
copy goes after ``runstoragecleanup``, the file still downloads through the API, and a dependant
that reads it runs to OK: its flow run stages the file back first and removes it after. The
worker also schedules the storage passes as a Prefect deployment.
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
import uuid

import pytest
import requests

from resolwe_prefect.cli.demo import ApiClient
from tests.storage.servers import start_gcs, start_s3

from .conftest import ADMIN_PASSWORD, running_stack

pytestmark = pytest.mark.e2e

LOCAL = "resolwe.storage.connectors.localconnector.LocalFilesystemConnector"
CLASSES = {
    "S3": "resolwe.storage.connectors.s3connector.AwsS3Connector",
    "GCS": "resolwe.storage.connectors.googleconnector.GoogleConnector",
}
TIMEOUT = 180


@pytest.fixture(scope="module", params=["S3", "GCS"])
def stack(request, tmp_path_factory):
    name = request.param
    server, handle = start_s3(tmp_path_factory.mktemp("s3")) if name == "S3" else start_gcs()
    bucket = handle.create_bucket()
    settings = {
        "STORAGE_CONNECTORS": {
            "local": {"connector": LOCAL, "config": {"priority": 0, "delete": {"delay": 0, "min_other_copies": 1}}},
            name: {
                "connector": CLASSES[name],
                "config": {**handle.connector_config(bucket), "priority": 10, "copy": {"delay": 0}},
            },
        },
        # resdk uploads straight to the bucket where a site offers it (Resolwe does for S3).
        "FLOW_STORAGE": {"upload": {"connectors": [name]}} if name == "S3" else {},
    }
    try:
        with running_stack(f"storage_{name.lower()}", {"RESOLWE_PREFECT_SETTINGS": json.dumps(settings)}) as up:
            client = ApiClient(up.info["api"], "admin", ADMIN_PASSWORD)
            yield name, handle, bucket, up, client
    finally:
        server.stop()


def _manage(up, *args: str) -> str:
    done = subprocess.run([sys.executable, "-m", "resolwe_prefect.cli", "manage", *args], env=up.env,
                          check=True, capture_output=True, text=True, timeout=300)  # fmt: skip
    return done.stdout


def _objects(name: str, handle, bucket: str) -> list[str]:
    if name == "S3":
        return [item["Key"] for item in handle.client().list_objects_v2(Bucket=bucket).get("Contents", [])]
    return [blob.name for blob in handle.client().list_blobs(bucket)]


def test_files_move_to_object_storage_and_still_serve_and_feed_a_dependant(stack, tmp_path):
    name, handle, bucket, up, client = stack
    text = tmp_path / "words.txt"
    text.write_text(f"one two three {uuid.uuid4().hex}\n")
    uploaded = client.create_data("upload-file", {"src": client.upload(text)})
    uploaded = client.wait([uploaded["id"]], TIMEOUT)[uploaded["id"]]
    assert uploaded["status"] == "OK", uploaded["process_error"]
    data_id = uploaded["id"]

    assert f"copied Data {data_id} to {name}" in _manage(up, "runstoragemanager")
    assert [key for key in _objects(name, handle, bucket) if key.endswith("/words.txt")], "the file is in the bucket"
    assert f"deleted the copy of Data {data_id} on local" in _manage(up, "runstoragecleanup")
    local_files = [path for path in up.home.rglob("words.txt") if path.parent.name == str(data_id)]
    assert local_files == [], "the local copy is gone"

    served = client.session.get(f"{client.base_url}/data/{data_id}/words.txt", timeout=30)
    assert served.status_code == 200 and served.content == text.read_bytes()

    counted = client.create_data("word-count", {"src": data_id})
    counted = client.wait([counted["id"]], TIMEOUT)[counted["id"]]
    assert counted["status"] == "OK", counted["process_error"]
    assert counted["output"]["words"] == 4
    # The flow run removes the staged copy after it has written the reader's outcome: wait for it.
    deadline = time.monotonic() + 30
    while [path for path in up.home.rglob("words.txt") if path.parent.name == str(data_id)]:
        assert time.monotonic() < deadline, "the staged copy is removed after the run"
        time.sleep(0.5)


def test_the_worker_schedules_the_storage_passes_as_a_deployment(stack):
    _name, _handle, _bucket, up, _client = stack
    api = up.info["prefect_api"]
    response = requests.get(f"{api}/deployments/name/resolwe-storage/storage", timeout=30)  # credentials in the URL
    assert response.status_code == 200, response.text
    assert response.json()["schedules"], "the deployment has its interval schedule"


@pytest.mark.parametrize("stack", ["S3"], indirect=True)
def test_resdk_uploads_straight_to_s3_and_the_run_fetches_it(stack, tmp_path, monkeypatch):
    """``upload_config`` answers S3: unmodified resdk puts the file in the user's prefix of the bucket."""
    import resdk

    name, handle, bucket, up, _client = stack
    monkeypatch.setenv("AWS_ENDPOINT_URL_S3", handle.endpoint_url)  # resdk's boto3 reaches moto, not AWS
    res = resdk.Resolwe(url=up.info["api"], username="admin", password=ADMIN_PASSWORD)
    source = tmp_path / "direct.txt"
    source.write_text("straight to the bucket\n")
    data = res.run("upload-file", input={"src": str(source)})
    assert data.input["src"]["file_temp"].startswith(f"s3://{bucket}/")
    deadline = time.monotonic() + TIMEOUT
    while data.status not in ("OK", "ER") and time.monotonic() < deadline:
        time.sleep(1)
        data.update()
    assert data.status == "OK", data.process_error
    assert any(
        key.startswith(f"{data.input['src']['file_temp'].split('/')[3]}/") for key in _objects(name, handle, bucket)
    )
    served = res.session.get(f"{up.info['api']}/data/{data.id}/direct.txt", timeout=30)
    assert served.content == source.read_bytes()


@pytest.fixture(scope="module")
def scratch_stack(tmp_path_factory):
    """A site whose workers have no shared volume (``STORAGE_LOCAL_SCRATCH``): results live in S3 only."""
    server, handle = start_s3(tmp_path_factory.mktemp("s3-scratch"))
    bucket = handle.create_bucket()
    settings = {
        "STORAGE_CONNECTORS": {
            "S3": {"connector": CLASSES["S3"], "config": {**handle.connector_config(bucket), "priority": 10}}
        },
        "FLOW_STORAGE": {"upload": {"connectors": ["S3"]}},
    }
    env = {"RESOLWE_PREFECT_SETTINGS": json.dumps(settings), "RESOLWE_PREFECT_STORAGE_LOCAL_SCRATCH": "1"}
    try:
        with running_stack("storage_scratch", env) as up:
            yield handle, bucket, up
    finally:
        server.stop()


def test_without_a_shared_volume_flow_runs_publish_results_and_fetch_inputs(scratch_stack, tmp_path, monkeypatch):
    """The flow run keeps its results in the bucket before its Data is OK; a dependant fetches them, then drops them."""
    import resdk

    handle, bucket, up = scratch_stack
    monkeypatch.setenv("AWS_ENDPOINT_URL_S3", handle.endpoint_url)
    res = resdk.Resolwe(url=up.info["api"], username="admin", password=ADMIN_PASSWORD)
    source = tmp_path / "scratch.txt"
    source.write_text(f"four words right here {uuid.uuid4().hex}\n")
    data = res.run("upload-file", input={"src": str(source)})
    deadline = time.monotonic() + TIMEOUT
    while data.status not in ("OK", "ER") and time.monotonic() < deadline:
        time.sleep(1)
        data.update()
    assert data.status == "OK", data.process_error

    published = [key for key in _objects("S3", handle, bucket) if key.startswith("storage-")]
    assert any(key.endswith("/scratch.txt") for key in published), "published without runstoragemanager"
    assert [path for path in up.home.rglob("scratch.txt") if path.parent.name == str(data.id)] == []
    served = res.session.get(f"{up.info['api']}/data/{data.id}/scratch.txt", timeout=30)
    assert served.status_code in (200, 302)
    if served.status_code == 302:
        served = requests.get(served.headers["Location"], timeout=30)
    assert served.content == source.read_bytes()

    client = ApiClient(up.info["api"], "admin", ADMIN_PASSWORD)
    counted = client.create_data("word-count", {"src": data.id})
    counted = client.wait([counted["id"]], TIMEOUT)[counted["id"]]
    assert counted["status"] == "OK", counted["process_error"]
    assert counted["output"]["words"] == 5
    deadline = time.monotonic() + 30
    while [path for path in up.home.rglob("scratch.txt") if path.parent.name == str(data.id)]:
        assert time.monotonic() < deadline, "the fetched input is removed after the run"
        time.sleep(0.5)
    keys = _objects("S3", handle, bucket)
    assert len({key.split("/")[0] for key in keys if key.startswith("storage-")}) == 2, "the reader's results too"
