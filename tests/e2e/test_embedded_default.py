"""End to end on the laptop's embedded default: nothing configured, so Django and Prefect both on SQLite.

The rest of ``tests/e2e`` runs on PostgreSQL; these tests make sure the
README's first command works where nothing is set up, and that the Prefect
server's SQLite writes queue instead of failing (see
``resolwe_prefect/cli/prefect_server.py``).
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

from .conftest import ADMIN_PASSWORD, embedded_default_env, free_port, running_stack

pytestmark = pytest.mark.e2e


REPOSITORY = Path(__file__).resolve().parents[2]


def private_clone(home: Path) -> Path:
    """The checkout's files (tracked and new, as ``git clone`` of this tree would give) under a private home."""
    listed = subprocess.run(
        ["git", "ls-files", "--cached", "--others", "--exclude-standard", "-z"],
        cwd=REPOSITORY, capture_output=True, check=True,
    ).stdout.decode().split("\0")  # fmt: skip
    clone = home / "resolwe-prefect"
    for name in filter(None, listed):
        source = REPOSITORY / name
        if source.is_file():
            (clone / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, clone / name)
    return clone


def test_demo_command_runs_from_a_clone_in_a_private_home():
    """``resolwe-prefect demo`` (what ``make demo`` runs) from a clone in a 0700 home, as root does it in ``~``.

    Nothing is configured: the state directory is the clone's ``.resolwe-prefect``, Django and Prefect
    on SQLite, the programs' utilities inside the private home too. Every object ends OK, and the
    state the stack keeps there is readable by no one else.
    """
    with tempfile.TemporaryDirectory(prefix="resolwe-prefect-home-") as directory:
        home = Path(directory)
        assert home.stat().st_mode & 0o777 == 0o700
        clone = private_clone(home)
        env = {**embedded_default_env(home), "RESOLWE_PREFECT_ADMIN_PASSWORD": ADMIN_PASSWORD, "PYTHONPATH": str(clone)}
        env.pop("RESOLWE_PREFECT_HOME")
        url = f"http://127.0.0.1:{free_port()}"
        result = subprocess.run(
            [sys.executable, "-m", "resolwe_prefect.cli", "demo", "--url", url, "--prefect-port", str(free_port())],
            env=env, capture_output=True, text=True, timeout=600, cwd=clone,
        )  # fmt: skip
        assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
        assert "demo: all Data objects OK" in result.stdout
        for name in ("word-count", "line-count", "count-summary"):
            assert name in result.stdout
        state = clone / ".resolwe-prefect"
        assert str(state) in result.stdout, "the demo did not run from the private clone"
        assert (state / "db.sqlite3").is_file()
        assert (state / "prefect" / "prefect.db").is_file()
        assert state.stat().st_mode & 0o077 == 0
        for name in ("db.sqlite3", "secret-key", "prefect-auth", "api.log", "worker.log"):
            assert (state / name).stat().st_mode & 0o077 == 0, f"{name} is readable by others"


def test_dependent_objects_on_sqlite_never_hit_a_locked_database():
    """A chain and a fan-out at once: every object OK, and the Prefect server never answered 'database is locked'.

    Before write transactions took the lock up front, most flow-run creations
    on a busy SQLite server failed with a 503 and were retried after 2 s.
    """
    with running_stack("sqlite", sqlite=True, extra_env={"PREFECT_API_LOG_RETRYABLE_ERRORS": "true"}) as running:
        from resolwe_prefect.cli.demo import ApiClient

        client = ApiClient(running.info["api"], "admin", ADMIN_PASSWORD)
        chain = [client.create_data("e2e-echo", {"text": "head"})["id"]]
        for _ in range(7):
            chain.append(client.create_data("e2e-after", {"before": chain[-1]})["id"])
        fan_out = [client.create_data("e2e-echo", {"text": f"f{i}"})["id"] for i in range(12)]
        finals = client.wait(chain + fan_out, timeout=300)
        errors = {data_id: data["process_error"] for data_id, data in finals.items() if data["status"] != "OK"}
        assert not errors, errors
        assert finals[chain[-1]]["output"] == {"ran": True}
        server_log = (running.home / "prefect" / "server.log").read_text(errors="replace")
        assert "database is locked" not in server_log
        assert (running.home / "db.sqlite3").is_file() and (running.home / "prefect" / "prefect.db").is_file()
