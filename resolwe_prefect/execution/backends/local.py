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
import inspect
import os
import pwd
import shutil
import signal
from pathlib import Path

from django.conf import settings

from .base import OutputLine, ProgramJob, ProgramResult

SECRETS_MOUNT = "/secrets"
OUTPUT_CHUNK = 64 * 1024
# Runs inside the new mount namespace, before the program: bind the run's
# secrets (read-only) where Resolwe programs expect them.
_MOUNT_SECRETS = (
    'mkdir -p /secrets && mount --bind "$RESOLWE_SECRETS_SOURCE" /secrets '
    '&& mount -o remount,bind,ro /secrets && unset RESOLWE_SECRETS_SOURCE && exec "$@"'
)


class LocalBackend:
    """``bash script.sh`` in the Data directory, stdout and stderr merged."""

    name = "local"

    def program_path(self, job_data_dir: Path, host_path: Path) -> str:
        return str(host_path)

    @staticmethod
    def run_as() -> pwd.struct_passwd | None:
        """The unprivileged user programs run as, when we are root and one is configured."""
        name = settings.FLOW_EXECUTOR.get("RUN_AS", "nobody")
        if os.geteuid() != 0 or not name or shutil.which("setpriv") is None:
            return None
        return pwd.getpwnam(name)

    @staticmethod
    def hand_over(job: ProgramJob, user: pwd.struct_passwd) -> None:
        """Give the program's user its own directories (and nothing else of ours).

        Every directory above them must let others pass (``o+x``): we say so
        rather than loosen permissions we did not set.
        """
        for top in (job.data_dir, job.runtime_dir):
            for parent in Path(top).resolve().parents:
                mode = parent.stat()
                if not mode.st_mode & 0o001 and mode.st_uid != user.pw_uid:
                    raise PermissionError(
                        f"Programs run as {user.pw_name!r}, who cannot reach {top}: {parent} is not "
                        f"traversable by others (chmod o+x it, or set RESOLWE_PREFECT_RUN_AS='' to run programs as root)."
                    )
        for top in (job.data_dir, job.runtime_dir):
            for root, dirs, files in os.walk(top):
                for name in (root, *(os.path.join(root, d) for d in dirs), *(os.path.join(root, f) for f in files)):
                    os.chown(name, user.pw_uid, user.pw_gid, follow_symlinks=False)

    def command(self, job: ProgramJob, script_path: Path) -> tuple[list[str], dict[str, str]]:
        """The full command line: user, limits and namespaces around ``bash script.sh``."""
        command = ["bash", "--noprofile", "--norc", str(script_path)]
        env = dict(job.env)
        user = self.run_as()
        if user is not None:
            self.hand_over(job, user)
            env["USER"] = env["LOGNAME"] = user.pw_name
            command = ["setpriv", f"--reuid={user.pw_uid}", f"--regid={user.pw_gid}", "--clear-groups", "--", *command]
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
        """Hand output over line by line; a line longer than the buffer goes out in pieces."""
        assert process.stdout is not None
        pending = b""
        while True:
            chunk = await process.stdout.read(OUTPUT_CHUNK)
            if not chunk:
                break
            pending += chunk
            *lines, pending = pending.split(b"\n")
            pieces = [line + b"\n" for line in lines]
            if len(pending) >= OUTPUT_CHUNK:
                pieces.append(pending)
                pending = b""
            for piece in pieces:
                result = on_output(piece.decode(errors="replace"))
                if inspect.isawaitable(result):
                    await result
        if pending:
            result = on_output(pending.decode(errors="replace"))
            if inspect.isawaitable(result):
                await result

    @staticmethod
    def _kill(process: asyncio.subprocess.Process) -> None:
        try:
            os.killpg(process.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
