"""The local backend's sandbox: bubblewrap around every program, slirp4netns for its network.

A program started by the local backend sees the same layout as in a
container (``container_path``): its Data directory at ``/data``, its inputs
read-only at ``/inputs/<id>``, its side of the run at ``/runtime``, the
``re-*`` utilities at ``/opt/resolwe/bin`` (and, for a Python process,
Resolwe's Python runtime at ``/opt/resolwe/python`` and at Resolwe's own
``/python_runtime``), its declared secrets at
``/secrets``, the host's system directories read-only, and a private
``/tmp``, ``/proc`` and ``/dev``. Nothing else of the host exists for it:
not the state directory, not other Data, not the databases, not the host's
processes. Because its directories are bind-mounted, it reaches them
whatever the permissions of the directories above them (a state directory
in a private home works).

Its processes live in a PID namespace of their own whose first process is
bubblewrap: when the program ends, or bubblewrap is killed (cancel, time
limit, a dead worker through ``--die-with-parent``), the kernel kills every
process the program started.

Network is off (an empty network namespace) unless the process declares
``resources.network``; then slirp4netns connects the namespace to the
outside through user-mode NAT, with the host's loopback cut off, so a
program cannot reach the API, the Prefect server or a database listening on
``127.0.0.1``.
"""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import time
from pathlib import Path

from django.conf import settings

from .base import BIN_MOUNT, PYTHON_MOUNTS, ProgramJob, python_runtime
from .identity import ProgramIdentity
from .tools import TOOLS_MOUNT, needs_python_runtime, tools_mounts

#: Host directories every program may read (when they exist); links among them are kept as links.
SYSTEM_PATHS = ("/usr", "/bin", "/sbin", "/lib", "/lib32", "/lib64", "/libx32", "/etc")
SECRETS_MOUNT = "/secrets"
INFO_TIMEOUT = 30.0


class SandboxUnavailable(RuntimeError):
    """The host lacks what the sandbox needs; the message says what to install or set."""


def sandbox_mode() -> str:
    """``bwrap`` (default): every program in a sandbox; ``none``: programs run as we do (trusted code only)."""
    return str(settings.FLOW_EXECUTOR.get("SANDBOX") or "bwrap").lower()


def require(tool: str, package: str) -> str:
    path = shutil.which(tool)
    if path is None:
        raise SandboxUnavailable(
            f"The local backend runs programs in a sandbox and needs {tool!r} (Debian package {package}; "
            f"`make demo` and `make test` install it when run as root). Install it, or set "
            f"RESOLWE_PREFECT_SANDBOX=none to run trusted programs without isolation."
        )
    return path


def _read_only_mounts(paths: list[str]) -> list[str]:
    arguments: list[str] = []
    for path in paths:
        host = Path(path)
        if host.is_symlink():
            arguments += ["--symlink", os.readlink(host), path]
        elif host.exists():
            arguments += ["--ro-bind", path, path]
    return arguments


def bwrap_command(
    job: ProgramJob,
    program: list[str],
    *,
    identity: ProgramIdentity | None,
    passwd: Path,
    group: Path,
    bin_dir: str,
    info_fd: int | None = None,
    block_fd: int | None = None,
) -> list[str]:
    """The bubblewrap command line that runs ``program`` in the job's sandbox.

    As root, the sandbox keeps only the capabilities needed to switch to the
    run's ``identity``, which ``setpriv`` does as the last step before the
    program (dropping every capability and the bounding set with it). Without
    root there is no identity to switch to: a user namespace keeps ours.
    """
    command = [require("bwrap", "bubblewrap")]
    command += ["--die-with-parent", "--new-session", "--unshare-pid", "--unshare-ipc", "--unshare-uts",
                "--unshare-cgroup-try", "--unshare-net", "--hostname", "resolwe"]  # fmt: skip
    command += _read_only_mounts(list(SYSTEM_PATHS))
    command += ["--ro-bind", str(passwd), "/etc/passwd", "--ro-bind", str(group), "/etc/group"]
    command += ["--proc", "/proc", "--dev", "/dev", "--perms", "1777", "--tmpfs", "/tmp"]
    # After /tmp: a site's extra paths may lie under it (or under anything mounted above), and the
    # directories leading to them must let the program through (bubblewrap would make them 0700).
    extra = [str(p) for p in settings.FLOW_EXECUTOR.get("SANDBOX_READ_ONLY_PATHS") or []]
    for path in extra:
        for parent in reversed(Path(path).parents[:-1]):
            command += ["--perms", "0755", "--dir", str(parent)]
    command += _read_only_mounts(extra)
    # bubblewrap makes the parents of mount points 0700: make ours traversable first.
    tools = tools_mounts()
    for directory in ("/opt", "/opt/resolwe", *([TOOLS_MOUNT] if tools else []), "/inputs"):
        command += ["--perms", "0755", "--dir", directory]
    command += ["--bind", str(job.data_dir), "/data", "--bind", str(job.runtime_dir), "/runtime"]
    command += ["--ro-bind", bin_dir, BIN_MOUNT]
    for host, mount in tools:
        command += ["--ro-bind", str(host), mount]
    if needs_python_runtime(job.language):
        runtime = str(python_runtime())
        for mount in PYTHON_MOUNTS:
            command += ["--ro-bind", runtime, mount]
    for input_dir in job.input_dirs:
        if Path(input_dir).is_dir():
            command += ["--ro-bind", str(input_dir), f"/inputs/{Path(input_dir).name}"]
    if job.secrets_dir is not None:
        command += ["--ro-bind", str(job.secrets_dir), SECRETS_MOUNT]
    command += ["--chdir", "/data"]
    if info_fd is not None:
        command += ["--info-fd", str(info_fd)]
    if block_fd is not None:
        command += ["--block-fd", str(block_fd)]
    if identity is None:
        command += ["--unshare-user"]
    else:
        command += ["--cap-add", "CAP_SETUID", "--cap-add", "CAP_SETGID", "--"]
        command += [require("setpriv", "util-linux"), f"--reuid={identity.uid}", f"--regid={identity.gid}",
                    "--clear-groups", "--inh-caps=-all", "--bounding-set=-all"]  # fmt: skip
    return [*command, "--", *program]


