"""The real stack for end-to-end tests: ``resolwe-prefect up`` on a fresh PostgreSQL database.

One stack serves the whole session: a Prefect server (on its own PostgreSQL
database beside Django's), the embedded worker and the API, all as
subprocesses, in a temporary home. Tests talk to it over HTTP only.
``running_stack(..., sqlite=True)`` starts the laptop's embedded default
instead: Django and the Prefect server both on SQLite files in the home.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import psycopg
import pytest
import requests

from resolwe_prefect.cli.demo import ApiClient

ADMIN_PASSWORD = "e2e-admin-password"
PROCESSES = Path(__file__).parent / "processes"
INTERACTIVE_TIMEOUT = 8


def with_credentials(url: str, auth: str) -> str:
    """``http://user:password@host/...``: requests sends them as basic auth."""
    from urllib.parse import quote, urlsplit, urlunsplit

    user, _, password = auth.partition(":")
    parts = urlsplit(url)
    return urlunsplit(parts._replace(netloc=f"{quote(user, safe='')}:{quote(password, safe='')}@{parts.netloc}"))


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _admin_url() -> str:
    return os.environ.get("E2E_POSTGRES_ADMIN_URL", "postgresql://postgres@127.0.0.1:5432/postgres")


@dataclass
class Stack:
    url: str
    prefect_api: str  # with the server's basic-auth credentials in it
    home: Path
    client: ApiClient
    env: dict
    prefect_ui: str = ""

    def wait(self, data_ids: list[int], timeout: float = 120) -> dict[int, dict]:
        return self.client.wait(data_ids, timeout)

    def flow_run(self, flow_run_id: str) -> dict:
        """Read a flow run from the Prefect server's REST API, as the UI does."""
        response = requests.get(f"{self.prefect_api}/flow_runs/{flow_run_id}", timeout=30)
        response.raise_for_status()
        return response.json()

    def log_messages(self, flow_run_id: str, containing: str, timeout: float = 30) -> list[str]:
        """The flow run's log lines as the UI's Logs tab reads them, once one contains ``containing``.

        The worker ships logs to the server in batches, so a line can arrive
        a moment after the run ended; an empty match after ``timeout`` is returned as is.
        """
        deadline = time.monotonic() + timeout
        while True:
            response = requests.post(
                f"{self.prefect_api}/logs/filter",
                json={"logs": {"flow_run_id": {"any_": [flow_run_id]}}, "sort": "TIMESTAMP_ASC", "limit": 200},
                timeout=30,
            )
            response.raise_for_status()
            messages = [log["message"] for log in response.json()]
            if any(containing in message for message in messages) or time.monotonic() > deadline:
                return messages
            time.sleep(0.5)

    def final_state(self, flow_run_id: str, timeout: float = 30) -> str:
        """The flow run's state type once it is final (the Data object is written just before it)."""
        deadline = time.monotonic() + timeout
        while True:
            state = self.flow_run(flow_run_id)["state"]["type"]
            if state in ("COMPLETED", "FAILED", "CRASHED", "CANCELLED") or time.monotonic() > deadline:
                return state
            time.sleep(0.1)


def embedded_default_env(home: Path) -> dict[str, str]:
    """This process's environment with the state directory at ``home`` and no database or Prefect server chosen.

    pytest-django's ``DJANGO_SETTINGS_MODULE`` goes too: the test settings
    would point the stack at the test suite's PostgreSQL database.
    """
    env = {**os.environ, "RESOLWE_PREFECT_HOME": str(home)}
    for name in (
        "DJANGO_SETTINGS_MODULE",
        "DATABASE_URL",
        "PREFECT_API_URL",
        "RESOLWE_PREFECT_PREFECT_DATABASE",
        "PREFECT_SERVER_DATABASE_CONNECTION_URL",
        "PREFECT_API_DATABASE_CONNECTION_URL",
    ):
        env.pop(name, None)
    return env


