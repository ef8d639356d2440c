"""Bench the embedded stack: POST→OK latency of a trivial process, and 100 independent Data objects.

    python bench/embedded.py [--runs 20] [--fanout 100] [--database-url URL] [--backend local|docker]

Starts its own ``resolwe-prefect up`` in a temporary home (SQLite unless
``--database-url`` is given) and prints medians with min and max.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from resolwe_prefect.commands.demo import ApiClient

HERE = Path(__file__).resolve().parent


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def start_stack(home: Path, database_url: str | None, backend: str) -> tuple[subprocess.Popen, dict]:
    env = {
        **os.environ,
        "RESOLWE_PREFECT_BACKEND": backend,
        "RESOLWE_PREFECT_HOME": str(home),
        "RESOLWE_PREFECT_ADMIN_PASSWORD": "bench",
        "RESOLWE_PREFECT_PROCESS_PATHS": str(HERE / "processes"),
    }
    env.pop("PREFECT_API_URL", None)
    if database_url:
        env["DATABASE_URL"] = database_url
    process = subprocess.Popen(
        [sys.executable, "-m", "resolwe_prefect.cli", "up", "--port", str(free_port()), "--prefect-port", str(free_port())],
        env=env, stdout=open(home / "up.log", "wb"), stderr=subprocess.STDOUT, start_new_session=True,
    )
    deadline = time.monotonic() + 180
    while not (home / "stack.json").exists():
        if process.poll() is not None or time.monotonic() > deadline:
            raise SystemExit(f"stack did not start; see {home / 'up.log'}")
        time.sleep(0.2)
    return process, json.loads((home / "stack.json").read_text())


def wait_ok(client: ApiClient, data_id: int, timeout: float = 120) -> dict:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        data = client.get_data(data_id)
        if data["status"] in ("OK", "ER"):
            return data
        time.sleep(0.01)
    raise TimeoutError(data_id)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=20)
    parser.add_argument("--fanout", type=int, default=100)
    parser.add_argument("--database-url")
    parser.add_argument("--backend", default="local", choices=["local", "docker"])
    args = parser.parse_args()
    home = Path(tempfile.mkdtemp(prefix="resolwe-prefect-bench-"))
    home.chmod(0o755)  # programs run as an unprivileged user and must reach their Data directories
    process, info = start_stack(home, args.database_url, args.backend)
    try:
        client = ApiClient(info["api"], "admin", "bench")
        wait_ok(client, client.create_data("bench-trivial", {"n": -1})["id"])  # warm-up
        latencies = []
        for i in range(args.runs):
            started = time.perf_counter()
            data = wait_ok(client, client.create_data("bench-trivial", {"n": i})["id"])
            latencies.append(time.perf_counter() - started)
            assert data["status"] == "OK", data
        started = time.perf_counter()
        ids = [client.create_data("bench-trivial", {"n": i})["id"] for i in range(args.fanout)]
        submitted = time.perf_counter() - started
        statuses = [wait_ok(client, data_id, timeout=600)["status"] for data_id in ids]
        wall = time.perf_counter() - started
        print(f"database: {args.database_url or 'SQLite (embedded default)'}; backend: {args.backend}; machine: {os.cpu_count()} cores")
        print(
            f"POST -> OK, trivial process, n={args.runs}: median {statistics.median(latencies):.3f} s "
            f"(min {min(latencies):.3f} s, max {max(latencies):.3f} s)"
        )
        print(
            f"{args.fanout} independent trivial Data objects: wall {wall:.2f} s "
            f"(POSTs took {submitted:.2f} s; {statuses.count('OK')} OK, {len(statuses) - statuses.count('OK')} not OK)"
        )
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        process.wait(timeout=60)


if __name__ == "__main__":
    main()