async def read_child_pid(info_fd: int) -> int:
    """The sandbox's first process, from bubblewrap's ``--info-fd`` JSON."""

    def read() -> int:
        data = b""
        while b"}" not in data:
            chunk = os.read(info_fd, 4096)
            if not chunk:
                break
            data += chunk
        return int(json.loads(data.decode() or "{}")["child-pid"])

    return await asyncio.wait_for(asyncio.to_thread(read), timeout=INFO_TIMEOUT)


LOOPBACK_WAIT = 2.0


def _loopback_settled(pid: int) -> bool:
    """Whether ``lo`` of ``pid``'s namespace is up (``::1`` listed), or there is nothing to wait for."""
    try:
        lines = Path(f"/proc/{pid}/net/if_inet6").read_text().splitlines()
    except FileNotFoundError:
        return not Path(f"/proc/{pid}").exists()  # the child is gone: bubblewrap reports why
    except OSError:
        return True
    return any(line.split()[-1] == "lo" for line in lines if line.strip())


async def _loopback_up(pid: int) -> None:
    """Wait until bubblewrap has brought up the namespace's loopback.

    bubblewrap reports the child's pid before the child has configured ``lo``; slirp4netns
    ``--configure`` brings ``lo`` up too, and when both do so at once bubblewrap's netlink request
    fails ("loopback: Failed RTM_NEWADDR") and the program never starts. Without IPv6 there is
    nothing to watch, and the wait ends after :data:`LOOPBACK_WAIT` seconds.
    """
    deadline = time.monotonic() + LOOPBACK_WAIT
    for _ in range(int(LOOPBACK_WAIT / 0.005)):
        if _loopback_settled(pid) or time.monotonic() > deadline:
            return
        await asyncio.sleep(0.005)


class Network:
    """slirp4netns serving one sandbox's network namespace; it ends when closed or when we die."""

    def __init__(self) -> None:
        self._process: asyncio.subprocess.Process | None = None
        self._exit_w: int | None = None

    async def attach(self, pid: int) -> None:
        """Give the namespace of ``pid`` a NATed interface without the host's loopback; wait until it is up."""
        await _loopback_up(pid)
        slirp = require("slirp4netns", "slirp4netns")
        ready_r, ready_w = os.pipe()
        exit_r, self._exit_w = os.pipe()
        try:
            self._process = await asyncio.create_subprocess_exec(
                slirp, "--configure", "--mtu=65520", "--disable-host-loopback",
                "--ready-fd", str(ready_w), "--exit-fd", str(exit_r), str(pid), "tap0",
                stdin=asyncio.subprocess.DEVNULL, stdout=asyncio.subprocess.DEVNULL,
                stderr=asyncio.subprocess.DEVNULL, pass_fds=(ready_w, exit_r),
            )  # fmt: skip
        finally:
            os.close(ready_w)
            os.close(exit_r)
        try:
            ready = await asyncio.wait_for(asyncio.to_thread(os.read, ready_r, 1), timeout=INFO_TIMEOUT)
        finally:
            os.close(ready_r)
        if ready != b"1":
            raise SandboxUnavailable("slirp4netns could not set up the program's network.")

    async def close(self) -> None:
        if self._exit_w is not None:
            os.close(self._exit_w)  # slirp4netns exits when this end closes
            self._exit_w = None
        if self._process is not None and self._process.returncode is None:
            try:
                await asyncio.wait_for(self._process.wait(), timeout=5)
            except TimeoutError:
                self._process.kill()
                await self._process.wait()
