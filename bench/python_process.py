"""Bench a Python process beside the bash one: POST→OK, and where the Python process's time goes.

    python bench/python_process.py [--runs 10] [--backend local|docker] [--database-url URL] [--json PATH]

Starts its own ``resolwe-prefect up`` (as ``bench/embedded.py`` does) and
times, alternately, ``bench-trivial`` (bash, ``re-save n``) and
``bench-trivial-python`` (``outputs.n = inputs.n``), both from
``bench/processes/``. Then ``bench-python-profile`` reports from inside the
program how long its interpreter took to reach ``run()`` and what one object
API request over the channel costs; and outside any stack, the interpreter
alone (``python3 -c pass``) and the runtime's imports
(``import resolwe.process``) are timed with the python3 a local program runs.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import tempfile
import time
from pathlib import Path

from embedded import ApiClient, phases, start_stack, stop_stack, wait_ok

from resolwe_prefect.runtime.python_runtime import runtime_dir

PROGRAM_PYTHON = next((p for p in ("/usr/local/bin/python3", "/usr/bin/python3") if Path(p).exists()), "python3")


def timed_command(command: list[str], env: dict[str, str], runs: int = 10) -> float:
    """Median wall time of a short command, after one warm-up."""
    subprocess.run(command, env=env, check=True)
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        subprocess.run(command, env=env, check=True)
        times.append(time.perf_counter() - started)
    return statistics.median(times)


def interpreter_costs() -> dict[str, float]:
    env = {"PATH": "/usr/bin:/bin", "PYTHONPATH": str(runtime_dir())}
    bare = timed_command([PROGRAM_PYTHON, "-c", "pass"], env)
    imports = timed_command([PROGRAM_PYTHON, "-c", "import resolwe.process, resolwe.process.models"], env)
    return {"interpreter": bare, "runtime_imports": imports - bare}


def post_to_ok(client: ApiClient, slug: str, n: int) -> tuple[float, dict]:
    started = time.perf_counter()
    data = wait_ok(client, client.create_data(slug, {"n": n})["id"])
    assert data["status"] == "OK", data
    return time.perf_counter() - started, phases(data)


def summary(values: list[float]) -> str:
    return f"median {statistics.median(values):.3f} s (min {min(values):.3f} s, max {max(values):.3f} s)"


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=10)
    parser.add_argument("--backend", default="local", choices=["local", "docker"])
    parser.add_argument("--database-url")
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()
    results: dict = {"backend": args.backend, "interpreter": interpreter_costs()}
    home = Path(tempfile.mkdtemp(prefix="resolwe-prefect-bench-"))
    home.chmod(0o755)
    process, info = start_stack(home, args.database_url, args.backend)
    try:
        client = ApiClient(info["api"], "admin", "bench")
        for slug in ("bench-trivial", "bench-trivial-python"):
            post_to_ok(client, slug, -1)  # warm-up
        runs: dict[str, list[tuple[float, dict]]] = {"bench-trivial": [], "bench-trivial-python": []}
        for i in range(args.runs):
            for slug, rows in runs.items():
                rows.append(post_to_ok(client, slug, i))
        profiles = []
        for _ in range(3):
            data = wait_ok(client, client.create_data("bench-python-profile", {"requests": 50})["id"])
            assert data["status"] == "OK", data
            profiles.append(data["output"])
    finally:
        stop_stack(process)
    print(
        f"backend: {args.backend}; database: {args.database_url or 'SQLite (embedded default)'}; {os.cpu_count()} cores"
    )
    for slug, rows in runs.items():
        latencies = [latency for latency, _ in rows]
        program = [p["program_collect"] for _, p in rows if p]
        results[slug] = {"latencies": latencies, "program_collect": program}
        print(
            f"POST -> OK, {slug}, n={args.runs}: {summary(latencies)}; program+collect median {statistics.median(program):.3f} s"
        )
    results["profile"] = profiles
    costs = results["interpreter"]
    print("where a Python process's time goes (medians):")
    print(f"  python3 -c pass (interpreter start): {costs['interpreter'] * 1000:.0f} ms")
    print(f"  import resolwe.process, resolwe.process.models (the runtime): {costs['runtime_imports'] * 1000:.0f} ms")
    print(f"  in the program, process start -> run(): {statistics.median(p['to_run'] for p in profiles) * 1000:.0f} ms "
          "(10 ms resolution)")  # fmt: skip
    print(
        f"  first channel request: {statistics.median(p['first_request'] for p in profiles) * 1000:.1f} ms; "
        f"then {statistics.median(p['round_trip'] for p in profiles) * 1000:.2f} ms a round trip (Data.get)"
    )
    if args.json:
        args.json.write_text(json.dumps(results, indent=1))


if __name__ == "__main__":
    main()
