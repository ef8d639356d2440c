"""Run a program on this host, in a bubblewrap sandbox, with a scrubbed environment.

The embedded default. Each program gets an identity of its own
(``identity.py``) and sees only what ``sandbox.py`` mounts for it, laid out
as in a container; memory is capped with ``RLIMIT_DATA`` (``prlimit``).
``FLOW_EXECUTOR["SANDBOX"] = "none"`` runs programs as we run, on the host's
own paths: for a developer's trusted processes only.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import signal
from pathlib import Path

from django.conf import settings

from resolwe_prefect.data import layout

from .base import (
    BIN_MOUNT,
    OUTPUT_CHUNK,
    PYTHON_MOUNT,
    ChannelEndpoint,
    OutputLine,
    ProgramJob,
    ProgramResult,
    container_path,
    python_runtime,
    relay_lines,
)
from .identity import ProgramIdentity, give_to_program, identity_files, program_identity, reclaim, seal
from .sandbox import Network, SandboxUnavailable, bwrap_command, read_child_pid, sandbox_mode
from .tools import tools_mounts

PID_FILE = "program.pid"
PROGRAM_SCRIPT = "/runtime/script.sh"


class LocalBackend:
    """``bash script.sh`` in the Data directory, stdout and stderr merged."""

    name = "local"

    @staticmethod
    def sandboxed() -> bool:
        return sandbox_mode() != "none"

    def program_path(self, host_path: Path, *, data_dir: Path, runtime_dir: Path) -> str:
        if not self.sandboxed():
            return str(host_path)
        return container_path(host_path, data_dir=data_dir, runtime_dir=runtime_dir, data_root=layout.data_root())

    def bin_dir(self) -> str:
        if self.sandboxed():
            return BIN_MOUNT
        from resolwe_prefect.runtime.preamble import bin_dir

        return str(bin_dir())

    def python_path(self) -> str:
        if self.sandboxed():
            return PYTHON_MOUNT
        return str(python_runtime())  # trusted programs on the host's paths

    def tools_path(self) -> list[str]:
        if self.sandboxed():
            return [mount for _host, mount in tools_mounts()]
        return [str(host) for host, _mount in tools_mounts()]

    def channel_endpoint(self) -> ChannelEndpoint | None:
        return None

    @staticmethod
    def identity(job: ProgramJob) -> ProgramIdentity | None:
        """The run's own identity when we are root (``RUN_AS`` pins one for every run); else none."""
        if os.geteuid() != 0:
            return None
        return program_identity(job.data_id, settings.FLOW_EXECUTOR.get("RUN_AS") or None)

    @staticmethod
    def limited(job: ProgramJob, program: list[str]) -> list[str]:
        if job.memory_mb and shutil.which("prlimit"):
            limit = int(job.memory_mb) * 1024 * 1024
            return ["prlimit", f"--data={limit}:{limit}", "--", *program]
        return program

    def command(self, job: ProgramJob, info_fd: int | None = None, block_fd: int | None = None) -> list[str]:
        """The full command line: sandbox, identity and limits around ``bash script.sh``."""
        if not self.sandboxed():
            if job.secrets_dir is not None:
                raise SandboxUnavailable(
                    "Secrets reach programs only inside the sandbox (RESOLWE_PREFECT_SANDBOX=none)."
                )
            return self.limited(job, ["bash", "--noprofile", "--norc", str(job.runtime_dir / "script.sh")])
        from resolwe_prefect.runtime.preamble import bin_dir

        identity = self.identity(job)
        shown = identity or ProgramIdentity(os.getuid(), os.getgid())
        passwd, group = identity_files(shown, job.runtime_dir / "identity")
        if identity is not None:
            give_to_program(identity, job.data_dir, job.runtime_dir)
        program = self.limited(job, ["bash", "--noprofile", "--norc", PROGRAM_SCRIPT])
        return bwrap_command(job, program, identity=identity, passwd=passwd, group=group, bin_dir=bin_dir(),
                             info_fd=info_fd, block_fd=block_fd)  # fmt: skip

    async def run(self, job: ProgramJob, on_output: OutputLine) -> ProgramResult:
        (job.runtime_dir / "script.sh").write_text(job.script)
        network = Network() if job.network and self.sandboxed() else None
        info_r = info_w = block_r = block_w = None
        if network is not None:
            info_r, info_w = os.pipe()
            block_r, block_w = os.pipe()
        try:
            try:
                command = self.command(job, info_w, block_r)
            except (SandboxUnavailable, PermissionError) as error:
                return ProgramResult(return_code=1, message=str(error))
            process = await asyncio.create_subprocess_exec(
                *command,
                cwd=job.data_dir,
                env=job.env,
                stdin=asyncio.subprocess.DEVNULL,
                stdout=asyncio.subprocess.PIPE,
                stderr=asyncio.subprocess.STDOUT,
                start_new_session=True,
                pass_fds=tuple(fd for fd in (info_w, block_r) if fd is not None),
            )
            for fd in (info_w, block_r):
                if fd is not None:
                    os.close(fd)
            info_w = block_r = None
            # The worker that recovers a lost run finds the program by this file (see ``abandon``).
            (job.runtime_dir / PID_FILE).write_text(f"{process.pid}\n")
            if network is not None:
                assert info_r is not None and block_w is not None
                try:
                    await network.attach(await read_child_pid(info_r))
                except (TimeoutError, SandboxUnavailable, OSError, ValueError, KeyError) as error:
                    self._kill(process)
                    await process.wait()
                    return ProgramResult(return_code=1, message=f"Could not give the program its network: {error}")
                os.write(block_w, b"1")
            return await self._follow(process, job, on_output)
        finally:
            for fd in (info_r, info_w, block_r, block_w):
                if fd is not None:
                    os.close(fd)
            if network is not None:
                await network.close()
            if self.sandboxed():
                seal(job.data_dir)
                reclaim(job.runtime_dir)

    async def _follow(
        self, process: asyncio.subprocess.Process, job: ProgramJob, on_output: OutputLine
    ) -> ProgramResult:
        try:
            await asyncio.wait_for(self._pump(process, on_output), timeout=job.timeout)
            return_code = await process.wait()
        except TimeoutError:
            self._kill(process)
            await process.wait()
            return ProgramResult(
                return_code=-signal.SIGKILL, message=f"Process exceeded the time limit of {job.timeout:g} s."
            )
        except asyncio.CancelledError:
            self._kill(process)
            # Sealing the directory must wait until nothing of the program runs.
            await asyncio.shield(process.wait())
            raise
        if return_code < 0:
            return ProgramResult(return_code, message=f"Process was killed by signal {-return_code}.")
        return ProgramResult(return_code)

    @staticmethod
    def abandon(data_id: int, runtime_dir: str) -> None:
        """Kill a program left behind by a dead worker, if it still runs.

        The pid is trusted only while its command line still names this run's
        runtime directory, so a reused pid is never killed. Killing the
        sandbox's outer process ends its PID namespace, and every process in it.
        """
        try:
            pid = int((Path(runtime_dir) / PID_FILE).read_text().strip())
            cmdline = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
        except (OSError, ValueError):
            return
        marks = (str(Path(runtime_dir)).encode(), str(Path(runtime_dir) / "script.sh").encode())
        if not any(mark in cmdline for mark in marks):
            return
        try:
            os.killpg(pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass

    @staticmethod
    async def _pump(process: asyncio.subprocess.Process, on_output: OutputLine) -> None:
        assert process.stdout is not None
        stdout = process.stdout

        async def chunks():
            while chunk := await stdout.read(OUTPUT_CHUNK):
                yield chunk

        await relay_lines(chunks(), on_output)

    @staticmethod
    def _kill(process: asyncio.subprocess.Process) -> None:
        try:
            os.killpg(process.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
