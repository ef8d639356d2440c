"""Bench a fan-out DAG: one root, N children that depend on it; resolve and submit them all.

    python bench/fanout.py [--sizes 1000,5000,10000] [--real 1000] [--prefect-db sqlite|postgresql] [--json PATH]

What is timed, per size N, each in a fresh Python process and a fresh copy
of the database (``bench_fanout_run``, cloned from a migrated template
``bench_fanout_template`` on the local PostgreSQL):

1. *create*: the root and N ``bench-step`` children through
   ``resolwe_prefect.data.services.create_data`` (the service every POST
   goes through, without HTTP), until the platform has resolved every child
   to WT (its background hand-over thread included);
2. *resolve+submit*: the root turns OK and ``lifecycle.children_finished``
   runs, as at the end of the root's flow run, in front of the embedded
   worker's real dispatcher (``execution.worker.core.DataWorker``, not serving):
   the dependency check of all N children in a fixed number of queries,
   their hand-over to the worker, and the worker queueing each one (WT) in
   its work queue. A queued Data object gets its flow run when a slot frees,
   so no flow run is created here; each one later costs one
   ``create_flow_run_from_deployment`` when it starts (``--real``);
3. *memory*: the RSS high-water mark over step 2 (``/proc/self/clear_refs``
   resets it), the Python heap peak of the same step repeated under
   ``tracemalloc`` (which slows it, so it is timed apart), and what the
   dispatcher keeps for the N waiting objects afterwards.

``--real M`` times the creation of M flow runs on a real Prefect server
(started here, no worker, so nothing competes) through the submitter's
fallback path, ``submit_data``: the cost each queued object pays when it
starts.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
import tracemalloc
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
PG = "postgres://postgres@127.0.0.1:5432"
TEMPLATE_DB, RUN_DB, PREFECT_DB = "bench_fanout_template", "bench_fanout_run", "bench_fanout_prefect"
USER = "bench-fanout"


def admin_sql(*statements: str) -> None:
    """Run statements on the maintenance database (CREATE/DROP DATABASE cannot run in a transaction)."""
    import psycopg

    with psycopg.connect(f"{PG}/postgres", autocommit=True) as connection:
        for statement in statements:
            connection.execute(statement)


def recreate(name: str, template: str | None = None) -> None:
    admin_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)',
              f'CREATE DATABASE "{name}"' + (f' TEMPLATE "{template}"' if template else ""))  # fmt: skip


def setup_django(database: str) -> None:
    os.environ["DATABASE_URL"] = f"{PG}/{database}"
    # No connection pool: a pooled connection would outlive close_all() and keep the template
    # database in use, and CREATE DATABASE ... TEMPLATE refuses a template with sessions.
    os.environ["DATABASE_POOL_MAX"] = "0"
    os.environ.setdefault("RESOLWE_PREFECT_HOME", tempfile.mkdtemp(prefix="resolwe-prefect-bench-fanout-"))
    os.environ["RESOLWE_PREFECT_PROCESS_PATHS"] = str(HERE / "processes")
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "django_project.settings")
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()


def prepare_template() -> None:
    """Migrate, register the bench processes and create the user once; every run clones this."""
    recreate(TEMPLATE_DB)
    setup_django(TEMPLATE_DB)
    from django.contrib.auth import get_user_model
    from django.core.management import call_command
    from django.db import connections

    call_command("migrate", verbosity=0)
    call_command("register", verbosity=0)
    get_user_model().objects.create_superuser(USER, "fanout@example.com", "bench")
    connections.close_all()


class StubClient:
    """Stands in for Prefect's sync client in ``submit_data``: counts flow runs and returns fresh ids."""

    created = 0

    def __enter__(self):
        return self

    def __exit__(self, *_exc):
        return False

    def create_flow_run_from_deployment(self, deployment_id, **_kwargs):
        import uuid
        from types import SimpleNamespace

        StubClient.created += 1
        return SimpleNamespace(id=uuid.uuid4())


def stub_prefect() -> None:
    """Replace only the Prefect calls of ``submit_data``; the rest of it (queries, updates) runs as is."""
    import uuid

    from resolwe_prefect.execution.prefect_api import submit

    submit.sync_client = lambda: StubClient()
    submit._deployment_id = lambda _id=uuid.uuid4(): _id  # noqa: B008 - one id for every call


def rss_kib(field: str) -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    raise KeyError(field)


