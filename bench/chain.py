"""Bench a chain of dependent Data objects: the platform, not the client, orders the work.

    python bench/chain.py [--length 20] [--runs 1] [--database-url URL] [--backend local|docker]

One ``bench-trivial`` head, then ``length - 1`` ``bench-step`` objects whose
``parent`` input is the previous one, all POSTed back to back (each POST
needs only the previous id, which the 201 answer carries, not its result).
Every step therefore waits (WT) and is submitted by the dependency
resolution in ``resolwe_prefect.data.lifecycle`` when its parent finishes,
which is what this measures: wall time from the first POST until the last
object is OK. Resolwe 45.2 took 43.4 s for 20 (2.17 s a step).
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from embedded import start_stack, stop_stack, wait_ok  # noqa: E402


def run_chain(client, length: int, timeout: float = 600) -> dict:
    """POST the chain, wait for its last object, and return the timings."""
    started = time.perf_counter()
    ids = [client.create_data("bench-trivial", {"n": 0})["id"]]
    for i in range(1, length):
        ids.append(client.create_data("bench-step", {"parent": ids[-1], "n": i})["id"])
    posted = time.perf_counter() - started
    last = wait_ok(client, ids[-1], timeout=timeout, poll=0.1)  # 10 ms polls would take CPU from the stack
    wall = time.perf_counter() - started
    finals = [client.get_data(data_id) for data_id in ids]
    statuses = [d["status"] for d in finals]
    if last["status"] != "OK" or statuses.count("OK") != length:
        raise SystemExit(f"chain did not finish OK: {statuses}")
    return {"length": length, "wall": wall, "posts": posted, "per_step": wall / length, **step_phases(finals)}


def step_phases(finals: list[dict]) -> dict:
    """Median per step: parent finished -> child's flow run created (resolution + submission), and the run itself."""
    from datetime import datetime

    def at(data, key):
        return datetime.fromisoformat(data[key])

    handover = [
        (at(b, "scheduled") - at(a, "finished")).total_seconds() for a, b in zip(finals, finals[1:], strict=False)
    ]
    running = [(at(d, "finished") - at(d, "scheduled")).total_seconds() for d in finals[1:]]
    return {"handover_median": statistics.median(handover), "scheduled_to_finished_median": statistics.median(running)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--length", type=int, default=20)
    parser.add_argument("--runs", type=int, default=1)
    parser.add_argument("--database-url")
    parser.add_argument("--backend", default="local", choices=["local", "docker"])
    args = parser.parse_args()
    from resolwe_prefect.cli.demo import ApiClient

    home = Path(tempfile.mkdtemp(prefix="resolwe-prefect-bench-"))
    home.chmod(0o755)
    process, info = start_stack(home, args.database_url, args.backend)
    try:
        client = ApiClient(info["api"], "admin", "bench")
        wait_ok(client, client.create_data("bench-trivial", {"n": -1})["id"])  # warm-up
        walls = [run_chain(client, args.length)["wall"] for _ in range(args.runs)]
        print(f"chain of {args.length} dependent Data objects, n={args.runs}: median {statistics.median(walls):.2f} s "
              f"(min {min(walls):.2f} s, max {max(walls):.2f} s; {statistics.median(walls) / args.length:.2f} s a step)")  # fmt: skip
    finally:
        stop_stack(process)


if __name__ == "__main__":
    main()
