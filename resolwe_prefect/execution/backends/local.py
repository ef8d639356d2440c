"""Run a program as a local subprocess with a scrubbed environment.

The embedded default. Isolation is what the host offers without
containers: the environment is scrubbed, memory is capped with
``RLIMIT_DATA`` (``prlimit``), and, when we run as root, the program gets
private mount and network namespaces (``unshare``), so the network is off
unless the process asks for it and ``/secrets`` shows only its own secrets,
and it runs as an unprivileged user (``FLOW_EXECUTOR["RUN_AS"]``, default
``nobody``) that owns only its own Data directory.
Containers come through the Docker and Kubernetes backends.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import signal
from pathlib import Path

from django.conf import settings

from .base import OUTPUT_CHUNK, OutputLine, ProgramJob, ProgramResult, hand_over, relay_lines, user_ids

SECRETS_MOUNT = "/secrets"
PID_FILE = "program.pid"
# Runs inside the new mount namespace, before the program: bind the run's
# secrets (read-only) where Resolwe programs expect them.
_MOUNT_SECRETS = (
    'mkdir -p /secrets && mount --bind "$RESOLWE_SECRETS_SOURCE" /secrets '
    '&& mount -o remount,bind,ro /secrets && unset RESOLWE_SECRETS_SOURCE && exec "$@"'
)


class LocalBackend:
    """``bash script.sh`` in the Data directory, stdout and stderr merged."""

    name = "local"

    def program_path(self, host_path: Path, *, data_dir: Path, runtime_dir: Path) -> str:
        return str(host_path)

    def bin_dir(self) -> str:
        from resolwe_prefect.runtime.preamble import bin_dir

        return str(bin_dir())

    @staticmethod
    def run_as() -> tuple[int, int, str] | None:
        """The unprivileged user programs run as, when we are root and one is configured."""
        spec = settings.FLOW_EXECUTOR.get("RUN_AS", "nobody")
        if os.geteuid() != 0 or not spec or shutil.which("setpriv") is None:
            return None
        return user_ids(spec)

    def command(self, job: ProgramJob, script_path: Path) -> tuple[list[str], dict[str, str]]:
        """The full command line: user, limits and namespaces around ``bash script.sh``."""
        command = ["bash", "--noprofile", "--norc", str(script_path)]
        env = dict(job.env)
        user = self.run_as()
        if user is not None:
            uid, gid, name = user
            hand_over(job, uid, gid, name)
            env["USER"] = env["LOGNAME"] = name
            command = ["setpriv", f"--reuid={uid}", f"--regid={gid}", "--clear-groups", "--", *command]
        if job.memory_mb and shutil.which("prlimit"):
            limit = int(job.memory_mb) * 1024 * 1024
            command = ["prlimit", f"--data={limit}:{limit}", "--", *command]
        can_unshare = os.geteuid() == 0 and shutil.which("unshare") is not None
        if job.secrets_dir is not None and not can_unshare:
            raise PermissionError(
                "The local backend can give a program its secrets only when it runs as root "
                "(it mounts them at /secrets in a private mount namespace); use the docker backend."
            )
        if can_unshare:
            unshare = ["unshare", "--mount", "--propagation", "private"]
            if not job.network:
                unshare.append("--net")
            if job.secrets_dir is not None:
                env["RESOLWE_SECRETS_SOURCE"] = str(job.secrets_dir)
                command = ["sh", "-c", _MOUNT_SECRETS, "sh", *command]
            command = [*unshare, "--", *command]
        return command, env

    async def run(self, job: ProgramJob, on_output: OutputLine) -> ProgramResult:
        script_path = job.runtime_dir / "script.sh"
        script_path.write_text(job.script)
        try:
            command, env = self.command(job, script_path)
        except PermissionError as error:
            return ProgramResult(return_code=1, message=str(error))
        process = await asyncio.create_subprocess_exec(
            *command,
            cwd=job.data_dir,
            env=env,
            stdin=asyncio.subprocess.DEVNULL,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.STDOUT,
            start_new_session=True,
        )
        # The program outlives a worker that is killed; the worker that
        # recovers the run finds it by this file (see ``abandon``).
        (job.runtime_dir / PID_FILE).write_text(f"{process.pid}\n")
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
    def abandon(data_id: int, runtime_dir: str) -> None:
        """Kill the process group of a program left behind by a dead worker, if it still runs.

        The pid is trusted only while its command line still names this run's
        script, so a reused pid is never killed.
        """
        script = str(Path(runtime_dir) / "script.sh")
        try:
            pid = int((Path(runtime_dir) / PID_FILE).read_text().strip())
            cmdline = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
        except (OSError, ValueError):
            return
        if script.encode() not in cmdline:
            return
        try:
            os.killpg(pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass

    @staticmethod
    async def _pump(process: asyncio.subprocess.Process, on_output: OutputLine) -> None:
        assert process.stdout is not None

        async def chunks():
            while chunk := await process.stdout.read(OUTPUT_CHUNK):
                yield chunk

        await relay_lines(chunks(), on_output)

    @staticmethod
    def _kill(process: asyncio.subprocess.Process) -> None:
        try:
            os.killpg(process.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