class QueryCounter:
    """Counts SQL statements on every thread's connection, without keeping them.

    The dispatcher runs its queries on ``sync_to_async`` threads, whose
    connections a per-connection ``execute_wrapper`` would not see.
    """

    def __init__(self) -> None:
        self.count = 0

    def __enter__(self) -> QueryCounter:
        import threading

        from django.db.backends.utils import CursorWrapper

        lock, original = threading.Lock(), CursorWrapper._execute_with_wrappers
        self._restore = (CursorWrapper, original)

        def counted(cursor, sql, params, many, executor):
            with lock:
                self.count += 1
            return original(cursor, sql, params, many, executor)

        CursorWrapper._execute_with_wrappers = counted
        return self

    def __exit__(self, *_exc) -> None:
        cls, original = self._restore
        cls._execute_with_wrappers = original


def wait_resolved(root_id: int, n: int, timeout: float = 1800) -> None:
    """Wait until the background hand-over has moved every child to WT."""
    from resolwe_prefect.data.models import Data, DataStatus

    deadline = time.monotonic() + timeout
    while Data.objects.filter(status=DataStatus.WAITING).exclude(pk=root_id).count() < n:
        if time.monotonic() > deadline:
            raise SystemExit("children were not resolved to WT in time")
        time.sleep(0.05)


def queue_children(root_id: int) -> tuple[float, int, int]:
    """Step 2 through the worker's dispatcher; returns (seconds, objects queued, bytes it keeps for them)."""
    import asyncio
    import uuid

    from asgiref.sync import sync_to_async

    from resolwe_prefect.data import lifecycle
    from resolwe_prefect.execution.prefect_api.deployments import queue_limits
    from resolwe_prefect.execution.worker.core import DataWorker

    async def run() -> tuple[float, int, int]:
        slots = {queue: limit for queue, (_priority, limit) in queue_limits().items()}
        worker = DataWorker("bench", uuid.uuid4(), slots=slots)
        worker._loop = asyncio.get_running_loop()
        previous = lifecycle.registered()
        lifecycle.register(worker.hand_over)
        try:
            started = time.perf_counter()
            await sync_to_async(lifecycle.children_finished, thread_sensitive=False)(root_id)
            await asyncio.sleep(0)  # the hand-over arrives as a loop callback
            await worker.dispatch(list(worker._ready))
            elapsed = time.perf_counter() - started
        finally:
            lifecycle.register(*previous)
        queued = sum(len(q) for q in worker._waiting.values())
        kept = sys.getsizeof(worker._waiting_ids) + sum(sys.getsizeof(q) for q in worker._waiting.values())
        kept += sum(sys.getsizeof(i) for i in worker._waiting_ids)
        return elapsed, queued, kept

    return asyncio.run(run())


def one(n: int, real: bool) -> dict:
    """Create, resolve and submit a fan-out of ``n`` in this (fresh) process."""
    recreate(RUN_DB, TEMPLATE_DB)
    setup_django(RUN_DB)
    from django.contrib.auth import get_user_model

    from resolwe_prefect.data import lifecycle, services
    from resolwe_prefect.data.models import Data, DataStatus

    if real:
        import asyncio

        from resolwe_prefect.execution.worker.serve import ensure_local_deployment

        asyncio.run(ensure_local_deployment())  # PREFECT_API_URL came with this process's environment
    else:
        stub_prefect()
    user = get_user_model().objects.get(username=USER)
    result: dict = {"n": n, "prefect": "real server" if real else "none (the dispatcher queues)"}

    started = time.perf_counter()
    root = services.create_data(user=user, process_ref={"slug": "bench-trivial"}, input={"n": 0})
    children = [
        services.create_data(user=user, process_ref={"slug": "bench-step"}, input={"parent": root.pk, "n": i}).pk
        for i in range(n)
    ]
    result["create_calls"] = time.perf_counter() - started
    wait_resolved(root.pk, n)
    result["create"] = time.perf_counter() - started
    lifecycle._background.shutdown(wait=True)  # nothing of the creation may run during the timed part

    def reset() -> None:
        Data.objects.filter(pk__in=children).update(status=DataStatus.WAITING, flow_run_id=None, scheduled=None)
        Data.objects.filter(pk=root.pk).update(status=DataStatus.DONE)

    reset()
    import gc

    if real:  # the cost each queued object pays when it starts: one flow run created, through submit_data
        started = time.perf_counter()
        from resolwe_prefect.execution.prefect_api.submit import submit_data

        submit_data(children)
        result["resolve_submit"] = time.perf_counter() - started
        result["flow_runs"] = Data.objects.filter(pk__in=children, flow_run_id__isnull=False).count()
        return result

    gc.collect()
    Path("/proc/self/clear_refs").write_text("5")  # reset VmHWM to the current RSS
    rss_before = rss_kib("VmRSS")
    with QueryCounter() as counter:
        result["resolve_submit"], queued, result["dispatcher_bytes"] = queue_children(root.pk)
    result["rss_peak_delta_mib"] = (rss_kib("VmHWM") - rss_before) / 1024
    result["queries"] = counter.count
    if queued != n:
        raise SystemExit(f"only {queued} of {n} children were queued")
    waiting = Data.objects.filter(pk__in=children, status=DataStatus.WAITING, flow_run_id__isnull=True).count()
    if waiting != n:
        raise SystemExit(f"only {waiting} of {n} children are waiting for a slot")
    result["flow_runs"] = StubClient.created  # none: flow runs are created when a slot frees

    reset()  # the heap peak, apart: tracemalloc roughly doubles the time
    gc.collect()
    tracemalloc.start()
    queue_children(root.pk)
    result["heap_peak_mib"] = tracemalloc.get_traced_memory()[1] / 1024 / 1024
    tracemalloc.stop()
    return result


