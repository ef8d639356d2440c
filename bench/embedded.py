"""Bench the embedded stack: POST→OK latency of a trivial process, and 100 independent Data objects.

    python bench/embedded.py [--runs 20] [--fanout 100] [--database-url URL] [--backend local|docker]
                             [--chain 20] [--memory] [--json PATH]

Starts its own ``resolwe-prefect up`` in a temporary home (SQLite unless
``--database-url`` is given) and prints medians with min and max.

The optional parts reuse the same stack, because starting one costs tens of
seconds: ``--chain N`` times a chain of N dependent Data objects
(``bench/chain.py``), ``--memory`` samples the stack's RSS at rest and while
the independent objects run (``bench/memory.py``), and ``--json`` writes
every figure for ``bench/run_all.py``. The Prefect server takes its database
from the environment, so ``PREFECT_API_DATABASE_CONNECTION_URL`` set by the
caller puts it on PostgreSQL.
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

import memory  # bench/memory.py: this directory is on sys.path when a bench script runs

from resolwe_prefect.cli.demo import ApiClient

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
        [
            sys.executable,
            "-m",
            "resolwe_prefect.cli",
            "up",
            "--port",
            str(free_port()),
            "--prefect-port",
            str(free_port()),
        ],
        env=env,
        stdout=open(home / "up.log", "wb"),
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    deadline = time.monotonic() + 180
    while not (home / "stack.json").exists():
        if process.poll() is not None or time.monotonic() > deadline:
            raise SystemExit(f"stack did not start; see {home / 'up.log'}")
        time.sleep(0.2)
    info = json.loads((home / "stack.json").read_text())
    # ``up`` is ready when the API answers, but the worker registers the
    # deployment a moment later; a POST before that waits for the sweep.
    import requests

    # The local Prefect server wants the basic auth ``up`` generated (``<home>/prefect-auth``).
    user, _, password = (home / "prefect-auth").read_text().strip().partition(":")
    url = f"{info['prefect_api']}/deployments/name/resolwe-data/local"
    while requests.get(url, timeout=10, auth=(user, password)).status_code != 200:
        if process.poll() is not None or time.monotonic() > deadline:
            raise SystemExit(f"the worker did not register its deployment; see {home / 'worker.log'}")
        time.sleep(0.2)
    return process, info


def stop_stack(process: subprocess.Popen) -> None:
    """Stop ``up`` (it stops its components) and wait for it."""
    os.killpg(process.pid, signal.SIGTERM)
    process.wait(timeout=60)


def wait_ok(client: ApiClient, data_id: int, timeout: float = 120, poll: float = 0.01) -> dict:
    """Poll until the Data object is final. Every poll is an API request that takes CPU from the
    stack on a small machine, so long waits (many objects, chains) poll less often."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        data = client.get_data(data_id)
        if data["status"] in ("OK", "ER"):
            return data
        time.sleep(poll)
    raise TimeoutError(data_id)


def phases(data: dict) -> dict:
    """Where one Data object's time went, from its own timestamps (seconds).

    ``created`` is the POST, ``scheduled`` the flow run's creation
    (``submit_data``), ``started`` the program's start (after the worker
    claimed the run and staged and rendered it), ``finished`` the write-back
    of the outputs. The client's view adds its 10 ms polling on top.
    """
    from datetime import datetime

    at = {k: datetime.fromisoformat(data[k]) for k in ("created", "scheduled", "started", "finished") if data.get(k)}
    if len(at) < 4:
        return {}
    return {
        "submit": (at["scheduled"] - at["created"]).total_seconds(),
        "pickup_stage_render": (at["started"] - at["scheduled"]).total_seconds(),
        "program_collect": (at["finished"] - at["started"]).total_seconds(),
    }


