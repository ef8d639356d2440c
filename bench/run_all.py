"""Run every benchmark of the performance issue and print one table next to Resolwe 45.2.

    python bench/run_all.py [--quick] [--skip local,docker,sqlite,api,fanout] [--wait-load 1.5] [--json PATH]

Each piece runs as its own process, so no piece warms up or pollutes the
next, and each can be run alone (the commands are printed as they start):

- ``bench/embedded.py``: a ``resolwe-prefect up`` stack as ``up`` runs it
  by default on this machine (Django on a fresh PostgreSQL database
  ``bench_stack``, the Prefect server beside it on ``bench_stack_prefect``)
  for POST→OK latency, 100 independent Data objects, a chain of 20
  dependent ones, and the stack's RSS at rest and under load; again with the
  Docker backend (latency only), and again as a laptop runs it with nothing
  configured (no ``DATABASE_URL``: Django and the Prefect server both on
  SQLite files in the stack's home);
- ``bench/api.py``: the REST API on 10,000 seeded Data (database ``bench_api``);
- ``bench/fanout.py``: resolving and queueing a 1,000 / 5,000 / 10,000
  child fan-out in the worker's dispatcher, with the per-flow-run cost of a
  real Prefect server.

The machine is small (2 cores) and shared, so the 1-minute load average is
recorded before every piece and printed with the table; ``--wait-load``
waits (up to ``--max-wait`` seconds) for it to drop before each piece.
Machines of the same kind differ in speed, so the table also prints a
calibration: the time of a fixed pure-Python loop (``cpu_calibration``),
to compare figures taken on different days.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
PG = "postgres://postgres@127.0.0.1:5432"
STACK_DB, STACK_PREFECT_DB, API_DB = "bench_stack", "bench_stack_prefect", "bench_api"
MIB = 1024 * 1024

#: Resolwe 45.2 on this machine, and the issue's targets.
RESOLWE = {
    "latency_local": "2.0 s", "chain": "43.4 s (2.17 s/step)", "fanout100": "226.6 s",
    "GET /api/data?limit=100": "995 ms, 12 q", "GET /api/data/<id>": "191 ms", "POST /api/data": "59 ms, 51 q",
}  # fmt: skip
TARGET = {
    "latency_local": 0.25, "latency_docker": 0.5, "fanout100": 30.0, "chain": 8.0,
    "GET /api/data?limit=100": 100.0, "GET /api/data/<id>": 20.0, "POST /api/data": 30.0,
}  # fmt: skip


def loadavg() -> float:
    return float(Path("/proc/loadavg").read_text().split()[0])


def wait_for_load(limit: float | None, max_wait: float) -> None:
    if limit is None:
        return
    deadline = time.monotonic() + max_wait
    while loadavg() > limit and time.monotonic() < deadline:
        print(f"  (load {loadavg():.2f} > {limit}; waiting)", flush=True)
        time.sleep(15)


def recreate(name: str) -> str:
    """A fresh database on the local PostgreSQL; returns its URL."""
    import psycopg

    with psycopg.connect(f"{PG}/postgres", autocommit=True) as connection:
        connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        connection.execute(f'CREATE DATABASE "{name}"')
    return f"{PG}/{name}"


def ensure(name: str) -> str:
    """The database, created when missing (the API bench seeds it once and reuses it)."""
    import psycopg

    with psycopg.connect(f"{PG}/postgres", autocommit=True) as connection:
        if not connection.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone():
            connection.execute(f'CREATE DATABASE "{name}"')
    return f"{PG}/{name}"


def cpu_calibration(repeat: int = 5) -> dict:
    """Seconds for 10 million additions in a pure-Python loop (best and median of ``repeat``), and the CPU model.

    A single-core figure that moves with the machine's speed and not with
    this project: divide two bench tables' times by their calibrations before
    comparing them.
    """
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        total = 0
        for i in range(10_000_000):
            total += i
        times.append(time.perf_counter() - started)
    model = next((line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text().splitlines()
                  if line.startswith("model name")), "unknown")  # fmt: skip
    return {"loop_10m_best": round(min(times), 3), "loop_10m_median": round(statistics.median(times), 3), "cpu": model}


def docker_available() -> bool:
    try:
        return subprocess.run(["docker", "info"], capture_output=True, timeout=30).returncode == 0
    except (OSError, subprocess.TimeoutExpired):
        return False


class Runner:
    """Runs the pieces, echoing their output, and remembers the load and command of each."""

    def __init__(self, wait_load: float | None, max_wait: float) -> None:
        self.wait_load, self.max_wait = wait_load, max_wait
        self.pieces: list[dict] = []

    def run(self, name: str, argv: list[str], env: dict | None = None) -> tuple[str, float]:
        wait_for_load(self.wait_load, self.max_wait)
        load = loadavg()
        shown = " ".join(f"{k}={v}" for k, v in (env or {}).items() if k.startswith("PREFECT_")) + " " if env else ""
        command = shown + " ".join(str(a) for a in argv)
        print(f"\n== {name} (load {load:.2f})\n$ {command}", flush=True)
        started = time.monotonic()
        process = subprocess.Popen(
            argv,
            cwd=ROOT,
            env={**os.environ, **(env or {})},
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        lines = []
        for line in process.stdout:
            lines.append(line)
            print("   " + line, end="", flush=True)
        process.wait()
        elapsed = time.monotonic() - started
        self.pieces.append({"name": name, "command": command, "load": load, "load_after": loadavg(),
                            "seconds": elapsed, "rc": process.returncode})  # fmt: skip
        if process.returncode:
            print(f"   !! {name} exited with {process.returncode}", flush=True)
        return "".join(lines), elapsed


def spread(values: list[float], unit: str, scale: float = 1.0, digits: int = 2) -> str:
    values = [v * scale for v in values]
    if len(values) == 1:
        return f"{values[0]:.{digits}f} {unit} (1 run)"
    return (f"{statistics.median(values):.{digits}f} {unit} "
            f"({min(values):.{digits}f}–{max(values):.{digits}f}, n={len(values)})")  # fmt: skip


def verdict(value: float | None, target: float | None) -> str:
    if value is None:
        return "not run"
    if target is None:
        return "n/a"
    return "yes" if value <= target else f"**no** ({value / target:.2f}× target)"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--quick", action="store_true", help="fewer repetitions and smaller fan-outs (about 10 minutes)"
    )
    parser.add_argument("--skip", default="", help="comma-separated: local, docker, sqlite, api, fanout")
    parser.add_argument("--wait-load", type=float, help="before each piece wait until the 1-min load is below this")
    parser.add_argument("--max-wait", type=float, default=300)
    parser.add_argument("--json", type=Path, help="write every figure here (default: a temporary file)")
    args = parser.parse_args()
    skip = {s.strip() for s in args.skip.split(",") if s.strip()}
    runs, chain_runs, api_repeat = (5, 1, 5) if args.quick else (20, 3, 15)
    sizes, real = ("1000,2000,4000", 200) if args.quick else ("1000,5000,10000", 500)
    if args.quick:
        skip.add("sqlite")
    py = sys.executable
    out = Path(tempfile.mkdtemp(prefix="resolwe-prefect-bench-results-"))
    runner = Runner(args.wait_load, args.max_wait)
    results: dict = {"quick": args.quick, "calibration": cpu_calibration()}
    print(
        f"calibration: 10M-addition Python loop {results['calibration']['loop_10m_best']:.2f} s (best of 5) "
        f"on {results['calibration']['cpu']}",
        flush=True,
    )

    def stack(name: str, backend: str, extra: list[str], sqlite: bool = False) -> dict | None:
        path = out / f"{name}.json"
        # up puts Prefect beside a PostgreSQL Django (in a fresh <db>_prefect); with no DATABASE_URL both are SQLite.
        env = {"RESOLWE_PREFECT_PREFECT_DATABASE": "auto"}
        database = [] if sqlite else ["--database-url", recreate(STACK_DB)]
        if not sqlite:
            recreate(STACK_PREFECT_DB)
        argv = [py, "bench/embedded.py", "--backend", backend, *database,
                "--runs", str(runs), "--json", str(path), *extra]  # fmt: skip
        runner.run(name, argv, env)
        return json.loads(path.read_text()) if path.exists() else None

    full = ["--fanout", "100", "--chain", "20", "--chain-runs", str(chain_runs), "--memory"]
    if "local" not in skip:
        results["local"] = stack("stack-local", "local", full)
    if "docker" not in skip:
        if docker_available():
            results["docker"] = stack("stack-docker", "docker", ["--fanout", "0"])
        else:
            print("\n== stack-docker skipped: no Docker engine answers `docker info`", flush=True)
    if "sqlite" not in skip:
        results["local_sqlite"] = stack("stack-local-sqlite", "local", full, sqlite=True)
    if "api" not in skip:
        text, _ = runner.run("api", [py, "bench/api.py", "--repeat", str(api_repeat), "--database-url", ensure(API_DB)])
        rows = {}
        for match in re.finditer(r"^(GET /api/data\?limit=100|GET /api/data/<id>|POST /api/data)\s+([\d.]+)\s+([\d.]+)\s+([\d.]+)\s+(\d+)",
                                 text, re.MULTILINE):  # fmt: skip
            rows[match[1]] = {
                "median": float(match[2]),
                "min": float(match[3]),
                "max": float(match[4]),
                "queries": int(match[5]),
            }
        results["api"] = rows
    if "fanout" not in skip:
        path = out / "fanout.json"
        runner.run("fanout", [py, "bench/fanout.py", "--sizes", sizes, "--real", str(real), "--prefect-db", "postgresql",
                              "--json", str(path)])  # fmt: skip
        results["fanout"] = json.loads(path.read_text()) if path.exists() else None
    results["pieces"] = runner.pieces
    results["machine"] = {
        "cores": os.cpu_count(),
        "memory_gib": round(os.sysconf("SC_PHYS_PAGES") * os.sysconf("SC_PAGE_SIZE") / 1024**3, 1),
    }

    table = render(results)
    print("\n" + table)
    target = args.json or out / "results.json"
    target.write_text(json.dumps(results, indent=1))
    print(f"\nall figures: {target}")


def render(results: dict) -> str:
    """The markdown table: measure | resolwe-prefect | Resolwe 45.2 | target | met?"""
    lines = [
        "| measure | resolwe-prefect (median, min–max) | real Resolwe 45.2 | target | met? |",
        "|---|---|---|---|---|",
    ]

    def row(measure, ours, resolwe, target, met):
        lines.append(f"| {measure} | {ours} | {resolwe} | {target} | {met} |")

    def docker_row():
        if not results.get("docker"):
            return
        dlat = results["docker"]["latencies"]
        dserver = results["docker"].get("latency_server")
        row("1. POST→OK, trivial, Docker backend", spread(dlat, "s", digits=3)
            + (f"; server-side {statistics.median(dserver):.3f} s" if dserver else ""), "–", "≤ 0.5 s",
            verdict(statistics.median(dlat), TARGET["latency_docker"]))  # fmt: skip

    if not results.get("local"):
        docker_row()
    for key, label in (("local", "PostgreSQL"), ("local_sqlite", "laptop default: SQLite")):
        stack = results.get(key)
        if not stack:
            continue
        lat = stack["latencies"]
        server = stack.get("latency_server")
        row(f"1. POST→OK, trivial, local backend ({label})", spread(lat, "s", digits=3)
            + (f"; server-side {statistics.median(server):.3f} s" if server else ""), RESOLWE["latency_local"],
            "≤ 0.25 s", verdict(statistics.median(lat), TARGET["latency_local"]))  # fmt: skip
        if key == "local":
            docker_row()
        if "fanout" in stack:
            f = stack["fanout"]
            row(f"2. 100 independent trivial Data, wall ({label})", f"{f['wall']:.1f} s (1 run; {f['ok']}/100 OK)",
                RESOLWE["fanout100"], "≤ 30 s", verdict(f["wall"], TARGET["fanout100"]))  # fmt: skip
        if "chain" in stack:
            walls = [c["wall"] for c in stack["chain"]]
            row(f"3. chain of 20 dependent Data, wall ({label})",
                spread(walls, "s") + f"; {statistics.median(walls) / 20:.2f} s/step", RESOLWE["chain"], "≤ 8 s",
                verdict(statistics.median(walls), TARGET["chain"]))  # fmt: skip
        if "memory_rest" in stack:
            rest, load = stack["memory_rest"], stack.get("memory_load")
            parts = lambda p: ", ".join(f"{k} {v / MIB:.0f}" for k, v in sorted(p["at_peak"].items()) if k != "total")  # noqa: E731
            row(
                f"6. stack RSS at rest, peak ({label})",
                f"{rest['total'] / MIB:.0f} MiB ({parts(rest)})",
                "–",
                "–",
                "n/a",
            )
            if load:
                row(f"6. stack RSS under load (row 2), peak ({label})", f"{load['total'] / MIB:.0f} MiB ({parts(load)})",
                    "–", "–", "n/a")  # fmt: skip
    for name, target in (
        ("GET /api/data?limit=100", "≤ 100 ms"),
        ("GET /api/data/<id>", "≤ 20 ms"),
        ("POST /api/data", "≤ 30 ms"),
    ):
        api = (results.get("api") or {}).get(name)
        if api is None:
            if "api" in results:
                row(f"4. {name}", "no figure parsed (see output above)", RESOLWE[name], target, "not run")
            continue
        row(f"4. {name} (non-superuser, 10,000 Data)",
            f"{api['median']:.1f} ms ({api['min']:.1f}–{api['max']:.1f}), {api['queries']} q",
            RESOLWE[name], target, verdict(api["median"], TARGET[name]))  # fmt: skip
    fan = results.get("fanout")
    if fan:
        for r in fan["stub"]:
            row(f"5. fan-out {r['n']:,}: create root + children (service layer, until all WT)",
                f"{r['create']:.1f} s ({r['create'] / r['n'] * 1000:.1f} ms/child)", "–", "–", "n/a")  # fmt: skip
            row(f"5. fan-out {r['n']:,}: resolve + queue in the worker's dispatcher",
                f"{r['resolve_submit']:.2f} s ({r['queries']:,} q, {r['flow_runs']} flow runs); heap peak "
                f"{r['heap_peak_mib']:.1f} MiB, RSS +{r['rss_peak_delta_mib']:.1f} MiB; the dispatcher keeps "
                f"{r['dispatcher_bytes'] / 1024:.0f} KiB", "–", "–", "n/a")  # fmt: skip
        if len(fan["stub"]) > 1:
            a, b = fan["stub"][0], fan["stub"][-1]
            row(f"5. growth {a['n']:,} → {b['n']:,} nodes (×{b['n'] / a['n']:.0f})",
                f"time ×{b['resolve_submit'] / a['resolve_submit']:.1f}, heap ×{b['heap_peak_mib'] / a['heap_peak_mib']:.1f}, "
                f"dispatcher ×{b['dispatcher_bytes'] / a['dispatcher_bytes']:.1f}, queries ×{b['queries'] / a['queries']:.1f}",
                "–", "linear", "linear" if b["resolve_submit"] / a["resolve_submit"] <= 1.5 * b["n"] / a["n"] else "**no**")  # fmt: skip
        real = fan.get("real")
        if real:
            row(f"5. each queued object, when a slot frees: its flow run created ({real['prefect_db']} Prefect server)",
                f"{real['per_flow_run'] * 1000:.0f} ms ({real['n']:,} in {real['resolve_submit']:.1f} s, one by one)",
                "–", "–", "n/a")  # fmt: skip
    loads = [p["load"] for p in results.get("pieces", [])]
    machine = results.get("machine", {})
    lines.append("")
    lines.append(f"machine: {machine.get('cores')} cores, {machine.get('memory_gib')} GiB; 1-min load before each piece: "
                 + ", ".join(f"{p['name']} {p['load']:.2f}" for p in results.get("pieces", []))
                 + (f" (max {max(loads):.2f})" if loads else ""))  # fmt: skip
    calibration = results.get("calibration")
    if calibration:
        lines.append(f"calibration: a 10M-addition pure-Python loop takes {calibration['loop_10m_best']:.2f} s "
                     f"(best of 5; median {calibration['loop_10m_median']:.2f} s) on {calibration['cpu']}")  # fmt: skip
    return "\n".join(lines)


if __name__ == "__main__":
    main()
