"""Tests of resolwe_prefect.runtime (re-* utilities, reports, collection).

``run_program`` runs a bash process program the way the runner does: the
preamble, then the program, through ``bash --login`` (stdin) in the data
directory, with RESOLWE_COMMANDS_FILE outside of it.
"""

from __future__ import annotations

import os
import subprocess
from dataclasses import dataclass
from pathlib import Path

from resolwe_prefect.runtime import (
    CollectResult,
    CommandReader,
    ProcessReport,
    bin_dir,
    collect_outputs,
    ensure_executable,
    program_preamble,
)

SHELLS = [shell for shell in ("/bin/sh", "/usr/bin/dash", "/bin/bash") if os.path.exists(shell)]


@dataclass
class Run:
    returncode: int
    report: ProcessReport
    result: CollectResult
    data_dir: Path
    stdout: str
    stderr: str


def run_program(
    program: str,
    tmp_path: Path,
    output_schema: list[dict] | None = None,
    env: dict | None = None,
    collect: bool = True,
) -> Run:
    ensure_executable()
    data_dir = tmp_path / "data"
    data_dir.mkdir(exist_ok=True)
    commands_file = tmp_path / "commands.bin"
    script = program_preamble(bin_dir()) + program
    full_env = dict(os.environ)
    full_env["RESOLWE_COMMANDS_FILE"] = str(commands_file)
    full_env.update(env or {})
    proc = subprocess.run(
        ["bash", "--login"],
        input=script,
        text=True,
        capture_output=True,
        cwd=data_dir,
        env=full_env,
        timeout=120,
    )
    (data_dir / "stdout.txt").write_text(proc.stdout)
    report = ProcessReport()
    report.apply_all(CommandReader(commands_file).read_new())
    result = None
    if collect:
        result = collect_outputs(
            report,
            output_schema=output_schema or [],
            data_dir=data_dir,
            return_code=proc.returncode,
        )
    return Run(proc.returncode, report, result, data_dir, proc.stdout, proc.stderr)
