"""End to end on the laptop's embedded default: nothing configured, so Django and Prefect both on SQLite.

The rest of ``tests/e2e`` runs on PostgreSQL; these tests make sure the
README's first command works where nothing is set up, and that the Prefect
server's SQLite writes queue instead of failing (see
``resolwe_prefect/commands/prefect_server.py``).
"""

from __future__ import annotations

import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

from .conftest import ADMIN_PASSWORD, embedded_default_env, free_port, running_stack

pytestmark = pytest.mark.e2e


def test_demo_command_sets_up_and_runs_on_sqlite():
    """``resolwe-prefect demo`` (what ``make demo`` runs) starts its own stack and ends with every object OK."""
    with tempfile.TemporaryDirectory(prefix="resolwe-prefect-demo-") as directory:
        home = Path(directory)
        home.chmod(0o755)
        env = {**embedded_default_env(home), "RESOLWE_PREFECT_ADMIN_PASSWORD": ADMIN_PASSWORD}
        url = f"http://127.0.0.1:{free_port()}"
        result = subprocess.run(
            [sys.executable, "-m", "resolwe_prefect.cli", "demo", "--url", url, "--prefect-port", str(free_port())],
            env=env, capture_output=True, text=True, timeout=600,
        )  # fmt: skip
        assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
        assert "demo: all Data objects OK" in result.stdout
        for name in ("word-count", "line-count", "count-summary"):
            assert name in result.stdout
        assert (home / "db.sqlite3").is_file()
        assert (home / "prefect" / "prefect.db").is_file()


def test_dependent_objects_on_sqlite_never_hit_a_locked_database():
    """A chain and a fan-out at once: every object OK, and the Prefect server never answered 'database is locked'.

    Before write transactions took the lock up front, most flow-run creations
    on a busy SQLite server failed with a 503 and were retried after 2 s.
    """
    with running_stack("sqlite", sqlite=True, extra_env={"PREFECT_API_LOG_RETRYABLE_ERRORS": "true"}) as running:
        from resolwe_prefect.commands.demo import ApiClient

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
