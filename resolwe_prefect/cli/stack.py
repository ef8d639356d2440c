"""``resolwe-prefect up`` and ``resolwe-prefect worker``: the embedded stack on one machine.

``up`` runs the migrations, registers the built-in processes, starts a local
Prefect server (SQLite under the state directory, or PostgreSQL beside
Django's database when that is PostgreSQL) unless ``PREFECT_API_URL``
points at one, starts the worker, and serves the API until interrupted.
"""

from __future__ import annotations

import argparse
import json
import os
import secrets
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import requests

DEFAULT_PREFECT_PORT = 4200


def state_dir() -> Path:
    """The local state directory, as settings computes it (created private to us)."""
    from django_project.state import state_dir as private_state_dir

    return private_state_dir(Path(os.environ.get("RESOLWE_PREFECT_HOME", Path.cwd() / ".resolwe-prefect")))


def prefect_auth_string(home: Path) -> str:
    """The local Prefect server's basic-auth string ``user:password``.

    Prefect's own ``PREFECT_SERVER_API_AUTH_STRING`` wins; otherwise one is
    generated at first start and kept in ``<state>/prefect-auth`` (0600).
    The worker, the API and flow runs get it as ``PREFECT_API_AUTH_STRING``;
    operators log in to the UI with it. Programs never see it.
    """
    from django_project.state import private_value

    configured = os.environ.get("PREFECT_SERVER_API_AUTH_STRING")
    if configured:
        return configured
    return private_value(home / "prefect-auth", 24, prefix="resolwe:")


def prefect_auth() -> tuple[str, str] | None:
    """``requests``' basic auth for the Prefect API this process talks to, if it needs one."""
    auth = os.environ.get("PREFECT_API_AUTH_STRING")
    if not auth:
        return None
    user, _, password = auth.partition(":")
    return user, password


def admin_password() -> str:
    """The embedded admin's password: ``RESOLWE_PREFECT_ADMIN_PASSWORD`` or one generated and kept in the state dir."""
    if os.environ.get("RESOLWE_PREFECT_ADMIN_PASSWORD"):
        return os.environ["RESOLWE_PREFECT_ADMIN_PASSWORD"]
    path = state_dir() / "admin-password"
    if not path.exists():
        path.write_text(secrets.token_urlsafe(16))
        path.chmod(0o600)
    return path.read_text().strip()


