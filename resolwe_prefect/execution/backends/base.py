"""The seam between a flow run and the place its program runs."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol


@dataclass
class ProgramJob:
    """Everything a backend needs to run one program, and nothing it must not see."""

    data_id: int
    script: str                 # the rendered program, preamble included
    data_dir: Path              # the working directory; outputs are written here
    runtime_dir: Path           # our side: commands file, script, temp dir
    env: dict[str, str]         # the whole environment of the program (already scrubbed)
    cores: int = 1
    memory_mb: int = 4096
    network: bool = False
    image: str | None = None
    timeout: float | None = None
    input_mounts: dict[str, Path] = field(default_factory=dict)  # path in the program -> host path (read-only)
    secrets_dir: Path | None = None  # files the program reads as /secrets/<handle>


@dataclass
class ProgramResult:
    """How the program ended; ``message`` explains an abnormal end (killed, timed out, ...)."""

    return_code: int
    message: str | None = None


OutputLine = Callable[[str], Awaitable[None] | None]


class Backend(Protocol):
    """Runs a program to its end, streaming its output lines to ``on_output``."""

    name: str

    def program_path(self, job_data_dir: Path, host_path: Path) -> str:
        """The path under which the program sees ``host_path``."""

    async def run(self, job: ProgramJob, on_output: OutputLine) -> ProgramResult:
        """Run the program and return its exit status; must not raise for a failing program."""