def start_prefect(prefect_db: str) -> tuple[subprocess.Popen, str]:
    """A Prefect server of our own (no worker), and the Data flow's deployment on it."""
    from resolwe_prefect.cli.stack import _start_prefect_server, wait_for_http

    home = Path(tempfile.mkdtemp(prefix="resolwe-prefect-bench-fanout-prefect-"))
    if prefect_db == "postgresql":
        recreate(PREFECT_DB)
        os.environ["PREFECT_API_DATABASE_CONNECTION_URL"] = f"postgresql+asyncpg://postgres@127.0.0.1:5432/{PREFECT_DB}"
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    server = _start_prefect_server(port, home)
    api = f"http://127.0.0.1:{port}/api"
    wait_for_http(f"{api}/health", timeout=180, process=server)
    return server, api


def run_child(args: list[str], env: dict | None = None) -> dict:
    output = subprocess.run([sys.executable, __file__, *args], env=env, capture_output=True, text=True)
    if output.returncode:
        raise SystemExit(f"fanout.py {' '.join(args)} failed:\n{output.stderr[-3000:]}")
    return json.loads(output.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", default="1000,5000,10000")
    parser.add_argument("--real", type=int, default=1000, help="children to submit to a real Prefect server (0: skip)")
    parser.add_argument("--prefect-db", default="sqlite", choices=["sqlite", "postgresql"])
    parser.add_argument("--json", type=Path)
    parser.add_argument("--one", type=int, help=argparse.SUPPRESS)  # internal: one size in this process
    parser.add_argument("--one-real", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()

    if args.one is not None:
        print(json.dumps(one(args.one, args.one_real)))
        return

    prepare_template()
    sizes = [int(s) for s in args.sizes.split(",") if s]
    rows = []
    for n in sizes:
        row = run_child(["--one", str(n)])
        rows.append(row)
        print(f"N={n:>6}: create {row['create']:.1f} s ({row['create'] / n * 1000:.2f} ms/child); resolve+queue "
              f"{row['resolve_submit']:.3f} s ({row['resolve_submit'] / n * 1000:.4f} ms/child, {row['queries']} queries, "
              f"{row['flow_runs']} flow runs); memory: heap peak {row['heap_peak_mib']:.1f} MiB, "
              f"RSS +{row['rss_peak_delta_mib']:.1f} MiB, dispatcher keeps {row['dispatcher_bytes'] / 1024:.0f} KiB", flush=True)  # fmt: skip
    results: dict = {"stub": rows}
    if args.real:
        from resolwe_prefect.cli.stack import stop_process_group

        server, api = start_prefect(args.prefect_db)
        try:
            env = {**os.environ, "PREFECT_API_URL": api}
            env.pop("PREFECT_API_DATABASE_CONNECTION_URL", None)
            real = run_child(["--one", str(args.real), "--one-real"], env=env)
        finally:
            stop_process_group(server)
        per_run = real["resolve_submit"] / args.real
        real.update(prefect_db=args.prefect_db, per_flow_run=per_run)
        results["real"] = real
        print(f"real Prefect server ({args.prefect_db}, idle, no worker): {args.real} flow runs created one by one "
              f"in {real['resolve_submit']:.1f} s -> {per_run * 1000:.1f} ms each (paid by each queued object when it "
              f"starts)", flush=True)  # fmt: skip
    if len(rows) > 1:
        first, last = rows[0], rows[-1]
        scale = last["n"] / first["n"]
        print(f"growth {first['n']} -> {last['n']} (x{scale:.0f}): time x{last['resolve_submit'] / first['resolve_submit']:.1f}, "
              f"heap peak x{last['heap_peak_mib'] / first['heap_peak_mib']:.1f}, queries x{last['queries'] / first['queries']:.1f}")  # fmt: skip
    if args.json:
        args.json.write_text(json.dumps(results, indent=1))


if __name__ == "__main__":
    main()
