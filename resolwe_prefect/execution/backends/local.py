"""Run a program as a local subprocess with a scrubbed environment.

The embedded default. It gives no isolation beyond the environment: the
program sees the host's files. Containers come through the Docker and
Kubernetes backends.
"""

from __future__ import annotations

import asyncio
import inspect
import os
import signal
from pathlib import Path

from .base import OutputLine, ProgramJob, ProgramResult


class LocalBackend:
    """``bash script.sh`` in the Data directory, stdout and stderr merged."""

    name = "local"

    def program_path(self, job_data_dir: Path, host_path: Path) -> str:
        return str(host_path)

    async def run(self, job: ProgramJob, on_output: OutputLine) -> ProgramResult:
        script_path = job.runtime_dir / "script.sh"
        script_path.write_text(job.script)
        process = await asyncio.create_subprocess_exec(
            "bash",
            "--noprofile",
            "--norc",
            str(script_path),
            cwd=job.data_dir,
            env=job.env,
            stdin=asyncio.subprocess.DEVNULL,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.STDOUT,
            start_new_session=True,
        )
        try:
            await asyncio.wait_for(self._pump(process, on_output), timeout=job.timeout)
            return_code = await process.wait()
        except asyncio.TimeoutError:
            self._kill(process)
            await process.wait()
            return ProgramResult(return_code=-signal.SIGKILL, message=f"Process exceeded the time limit of {job.timeout:g} s.")
        except asyncio.CancelledError:
            self._kill(process)
            raise
        if return_code < 0:
            return ProgramResult(return_code, message=f"Process was killed by signal {-return_code}.")
        return ProgramResult(return_code)

    @staticmethod
    async def _pump(process: asyncio.subprocess.Process, on_output: OutputLine) -> None:
        assert process.stdout is not None
        while True:
            line = await process.stdout.readline()
            if not line:
                break
            result = on_output(line.decode(errors="replace"))
            if inspect.isawaitable(result):
                await result

    @staticmethod
    def _kill(process: asyncio.subprocess.Process) -> None:
        try:
            os.killpg(process.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
