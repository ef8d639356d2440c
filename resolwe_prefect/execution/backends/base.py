"""The seam between a flow run and the place its program runs.

A backend answers two questions: where does the program see a file of ours
(``program_path``, ``bin_dir``), and how does it run (``run``). The flow's
tasks speak only in host paths and ask the backend for the program's view.
"""

from __future__ import annotations

import inspect
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol


@dataclass
class ProgramJob:
    """Everything a backend needs to run one program, and nothing it must not see."""

    data_id: int
    script: str  # the rendered program, preamble included
    data_dir: Path  # the working directory; outputs are written here
    runtime_dir: Path  # our side: commands file, script, temp dir
    env: dict[str, str]  # the whole environment of the program (already scrubbed)
    cores: int = 1
    memory_mb: int = 4096
    network: bool = False
    image: str | None = None
    timeout: float | None = None
    scheduling_class: str = "BA"  # Resolwe's IN (interactive) or BA (batch)
    input_dirs: list[Path] = field(default_factory=list)  # Data directories of the inputs (read-only)
    secrets_dir: Path | None = None  # files the program reads as /secrets/<handle>
    language: str = "bash"  # "python": the Python runtime is mounted at PYTHON_MOUNT
    channel_token: str | None = None  # the TCP channel's per-run token (never in ``env``: the backend hands it over)


@dataclass
class ProgramResult:
    """How the program ended; ``message`` explains an abnormal end (killed, timed out, ...)."""

    return_code: int
    message: str | None = None


OutputLine = Callable[[str], Awaitable[None] | None]
OUTPUT_CHUNK = 64 * 1024


async def relay_lines(chunks: AsyncIterator[bytes], on_output: OutputLine) -> None:
    """Hand a program's output over line by line; a line longer than one chunk goes out in pieces."""

    async def deliver(piece: bytes) -> None:
        result = on_output(piece.decode(errors="replace"))
        if inspect.isawaitable(result):
            await result

    pending = b""
    async for chunk in chunks:
        pending += chunk
        *lines, pending = pending.split(b"\n")
        for line in lines:
            await deliver(line + b"\n")
        if len(pending) >= OUTPUT_CHUNK:
            await deliver(pending)
            pending = b""
    if pending:
        await deliver(pending)


class Backend(Protocol):
    """Runs a program to its end, streaming its output lines to ``on_output``."""

    name: str

    def program_path(self, host_path: Path, *, data_dir: Path, runtime_dir: Path) -> str:
        """The path under which the program of the job with these directories sees ``host_path``."""

    def bin_dir(self) -> str:
        """Where the program finds the ``re-*`` utilities."""

    def python_path(self) -> str:
        """The ``PYTHONPATH`` of a Python process's program: where it finds Resolwe's Python runtime."""

    def tools_path(self) -> list[str]:
        """The tools directories on the program's ``PATH``, as the program sees them (``backends.tools``)."""

    def channel_endpoint(self) -> ChannelEndpoint | None:
        """Where the channel listens for this backend's programs: ``None`` for ``<runtime dir>/channel.sock``."""

    async def run(self, job: ProgramJob, on_output: OutputLine) -> ProgramResult:
        """Run the program and return its exit status; must not raise for a failing program."""


BIN_MOUNT = "/opt/resolwe/bin"
#: Resolwe's Python runtime (``resolwe.process``, plumbum), read-only, on the program's ``PYTHONPATH``.
PYTHON_MOUNT = "/opt/resolwe/python"
#: Where Resolwe itself mounts it; the runtime is there too, for processes that look (``ls / | grep python``).
RESOLWE_PYTHON_MOUNT = "/python_runtime"
PYTHON_MOUNTS = (PYTHON_MOUNT, RESOLWE_PYTHON_MOUNT)


@dataclass(frozen=True)
class ChannelEndpoint:
    """A TCP channel (programs in another pod): listen on ``bind``:``port``, tell the program ``host``."""

    bind: str
    port: int
    host: str


def python_runtime() -> Path:
    """The host directory to mount read-only at ``PYTHON_MOUNT``: it holds ``resolwe/``, ``plumbum/``
    and the packages of the site's registered runtimes (``FLOW_PROCESSES_RUNTIMES``).

    Built by ``runtime.python_runtime.runtime_dirs()`` (once per content).
    """
    from resolwe_prefect.runtime.python_runtime import runtime_dirs

    from .runtimes import registered_runtime_files

    dirs = [Path(path) for path in runtime_dirs(extra=registered_runtime_files())]
    if len(dirs) != 1:
        raise ValueError(f"The Python runtime must be one directory to mount at {PYTHON_MOUNT}, not {len(dirs)}.")
    return dirs[0]


def container_path(host_path: Path, *, data_dir: Path, runtime_dir: Path, data_root: Path) -> str:
    """Where a program in a container or pod sees one of our files.

    The layout both container backends use: the Data object's directory at
    ``/data``, our side of the run at ``/runtime``, input Data directories at
    ``/inputs/<id>``; nothing else of ours is visible.
    """
    host_path = Path(host_path)
    for root, mount in ((data_dir, "/data"), (runtime_dir, "/runtime")):
        if host_path == root or host_path.is_relative_to(root):
            return str(Path(mount) / host_path.relative_to(root))
    if host_path.is_relative_to(data_root):
        return str(Path("/inputs") / host_path.relative_to(data_root))
    raise ValueError(f"{host_path} is not visible to the program")
