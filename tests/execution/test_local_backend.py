"""The local backend: a subprocess with exactly the environment it is given."""

import asyncio
import os
import tempfile
from pathlib import Path

import pytest

from resolwe_prefect.execution.backends import ProgramJob, get_backend


@pytest.fixture(autouse=True)
def as_root(settings):
    """Most tests look at the mechanics; privilege dropping has its own tests below."""
    settings.FLOW_EXECUTOR = {**settings.FLOW_EXECUTOR, "RUN_AS": ""}


def run(job: ProgramJob) -> tuple[int, str | None, list[str]]:
    lines: list[str] = []
    result = asyncio.run(get_backend("local").run(job, lines.append))
    return result.return_code, result.message, lines


def job(tmp_path: Path, script: str, **kwargs) -> ProgramJob:
    data_dir, runtime_dir = tmp_path / "data", tmp_path / "runtime"
    data_dir.mkdir()
    runtime_dir.mkdir()
    return ProgramJob(data_id=1, script=script, data_dir=data_dir, runtime_dir=runtime_dir,
                      env={"PATH": "/usr/bin:/bin", "ONLY": "this"}, **kwargs)


def test_stdout_and_stderr_are_streamed_and_rc_returned(tmp_path):
    rc, message, lines = run(job(tmp_path, "echo out; echo err >&2; pwd; exit 4"))
    assert rc == 4 and message is None
    assert lines[:2] == ["out\n", "err\n"]
    assert lines[2].strip() == str(tmp_path / "data")


def test_environment_is_only_what_the_job_gives(tmp_path):
    _rc, _message, lines = run(job(tmp_path, "env | cut -d= -f1 | sort"))
    names = {line.strip() for line in lines}
    assert {"PATH", "ONLY"} <= names
    assert not {n for n in names if n.startswith(("PREFECT", "DATABASE", "DJANGO"))}


def test_timeout_kills_the_program(tmp_path):
    rc, message, _lines = run(job(tmp_path, "sleep 30", timeout=0.5))
    assert rc != 0
    assert "time limit" in message


needs_root = pytest.mark.skipif(os.geteuid() != 0, reason="dropping privileges needs root")


@needs_root
def test_program_runs_as_the_unprivileged_user(settings):
    settings.FLOW_EXECUTOR = {**settings.FLOW_EXECUTOR, "RUN_AS": "nobody"}
    top = Path(tempfile.mkdtemp())
    top.chmod(0o755)
    rc, message, lines = run(job(top, "id -u; touch made-here"))
    assert (rc, message) == (0, None)
    assert lines[-1].strip() == "65534"
    assert (top / "data" / "made-here").stat().st_uid == 65534


@needs_root
def test_unreachable_data_directory_is_a_clear_error(settings, tmp_path):
    settings.FLOW_EXECUTOR = {**settings.FLOW_EXECUTOR, "RUN_AS": "nobody"}
    hidden = tmp_path / "hidden"
    hidden.mkdir(mode=0o700)
    rc, message, _lines = run(job(hidden, "true"))
    assert rc == 1
    assert "not traversable by others" in message