def median_phases(rows: list[dict]) -> dict:
    rows = [r for r in rows if r]
    return {k: statistics.median(r[k] for r in rows) for k in rows[0]} if rows else {}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=20)
    parser.add_argument("--fanout", type=int, default=100)
    parser.add_argument("--database-url")
    parser.add_argument("--backend", default="local", choices=["local", "docker"])
    parser.add_argument("--chain", type=int, default=0, help="also time a chain of this many dependent Data objects")
    parser.add_argument("--chain-runs", type=int, default=1)
    parser.add_argument("--memory", action="store_true", help="also sample the stack's RSS at rest and under load")
    parser.add_argument("--json", type=Path, help="write every figure to this file")
    args = parser.parse_args()
    results: dict = {"backend": args.backend, "database": args.database_url or "sqlite",
                     "prefect_database": "postgresql" if os.environ.get("PREFECT_API_DATABASE_CONNECTION_URL") else "sqlite"}  # fmt: skip
    home = Path(tempfile.mkdtemp(prefix="resolwe-prefect-bench-"))
    home.chmod(0o755)  # programs run as an unprivileged user and must reach their Data directories
    process, info = start_stack(home, args.database_url, args.backend)
    try:
        client = ApiClient(info["api"], "admin", "bench")
        wait_ok(client, client.create_data("bench-trivial", {"n": -1})["id"])  # warm-up
        if args.memory:
            time.sleep(2)  # let the warm-up's events and writes settle
            results["memory_rest"] = memory.at_rest(process.pid, seconds=5)
        latencies, breakdown = [], []
        cpu_before = memory.cpu_seconds(process.pid)
        for i in range(args.runs):
            started = time.perf_counter()
            data = wait_ok(client, client.create_data("bench-trivial", {"n": i})["id"])
            latencies.append(time.perf_counter() - started)
            assert data["status"] == "OK", data
            breakdown.append(phases(data))
        results["latencies"] = latencies
        results["latency_phases"] = median_phases(breakdown)
        results["latency_server"] = [sum(b.values()) for b in breakdown if b]  # created -> finished, no polling
        spent = memory.cpu_delta(cpu_before, memory.cpu_seconds(process.pid))
        results["latency_cpu_per_run"] = {k: round(v / args.runs, 3) for k, v in spent.items()}
        print(
            f"database: {args.database_url or 'SQLite (embedded default)'}; backend: {args.backend}; machine: {os.cpu_count()} cores"
        )
        print(
            f"POST -> OK, trivial process, n={args.runs}: median {statistics.median(latencies):.3f} s "
            f"(min {min(latencies):.3f} s, max {max(latencies):.3f} s)"
        )
        print(
            "  median phases: "
            + ", ".join(f"{k} {v:.3f} s" for k, v in results["latency_phases"].items())
            + f"; server-side created -> finished median {statistics.median(results['latency_server']):.3f} s"
        )
        print(
            "  CPU seconds per run: "
            + ", ".join(f"{k} {v:.2f}" for k, v in sorted(results["latency_cpu_per_run"].items()))
        )
        if args.fanout:
            sampler = None
            if args.memory:
                sampler = memory.Sampler(process.pid).__enter__()
            cpu_before = memory.cpu_seconds(process.pid)
            started = time.perf_counter()
            ids = [client.create_data("bench-trivial", {"n": i})["id"] for i in range(args.fanout)]
            submitted = time.perf_counter() - started
            finals = [wait_ok(client, data_id, timeout=600, poll=0.25) for data_id in ids]
            statuses = [d["status"] for d in finals]
            wall = time.perf_counter() - started
            results["fanout_phases"] = median_phases([phases(d) for d in finals])
            results["fanout_cpu"] = memory.cpu_delta(cpu_before, memory.cpu_seconds(process.pid))
            if sampler is not None:
                sampler.__exit__()
                results["memory_load"] = sampler.peak()
            results["fanout"] = {"n": args.fanout, "wall": wall, "posts": submitted, "ok": statuses.count("OK")}
            print(
                f"{args.fanout} independent trivial Data objects: wall {wall:.2f} s "
                f"(POSTs took {submitted:.2f} s; {statuses.count('OK')} OK, {len(statuses) - statuses.count('OK')} not OK)"
            )
            print("  median phases: " + ", ".join(f"{k} {v:.3f} s" for k, v in results["fanout_phases"].items()))
            print(
                "  CPU seconds spent meanwhile: "
                + ", ".join(f"{k} {v:.1f}" for k, v in sorted(results["fanout_cpu"].items()))
            )
        if args.memory:
            print(f"stack RSS at rest: {memory.describe(results['memory_rest'])}")
            if "memory_load" in results:
                print(f"stack RSS peak under load: {memory.describe(results['memory_load'])}")
        if args.chain:
            from chain import run_chain

            chains = [run_chain(client, args.chain) for _ in range(args.chain_runs)]
            results["chain"] = chains
            walls = [c["wall"] for c in chains]
            print(f"chain of {args.chain} dependent Data objects, n={args.chain_runs}: median {statistics.median(walls):.2f} s "
                  f"(min {min(walls):.2f} s, max {max(walls):.2f} s; {statistics.median(walls) / args.chain:.2f} s a step)")  # fmt: skip
            print(f"  median per step: parent OK -> child's flow run created "
                  f"{statistics.median(c['handover_median'] for c in chains):.3f} s, flow run created -> OK "
                  f"{statistics.median(c['scheduled_to_finished_median'] for c in chains):.3f} s")  # fmt: skip
        if args.json:
            args.json.write_text(json.dumps(results, indent=1))
    finally:
        stop_stack(process)


if __name__ == "__main__":
    main()
