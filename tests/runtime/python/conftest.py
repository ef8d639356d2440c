"""Run Python processes the way a backend does, without a database or Prefect.

``run_process`` writes ``run.json``, runs ``python3 -m resolwe.process.run``
as a subprocess in a fresh Data directory with ``PYTHONPATH`` = the assembled
runtime directory (exactly what is mounted at /opt/resolwe/python), the
``re-*`` utilities on ``PATH``, ``RESOLWE_COMMANDS_FILE`` outside the Data
directory and ``RESOLWE_CHANNEL`` pointing at a :class:`FakeChannel`.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from resolwe_prefect.runtime import bin_dir, ensure_executable
from resolwe_prefect.runtime.commands import Command, read_all
from resolwe_prefect.runtime.python_runtime import runner_command, runtime_dir
from resolwe_prefect.runtime.report import ProcessReport

from .fake_channel import FakeChannel

CONFORMANCE = Path(__file__).resolve().parents[3].parent / "shared" / "conformance"
CORPUS = CONFORMANCE / "processes" / "python"
FILES = CONFORMANCE / "files"


def _pythons() -> list[str]:
    """The venv's interpreter, the system python3 (3.9+) if present, and any in $RESOLWE_TEST_PYTHONS.

    ``RESOLWE_TEST_PYTHONS`` (``:``-separated paths) adds interpreters, e.g. a
    Python 3.9 to check the oldest version the runtime supports.
    """
    found = [sys.executable]
    candidates = ["/usr/bin/python3", *filter(None, os.environ.get("RESOLWE_TEST_PYTHONS", "").split(":"))]
    for candidate in candidates:
        if not os.path.exists(candidate) or any(os.path.realpath(candidate) == os.path.realpath(p) for p in found):
            continue
        check = subprocess.run(
            [candidate, "-c", "import sys; print(sys.version_info >= (3, 9))"], capture_output=True, text=True
        )
        if check.stdout.strip() == "True":
            found.append(candidate)
    return found


PYTHONS = _pythons()
#: For tests that run once: the system interpreter when there is one (no plumbum of its own).
PYTHON = PYTHONS[1] if len(PYTHONS) > 1 else PYTHONS[0]


@dataclass
class Run:
    returncode: int
    records: list[Command]
    stdout: str
    stderr: str
    data_dir: Path
    report: ProcessReport = field(default_factory=ProcessReport)

    def names(self) -> list[str]:
        return [record.name for record in self.records]

    def args(self, name: str) -> list[tuple[str, ...]]:
        return [record.args for record in self.records if record.name == name]

    @property
    def output(self) -> dict:
        return self.report.output

    @property
    def errors(self) -> list[str]:
        return self.args_of("error")

    def args_of(self, name: str) -> list[str]:
        return [args[0] for args in self.args(name)]


@pytest.fixture(scope="session")
def runtime_path(tmp_path_factory: pytest.TempPathFactory) -> Path:
    cache = tmp_path_factory.mktemp("python-runtime")
    cache.chmod(0o755)
    return runtime_dir(cache)


@pytest.fixture
def channel() -> Iterator[FakeChannel]:
    fake = FakeChannel().start()
    yield fake
    fake.stop()


@pytest.fixture
def run_process(tmp_path: Path, runtime_path: Path):
    """``run_process(source, slug, inputs=..., channel=..., python=...) -> Run``."""
    ensure_executable()
    counter = {"n": 0}

    def run(
        source: Path | str,
        slug: str,
        inputs: dict[str, Any] | None = None,
        *,
        channel: FakeChannel | None = None,
        python: str = PYTHON,
        data: dict[str, Any] | None = None,
        process: dict[str, Any] | None = None,
        requirements: dict[str, Any] | None = None,
        env: dict[str, str] | None = None,
        path_prefix: list[str] | None = None,
        prepare=None,
    ) -> Run:
        counter["n"] += 1
        base = tmp_path / f"run{counter['n']}"
        runtime = base / "runtime"
        data_dir = base / "data"
        runtime.mkdir(parents=True)
        data_dir.mkdir()
        if isinstance(source, str) and "\n" in source:
            source_path = runtime / "process.py"
            source_path.write_text(source)
        else:
            source_path = Path(source)
        spec = {
            "source": str(source_path),
            "slug": slug,
            "data": data or {"id": 42, "name": "Data 42", "slug": "data-42", "contributor_id": 1},
            "inputs": inputs or {},
            "requirements": requirements
            if requirements is not None
            else {"expression-engine": "jinja", "resources": {"cores": 2, "memory": 4096, "storage": 200}},
            "process": process or {"id": 5, "slug": slug, "version": "1.0.0", "type": "data:test:"},
        }
        run_json = runtime / "run.json"
        run_json.write_text(json.dumps(spec))
        commands = base / "commands.bin"
        full_env = {
            "PATH": os.pathsep.join([*(path_prefix or []), bin_dir(), os.environ.get("PATH", "/usr/bin:/bin")]),
            "HOME": str(base),
            "LANG": "C.UTF-8",
            "PYTHONPATH": str(runtime_path),
            "PYTHONDONTWRITEBYTECODE": "1",
            "RESOLWE_COMMANDS_FILE": str(commands),
        }
        if channel is not None:
            full_env["RESOLWE_CHANNEL"] = channel.address
        full_env.update(env or {})
        if prepare is not None:
            prepare(data_dir)
        proc = subprocess.run(
            runner_command(str(run_json), python=python),
            cwd=data_dir,
            env=full_env,
            capture_output=True,
            text=True,
            timeout=120,
        )
        records = read_all(commands)
        report = ProcessReport()
        report.apply_all(records)
        return Run(proc.returncode, records, proc.stdout, proc.stderr, data_dir, report)

    return run
