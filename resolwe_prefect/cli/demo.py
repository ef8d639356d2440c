"""``resolwe-prefect demo``: the example pipeline, through the REST API only.

Upload a text file, count its words and its lines in parallel, then
summarize both counts. It uses the running stack when there is one and
starts one otherwise.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path

import requests

from .stack import admin_password, state_dir, wait_for_http

SAMPLE_TEXT = """\
Resolwe describes every analysis step as a process with typed inputs and outputs.
Each Data object is one run of a process, and here each run is a Prefect flow run.
The word count and the line count run in parallel; the summary waits for both.
"""
FINAL = {"OK", "ER", "DR"}


class ApiClient:
    """A minimal Resolwe REST client (the demo must not depend on resdk).

    It logs in once and then uses the session cookie, as resdk does: basic
    authentication would hash the password on every request.
    """

    def __init__(self, base_url: str, username: str, password: str) -> None:
        self.base_url = base_url.rstrip("/")
        self.session = requests.Session()
        self.session.headers["Accept"] = "application/json"
        self.credentials = (username, password)
        self.login()

    def login(self) -> None:
        """Open a session (cookies ``sessionid`` and ``csrftoken``) at Resolwe's login path."""
        username, password = self.credentials
        response = self.session.post(
            f"{self.base_url}/rest-auth/login/", data={"email": username, "password": password}, timeout=60
        )
        response.raise_for_status()
        self.session.headers["X-CSRFToken"] = self.session.cookies["csrftoken"] or ""
        self.session.headers["Referer"] = self.base_url

    def upload(self, path: Path) -> dict:
        """Send a file through Resolwe's chunked upload; return the basic:file value."""
        content = path.read_bytes()
        response = self.session.post(
            f"{self.base_url}/upload/",
            files={"file": (path.name, content)},
            data={
                "_chunkSize": 8_000_000,
                "_totalSize": len(content),
                "_chunkNumber": 0,
                "_currentChunkSize": len(content),
            },
            headers={"Session-Id": str(uuid.uuid4()), "X-File-Uid": str(uuid.uuid4())},
            timeout=60,
        )
        response.raise_for_status()
        return {"file": path.name, "file_temp": response.json()["files"][0]["temp"]}

    def create_data(self, slug: str, inputs: dict) -> dict:
        response = self.session.post(
            f"{self.base_url}/api/data", json={"process": {"slug": slug}, "input": inputs}, timeout=60
        )
        if response.status_code != 201:
            raise RuntimeError(f"Creating {slug} failed ({response.status_code}): {response.text}")
        return response.json()

    def get_data(self, data_id: int) -> dict:
        response = self.session.get(f"{self.base_url}/api/data/{data_id}", timeout=60)
        response.raise_for_status()
        return response.json()

    def wait(self, data_ids: list[int], timeout: float) -> dict[int, dict]:
        """Poll until every Data object is final, printing each status change."""
        deadline = time.monotonic() + timeout
        seen: dict[int, str] = {}
        latest: dict[int, dict] = {}
        while time.monotonic() < deadline:
            for data_id in data_ids:
                latest[data_id] = data = self.get_data(data_id)
                if seen.get(data_id) != data["status"]:
                    seen[data_id] = data["status"]
                    print(f"  data {data_id:>4} {data['process']['slug']:<14} {data['status']}", flush=True)
            if all(d["status"] in FINAL for d in latest.values()):
                return latest
            time.sleep(0.2)
        raise TimeoutError(f"Data objects not final after {timeout:.0f} s: {seen}")


def _running_api(url: str) -> bool:
    try:
        return requests.get(f"{url}/api/", timeout=2).status_code < 500
    except requests.RequestException:
        return False


def run_pipeline(client: ApiClient, timeout: float = 300) -> bool:
    """Run the example pipeline; return True when every Data object ends OK."""
    sample = state_dir() / "demo-input.txt"
    sample.write_text(SAMPLE_TEXT)
    started = time.monotonic()
    print("demo: uploading", sample.name, flush=True)
    upload = client.create_data("upload-file", {"src": client.upload(sample)})
    words = client.create_data("word-count", {"src": upload["id"]})
    lines = client.create_data("line-count", {"src": upload["id"]})
    summary = client.create_data("count-summary", {"words": words["id"], "lines": lines["id"]})
    ids = [upload["id"], words["id"], lines["id"], summary["id"]]
    results = client.wait(ids, timeout)
    print(f"demo: finished in {time.monotonic() - started:.2f} s", flush=True)
    for data_id in ids:
        data = results[data_id]
        print(f"  data {data_id:>4} {data['process']['slug']:<14} {data['status']}  flow run {data.get('flow_run_id')}")
        print(f"       output: {json.dumps(data['output'], sort_keys=True)}")
        if data["process_error"]:
            print(f"       errors: {data['process_error']}")
    return all(results[i]["status"] == "OK" for i in ids)


def demo(argv: list[str]) -> int:
    """Run the example pipeline against the running stack, or a stack started for it."""
    parser = argparse.ArgumentParser(prog="resolwe-prefect demo")
    parser.add_argument("--url", default=os.environ.get("RESOLWE_PREFECT_URL", "http://127.0.0.1:8000"))
    parser.add_argument("--timeout", type=float, default=300)
    parser.add_argument("--prefect-port", type=int, help="the Prefect server's port, when the demo starts the stack")
    args = parser.parse_args(argv)

    stack = None
    if not _running_api(args.url):
        print("demo: no stack is running; starting one with `resolwe-prefect up`", flush=True)
        port = args.url.rsplit(":", 1)[-1].split("/")[0]
        command = [sys.executable, "-m", "resolwe_prefect.cli", "up", "--port", port]
        if args.prefect_port:
            command += ["--prefect-port", str(args.prefect_port)]
        stack = subprocess.Popen(command, start_new_session=True)
    try:
        if stack is not None:
            wait_for_http(f"{args.url}/api/", timeout=180, process=stack)
            deadline = time.monotonic() + 60
            while not (state_dir() / "stack.json").exists() and time.monotonic() < deadline:
                time.sleep(0.2)
        client = ApiClient(args.url, "admin", admin_password())
        ok = run_pipeline(client, timeout=args.timeout)
        print("demo: all Data objects OK" if ok else "demo: some Data objects failed", flush=True)
        return 0 if ok else 1
    finally:
        if stack is not None and stack.poll() is None:
            os.killpg(stack.pid, signal.SIGTERM)
            try:
                stack.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(stack.pid, signal.SIGKILL)