@dataclass
class RunningStack:
    """What ``running_stack`` started: the URLs ``up`` published, its process and its databases."""

    info: dict
    home: Path
    env: dict
    up: subprocess.Popen
    database_url: str


@contextmanager
def running_stack(prefix: str, extra_env: dict[str, str] | None = None, cwd: Path | None = None, sqlite: bool = False):
    """``resolwe-prefect up`` on fresh PostgreSQL databases (Django's and Prefect's), stopped and dropped after.

    The stack puts its Prefect server on ``<database>_prefect`` beside
    Django's database, so both are dropped at the end. With ``sqlite`` it
    runs as on a laptop with nothing configured: both on SQLite in the home.
    """
    # mkdtemp's directory is private (0700), like a user's home: programs must reach their Data anyway.
    home = Path(tempfile.mkdtemp(prefix=f"resolwe-prefect-{prefix}-"))
    database = f"resolwe_prefect_{prefix}_{uuid.uuid4().hex[:8]}"
    database_url = ""
    if not sqlite:
        with psycopg.connect(_admin_url(), autocommit=True) as connection:
            connection.execute(f'CREATE DATABASE "{database}"')
        database_url = _admin_url().rsplit("/", 1)[0] + f"/{database}"
    port, prefect_port = free_port(), free_port()
    # Files the tests put there, every program may read (nothing else of the host is shared with them).
    (home / "shared").mkdir(mode=0o755)
    env = {
        **embedded_default_env(home),
        "RESOLWE_PREFECT_SANDBOX_READ_ONLY_PATHS": str(home / "shared"),
        "RESOLWE_PREFECT_ADMIN_PASSWORD": ADMIN_PASSWORD,
        "RESOLWE_PREFECT_PROCESS_PATHS": str(PROCESSES),
        **({"DATABASE_URL": database_url} if database_url else {}),
        **(extra_env or {}),
    }
    up = subprocess.Popen(
        [sys.executable, "-m", "resolwe_prefect.cli", "up", "--port", str(port), "--prefect-port", str(prefect_port)],
        env=env,
        stdout=open(home / "up.log", "wb"),
        stderr=subprocess.STDOUT,
        start_new_session=True,
        cwd=cwd,
    )
    try:
        deadline = time.monotonic() + 180
        while not (home / "stack.json").exists():
            if up.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"the stack did not start:\n{(home / 'up.log').read_text()[-5000:]}")
            time.sleep(0.2)
        info = json.loads((home / "stack.json").read_text())
        env["PREFECT_API_URL"] = info["prefect_api"]
        info["prefect_ui"] = info["prefect_api"].removesuffix("/api")
        if (home / "prefect-auth").exists():
            # The embedded Prefect server wants its basic auth: clients get it as Prefect's setting,
            # and the tests' own requests as credentials in the API's URL.
            env["PREFECT_API_AUTH_STRING"] = (home / "prefect-auth").read_text().strip()
            info["prefect_api"] = with_credentials(info["prefect_api"], env["PREFECT_API_AUTH_STRING"])
        yield RunningStack(info, home, env, up, database_url)
    finally:
        if up.poll() is None:
            os.killpg(up.pid, signal.SIGTERM)
            try:
                up.wait(timeout=60)
            except subprocess.TimeoutExpired:
                os.killpg(up.pid, signal.SIGKILL)
        if not sqlite:
            with psycopg.connect(_admin_url(), autocommit=True) as connection:
                for name in (database, f"{database}_prefect"):
                    connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        shutil.rmtree(home, ignore_errors=True)


@pytest.fixture(scope="session")
def stack() -> Stack:
    # A short time limit for interactive processes, so that its test does not wait the default 300 s.
    with running_stack("e2e", extra_env={"RESOLWE_PREFECT_INTERACTIVE_TIMEOUT": str(INTERACTIVE_TIMEOUT)}) as running:
        info = running.info
        yield Stack(
            info["api"],
            info["prefect_api"],
            running.home,
            ApiClient(info["api"], "admin", ADMIN_PASSWORD),
            running.env,
            info["prefect_ui"],
        )
