"""A throwaway stack for the conformance run: fresh PostgreSQL database, one Prefect server, `resolwe-prefect up`.

Everything is reached the way an operator would: HTTP for the API, and
`resolwe-prefect manage ...` subprocesses (with the stack's environment) for
admin-side fixtures.
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

import psycopg

from resolwe_prefect.cli.stack import prefect_server_command, stop_process_group, wait_for_http

REPO = Path(__file__).resolve().parents[2]
VENV_BIN = Path(sys.executable).parent
ADMIN_URL = os.environ.get("CONFORMANCE_POSTGRES_ADMIN_URL", "postgresql://postgres@127.0.0.1:5432/postgres")
PASSWORDS = {"admin": "conformance-admin", "contributor": "conformance-contributor", "user": "conformance-user"}
USERS = [("admin", ["--superuser", "--staff"]), ("contributor", []), ("user", [])]


class StackError(RuntimeError):
    pass


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _stop_group(process: subprocess.Popen | None, timeout: float = 30) -> None:
    stop_process_group(process, timeout)


class Stack:
    def __init__(self, backend: str, keep: bool = False, extra_pythonpath: list[str] | None = None) -> None:
        self.backend = backend
        self.keep = keep
        self.tmp = Path(tempfile.mkdtemp(prefix="resolwe-conformance-"))
        self.tmp.chmod(0o755)  # programs run as an unprivileged user and must reach their Data directories
        self.home = self.tmp / "home"
        self.database = f"resolwe_conformance_{uuid.uuid4().hex[:10]}"
        self.database_url = ADMIN_URL.rsplit("/", 1)[0] + f"/{self.database}"
        self.prefect_port = free_port()
        self.api_port = free_port()
        self.prefect_api = f"http://127.0.0.1:{self.prefect_port}/api"
        self.api = f"http://127.0.0.1:{self.api_port}"
        self.extra_pythonpath = extra_pythonpath or []
        self.prefect: subprocess.Popen | None = None
        self.up_process: subprocess.Popen | None = None
        self.settings: dict | None = None
        self.epoch = 0  # bumped whenever sessions become invalid (flush, restart)

    # --- environment ---------------------------------------------------------------------

    def env(self, settings: dict | None = None) -> dict:
        # Nothing of the caller's own configuration leaks into the throwaway stack.
        inherited = {
            k: v
            for k, v in os.environ.items()
            if not k.startswith(("RESOLWE_PREFECT_", "FLOW_", "DJANGO_", "PREFECT_", "DATABASE_"))
        }
        env = {
            **inherited,
            "RESOLWE_PREFECT_HOME": str(self.home),
            "DATABASE_URL": self.database_url,
            "RESOLWE_PREFECT_BACKEND": self.backend,
            "RESOLWE_PREFECT_ADMIN_PASSWORD": PASSWORDS["admin"],
            "PREFECT_API_URL": self.prefect_api,
            "PREFECT_HOME": str(self.tmp / "prefect-client"),
            "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
            "PYTHONPATH": os.pathsep.join([*self.extra_pythonpath, str(REPO), os.environ.get("PYTHONPATH", "")]).rstrip(
                os.pathsep
            ),
        }
        env.pop("RESOLWE_PREFECT_SETTINGS", None)
        if settings:
            env["RESOLWE_PREFECT_SETTINGS"] = json.dumps(settings)
        return env

    # --- lifecycle -----------------------------------------------------------------------

    def start(self) -> None:
        self.home.mkdir(parents=True)
        with psycopg.connect(ADMIN_URL, autocommit=True) as connection:
            connection.execute(f'CREATE DATABASE "{self.database}"')
        prefect_home = self.tmp / "prefect-server"
        prefect_home.mkdir()
        env = {
            **os.environ,
            "PREFECT_HOME": str(prefect_home),
            "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
            "PREFECT_UI_API_URL": self.prefect_api,
        }
        env.pop("PREFECT_API_URL", None)
        self.prefect = subprocess.Popen(
            prefect_server_command(self.prefect_port),  # the server ``up`` starts
            env=env,
            stdout=open(prefect_home / "server.log", "ab"),
            stderr=subprocess.STDOUT,
            start_new_session=True,
            cwd=self.tmp,
        )
        self._wait_http(f"{self.prefect_api}/health", 180, self.prefect, "the Prefect server")
        self.start_up(None)
        self.ensure_users()

    def start_up(self, settings: dict | None) -> None:
        stack_json = self.home / "stack.json"
        stack_json.unlink(missing_ok=True)
        log = self.tmp / "up.log"
        self.up_process = subprocess.Popen(
            [str(VENV_BIN / "resolwe-prefect"), "up", "--port", str(self.api_port)],
            env=self.env(settings),
            stdout=open(log, "ab"),
            stderr=subprocess.STDOUT,
            start_new_session=True,
            cwd=REPO,
        )
        self.settings = settings
        deadline = time.monotonic() + 240
        while not stack_json.exists():
            if self.up_process.poll() is not None or time.monotonic() > deadline:
                raise StackError(f"`resolwe-prefect up` did not start:\n{log.read_text()[-3000:]}")
            time.sleep(0.2)
        self.epoch += 1

    def stop_up(self) -> None:
        _stop_group(self.up_process, timeout=60)
        self.up_process = None

    def up_alive(self) -> bool:
        return self.up_process is not None and self.up_process.poll() is None

    def apply_settings(self, settings: dict | None) -> None:
        """Restart `up` when the wanted settings differ from the running ones (or when it died)."""
        if self.up_alive() and (settings or None) == (self.settings or None):
            return
        self.stop_up()
        self.start_up(settings or None)

    def close(self) -> None:
        self.stop_up()
        _stop_group(self.prefect)
        if self.keep:
            print(f"kept: state in {self.tmp}, database {self.database_url}", file=sys.stderr)
            return
        try:
            with psycopg.connect(ADMIN_URL, autocommit=True) as connection:
                connection.execute(f'DROP DATABASE IF EXISTS "{self.database}" WITH (FORCE)')
        except Exception as error:  # noqa: BLE001 - cleanup must not hide the report
            print(f"warning: could not drop {self.database}: {error}", file=sys.stderr)
        shutil.rmtree(self.tmp, ignore_errors=True)

    @staticmethod
    def _wait_http(url: str, timeout: float, process: subprocess.Popen, what: str) -> None:
        try:
            wait_for_http(url, timeout, process)
        except RuntimeError as error:
            raise StackError(f"{what}: {error}") from error

    # --- admin side ----------------------------------------------------------------------

    def manage(self, *args: str, timeout: float = 180) -> subprocess.CompletedProcess:
        return subprocess.run(
            [str(VENV_BIN / "resolwe-prefect"), "manage", *args],
            env=self.env(self.settings),
            capture_output=True,
            text=True,
            timeout=timeout,
            cwd=REPO,
        )

    def ensure_users(self) -> None:
        for username, flags in USERS:
            result = self.manage("ensure_user", username, "--password", PASSWORDS[username], *flags)
            if result.returncode != 0:
                raise StackError(f"ensure_user {username} failed: {(result.stderr or result.stdout)[-2000:]}")

    def flush(self) -> None:
        """An empty database with only the standard users.

        `flush` resets the id sequences; they are put back afterwards so that ids are never
        reused, as in a long-lived deployment (the Prefect server still remembers the flow
        runs of the flushed objects, which name them by id).
        """
        sequences = self._sequences()
        result = self.manage("flush", "--no-input")
        if result.returncode != 0:
            raise StackError(f"flush failed: {(result.stderr or result.stdout)[-2000:]}")
        self._restore_sequences(sequences)
        self.ensure_users()
        self.epoch += 1

    def _sequences(self) -> dict[str, int]:
        with psycopg.connect(self.database_url, autocommit=True) as connection:
            rows = connection.execute(
                "SELECT schemaname, sequencename, last_value FROM pg_sequences WHERE last_value IS NOT NULL"
            ).fetchall()
        return {f'"{schema}"."{name}"': value for schema, name, value in rows}

    def _restore_sequences(self, sequences: dict[str, int]) -> None:
        current = self._sequences()
        with psycopg.connect(self.database_url, autocommit=True) as connection:
            for name, value in sequences.items():
                if current.get(name, 0) < value:
                    connection.execute("SELECT setval(%s::regclass, %s, true)", (name, value))