def wait_for_http(url: str, timeout: float, process: subprocess.Popen | None = None) -> None:
    """Wait until ``url`` answers; fail early when the process serving it died."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process is not None and process.poll() is not None:
            raise RuntimeError(f"{url} did not come up: its process exited with {process.returncode}")
        try:
            if requests.get(url, timeout=2).status_code < 500:
                return
        except requests.RequestException:
            pass
        time.sleep(0.2)
    raise RuntimeError(f"{url} did not answer within {timeout:.0f} s")


def _prepare_database() -> None:
    from django.contrib.auth import get_user_model
    from django.core.management import call_command

    call_command("migrate", interactive=False, verbosity=0)
    user_model = get_user_model()
    admin = user_model.objects.filter(username="admin").first()
    if admin is None:
        admin = user_model.objects.create_superuser("admin", "admin@localhost", admin_password())
    elif not admin.check_password(admin_password()):
        admin.set_password(admin_password())
        admin.save()
    call_command("register", verbosity=0)
    _publish_builtin_definitions()


def _publish_builtin_definitions() -> None:
    """Give public VIEW to the shipped processes and descriptor schemas (every version).

    Resolwe's ``register`` makes nothing public, and a registered process is
    only visible to its contributor (the admin). The embedded stack ships
    upload and demo processes that every user must be able to run, so ``up``
    publishes exactly those; processes from ``RESOLWE_PREFECT_PROCESS_PATHS``
    stay private until shared through ``/api/process/<id>/permissions``.
    """
    from django.conf import settings

    from resolwe_prefect.descriptors.models import DescriptorSchema
    from resolwe_prefect.permissions.models import Permission
    from resolwe_prefect.permissions.services import PUBLIC, set_permission
    from resolwe_prefect.processes.models import Process
    from resolwe_prefect.processes.registration import load_entries

    builtin = Path(settings.BASE_DIR) / "processes"
    for model, kind in ((Process, "process"), (DescriptorSchema, "descriptor")):
        entries, _ = load_entries([builtin], kind=kind)
        slugs = {str(raw.get("slug")) for _, raw in entries if raw.get("slug")}
        for obj in model.objects.filter(slug__in=slugs):
            set_permission(obj, PUBLIC, Permission.VIEW)


def prefect_database_url() -> str | None:
    """Where the local Prefect server keeps its state: PostgreSQL beside Django's database when that is PostgreSQL.

    On SQLite every write of the Prefect server waits for the previous one,
    which makes creating flow runs several times slower than on PostgreSQL
    (docs/performance.md). So a stack whose
    Django runs on PostgreSQL gives Prefect a database ``<name>_prefect`` on
    the same server, created when missing. ``RESOLWE_PREFECT_PREFECT_DATABASE``
    is ``auto`` (the default), ``sqlite``, or any SQLAlchemy URL.
    """
    from urllib.parse import quote

    from django.conf import settings
    from django.db import connection

    choice = os.environ.get("RESOLWE_PREFECT_PREFECT_DATABASE", "auto")
    if choice == "auto" and any(
        os.environ.get(f"PREFECT_{scope}_DATABASE_CONNECTION_URL") for scope in ("SERVER", "API")
    ):
        return None  # Prefect's own setting is given: the server reads it itself
    if choice != "auto":
        return None if choice == "sqlite" else choice
    database = settings.DATABASES["default"]
    if connection.vendor != "postgresql":
        return None
    name = f"{database['NAME']}_prefect"[:63]
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name])
        if cursor.fetchone() is None:
            cursor.execute(f'CREATE DATABASE "{name}"')
    credentials = quote(database.get("USER") or "postgres", safe="")
    if database.get("PASSWORD"):
        credentials += ":" + quote(database["PASSWORD"], safe="")
    host = database.get("HOST") or "127.0.0.1"
    port = database.get("PORT") or 5432
    return f"postgresql+asyncpg://{credentials}@{host}:{port}/{name}"


#: Prefect server settings ``up`` uses unless the environment sets them.
#: Prefect's task run recorder writes every task-run event in its own
#: transaction by default (batch size 1), a large share of the server's CPU for
#: our few tasks per flow run (docs/performance.md). Batches of up to 50,
#: flushed at least every second, cost far less; task runs then reach the UI up
#: to a second later.
PREFECT_SERVER_DEFAULTS = {
    "PREFECT_SERVER_SERVICES_TASK_RUN_RECORDER_BATCH_SIZE": "50",
    "PREFECT_SERVER_SERVICES_TASK_RUN_RECORDER_FLUSH_INTERVAL": "1",
}


def prefect_server_command(port: int) -> list[str]:
    """``prefect server start`` as every local stack runs it: through ``prefect_server``, for its SQLite writes."""
    return [sys.executable, "-m", "resolwe_prefect.cli.prefect_server", "server", "start",
            "--host", "127.0.0.1", "--port", str(port)]  # fmt: skip


def _start_prefect_server(port: int, home: Path, database_url: str | None = None) -> subprocess.Popen:
    env = {
        **PREFECT_SERVER_DEFAULTS,
        **os.environ,
        "PREFECT_HOME": str(home),
        "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
        "PREFECT_SERVER_API_HOST": "127.0.0.1",
        "PREFECT_SERVER_API_PORT": str(port),
        "PREFECT_UI_API_URL": f"http://127.0.0.1:{port}/api",
    }
    env.pop("PREFECT_API_URL", None)
    if os.environ.get("PREFECT_API_AUTH_STRING"):
        env["PREFECT_SERVER_API_AUTH_STRING"] = os.environ["PREFECT_API_AUTH_STRING"]
    if database_url:
        env["PREFECT_SERVER_DATABASE_CONNECTION_URL"] = database_url
    with open(home / "server.log", "ab") as log:
        return subprocess.Popen(
            prefect_server_command(port),
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )


def stop_process_group(process: subprocess.Popen | None, timeout: float = 10) -> None:
    """Stop a component started in its own session: SIGTERM to the group, SIGKILL if it lingers."""
    if process is None or process.poll() is not None:
        return
    try:
        os.killpg(process.pid, signal.SIGTERM)
        process.wait(timeout=timeout)
    except (ProcessLookupError, subprocess.TimeoutExpired):
        try:
            os.killpg(process.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        process.wait()


RESTART_WINDOW = 60.0
MAX_RESTARTS = 5


def _start_component(command: list[str], log_path: Path) -> subprocess.Popen:
    """Start one component in its own session, appending to its log."""
    with open(log_path, "ab") as log:
        return subprocess.Popen(
            command, env=os.environ.copy(), stdout=log, stderr=subprocess.STDOUT, start_new_session=True
        )


def _wait_for_port_free(host: str, port: int, timeout: float = 10) -> None:
    """Wait until nobody listens on the port a dead component held (its children may linger briefly)."""
    import socket

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with socket.socket() as sock:
            sock.settimeout(0.5)
            if sock.connect_ex((host, port)) != 0:
                return
        time.sleep(0.2)


def _wait_for_deployment(api_url: str, timeout: float, process: subprocess.Popen) -> None:
    """Wait until the worker has registered the Data deployment.

    Data objects created before it exists cannot be submitted and would wait
    for the worker's sweep, so ``up`` is not ready until then.
    """
    from django.conf import settings

    url = f"{api_url}/deployments/name/{settings.PREFECT_DEPLOYMENT}"
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"the worker exited with {process.returncode} before registering its deployment")
        try:
            if requests.get(url, timeout=2, auth=prefect_auth()).status_code == 200:
                return
        except requests.RequestException:
            pass
        time.sleep(0.3)
    raise RuntimeError(f"the worker did not register {settings.PREFECT_DEPLOYMENT} within {timeout:.0f} s")


def up(argv: list[str]) -> int:
    """Start everything on one machine and serve until interrupted."""
    parser = argparse.ArgumentParser(prog="resolwe-prefect up")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8000)
    parser.add_argument("--prefect-port", type=int, default=DEFAULT_PREFECT_PORT)
    args = parser.parse_args(argv)
    os.environ["RESOLWE_PREFECT_API_HOST"] = args.host  # the API accepts this Host besides loopback names

    os.umask(0o077)  # databases, logs and keys of every component: ours alone
    home = state_dir()
    external_prefect = bool(os.environ.get("PREFECT_API_URL"))
    if not external_prefect:
        os.environ["PREFECT_API_URL"] = f"http://127.0.0.1:{args.prefect_port}/api"
        os.environ["PREFECT_API_AUTH_STRING"] = prefect_auth_string(home)
    api_url = os.environ["PREFECT_API_URL"]
    ui_url = api_url[: -len("/api")] if api_url.endswith("/api") else api_url

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "django_project.settings")
    import django

    django.setup()
    print(f"resolwe-prefect: state in {home}", flush=True)
    _prepare_database()

    prefect_home = home / "prefect"
    starters: dict[str, Callable[[], subprocess.Popen]] = {}
    if not external_prefect:
        prefect_home.mkdir(exist_ok=True)
        database_url = prefect_database_url()
        print(f"resolwe-prefect: Prefect server state in {'PostgreSQL' if database_url else 'SQLite'}", flush=True)
        starters["prefect"] = lambda: _start_prefect_server(args.prefect_port, prefect_home, database_url)
    starters["worker"] = lambda: _start_component(
        [sys.executable, "-m", "resolwe_prefect.cli", "worker"], home / "worker.log"
    )
    starters["api"] = lambda: _start_component(
        [
            sys.executable,
            "-m",
            "uvicorn",
            "django_project.asgi:application",
            "--host",
            args.host,
            "--port",
            str(args.port),
            "--no-access-log",
            "--log-level",
            "warning",
        ],
        home / "api.log",
    )
    api_root = f"http://{args.host}:{args.port}"
    children: dict[str, subprocess.Popen] = {}

    def write_stack_json() -> None:
        # Component pids let operators (and the fault tests) signal one component.
        info = {
            "api": api_root,
            "prefect_ui": ui_url,
            "prefect_api": api_url,
            "pid": os.getpid(),
            "components": {name: child.pid for name, child in children.items()},
        }
        tmp = home / "stack.json.tmp"
        tmp.write_text(json.dumps(info))
        tmp.replace(home / "stack.json")

    try:
        if "prefect" in starters:
            print(f"resolwe-prefect: starting the Prefect server on {ui_url}", flush=True)
            children["prefect"] = starters["prefect"]()
            wait_for_http(f"{api_url}/health", timeout=120, process=children["prefect"])
        children["worker"] = starters["worker"]()
        children["api"] = starters["api"]()
        wait_for_http(f"{api_root}/api/", timeout=60, process=children["api"])
        _wait_for_deployment(api_url, timeout=120, process=children["worker"])
        write_stack_json()
        print(f"resolwe-prefect: API at {api_root}/api (user admin, password in {home / 'admin-password'})", flush=True)
        login = f" (log in with the contents of {home / 'prefect-auth'})" if not external_prefect else ""
        print(f"resolwe-prefect: Prefect UI at {ui_url}{login}", flush=True)
        print("resolwe-prefect: ready; press Ctrl+C to stop", flush=True)
        stop = {"now": False}

        def request_stop(*_):
            stop["now"] = True

        signal.signal(signal.SIGTERM, request_stop)
        signal.signal(signal.SIGINT, request_stop)
        # A component that dies is restarted: a dead worker would leave every
        # run it held in Running (the restarted worker recovers them), a dead
        # Prefect server or API would stop the stack from being usable. Only
        # a component that keeps dying right after its start stops the stack.
        recent_exits: dict[str, list[float]] = {name: [] for name in children}
        while not stop["now"]:
            for name, child in list(children.items()):
                if child.poll() is None:
                    continue
                now = time.monotonic()
                recent_exits[name] = [t for t in recent_exits[name] if now - t < RESTART_WINDOW] + [now]
                if len(recent_exits[name]) > MAX_RESTARTS:
                    print(
                        f"resolwe-prefect: {name} exited {len(recent_exits[name])} times within "
                        f"{RESTART_WINDOW:.0f} s; stopping",
                        file=sys.stderr,
                        flush=True,
                    )
                    return 1
                print(
                    f"resolwe-prefect: {name} exited with {child.returncode}; restarting it",
                    file=sys.stderr,
                    flush=True,
                )
                try:  # what the component started in its session (e.g. the server's uvicorn) goes with it
                    os.killpg(child.pid, signal.SIGKILL)
                except (ProcessLookupError, PermissionError):
                    pass
                if name == "api":
                    _wait_for_port_free(args.host, args.port)
                elif name == "prefect":
                    _wait_for_port_free("127.0.0.1", args.prefect_port)
                children[name] = starters[name]()
                write_stack_json()
            time.sleep(0.5)
        return 0
    finally:
        (home / "stack.json").unlink(missing_ok=True)
        for child in reversed(list(children.values())):
            stop_process_group(child)


def worker(argv: list[str]) -> int:
    """Run the embedded worker in the foreground."""
    import asyncio

    from resolwe_prefect.execution.django_setup import ensure_django

    ensure_django()
    from resolwe_prefect.execution.worker.serve import serve

    try:
        asyncio.run(serve())
    except KeyboardInterrupt:
        pass
    return 0


def pools(argv: list[str]) -> int:
    """Create the work pools that ``prefect.yaml`` deploys to (against ``PREFECT_API_URL``)."""
    import asyncio

    from resolwe_prefect.execution.django_setup import ensure_django

    ensure_django()
    from resolwe_prefect.execution.prefect_api.deployments import ensure_work_pools

    for name in asyncio.run(ensure_work_pools()):
        print(f"work pool {name}: ready")
    return 0
