"""The real stack for end-to-end tests: ``resolwe-prefect up`` on a fresh PostgreSQL database.

One stack serves the whole session: a Prefect server (SQLite, in a
temporary home), the embedded worker and the API, all as subprocesses.
Tests talk to it over HTTP only.
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
from dataclasses import dataclass
from pathlib import Path

import psycopg
import pytest

from resolwe_prefect.commands.demo import ApiClient

ADMIN_PASSWORD = "e2e-admin-password"
PROCESSES = Path(__file__).parent / "processes"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _admin_url() -> str:
    return os.environ.get("E2E_POSTGRES_ADMIN_URL", "postgresql://postgres@127.0.0.1:5432/postgres")


@dataclass
class Stack:
    url: str
    prefect_api: str
    home: Path
    client: ApiClient
    env: dict

    def wait(self, data_ids: list[int], timeout: float = 120) -> dict[int, dict]:
        return self.client.wait(data_ids, timeout)


@pytest.fixture(scope="session")
def stack() -> Stack:
    home = Path(tempfile.mkdtemp(prefix="resolwe-prefect-e2e-"))
    home.chmod(0o755)  # programs run as an unprivileged user and must reach their Data directories
    database = f"resolwe_prefect_e2e_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(_admin_url(), autocommit=True) as connection:
        connection.execute(f'CREATE DATABASE "{database}"')
    port, prefect_port = free_port(), free_port()
    env = {
        **os.environ,
        "RESOLWE_PREFECT_HOME": str(home),
        "DATABASE_URL": _admin_url().rsplit("/", 1)[0] + f"/{database}",
        "RESOLWE_PREFECT_ADMIN_PASSWORD": ADMIN_PASSWORD,
        "RESOLWE_PREFECT_PROCESS_PATHS": str(PROCESSES),
    }
    env.pop("PREFECT_API_URL", None)
    process = subprocess.Popen(
        [sys.executable, "-m", "resolwe_prefect.cli", "up", "--port", str(port), "--prefect-port", str(prefect_port)],
        env=env,
        stdout=open(home / "up.log", "wb"),
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    try:
        deadline = time.monotonic() + 180
        while not (home / "stack.json").exists():
            if process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"the stack did not start:\n{(home / 'up.log').read_text()[-5000:]}")
            time.sleep(0.2)
        info = json.loads((home / "stack.json").read_text())
        env["PREFECT_API_URL"] = info["prefect_api"]
        yield Stack(info["api"], info["prefect_api"], home, ApiClient(info["api"], "admin", ADMIN_PASSWORD), env)
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGTERM)
            try:
                process.wait(timeout=60)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
        with psycopg.connect(_admin_url(), autocommit=True) as connection:
            connection.execute(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)')
        shutil.rmtree(home, ignore_errors=True)
