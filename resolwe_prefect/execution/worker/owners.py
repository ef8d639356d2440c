"""How a worker names itself in the flow runs it claims, and how another tells it is gone.

Every worker records itself in its runs' ``infrastructure_pid``: host, pid
and process start time, so that a reused pid is never taken for a live owner.
"""

from __future__ import annotations

import os
import socket
from pathlib import Path

OWNER_PREFIX = "resolwe-worker"


def _start_ticks(pid: int) -> str | None:
    """A process's start time (``/proc/<pid>/stat`` field 22): tells a live owner from a reused pid."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    return stat.rsplit(")", 1)[-1].split()[19]


def owner_token(pid: int | None = None) -> str:
    """How a worker names itself in its flow runs' ``infrastructure_pid``: host, pid and start time."""
    pid = os.getpid() if pid is None else pid
    return f"{OWNER_PREFIX}:{socket.gethostname()}:{pid}:{_start_ticks(pid)}"


def owner_alive(token: str | None) -> bool | None:
    """Is the worker named by ``token`` still running? ``None`` when this host cannot tell."""
    if not token or not token.startswith(OWNER_PREFIX + ":"):
        return None
    try:
        _prefix, host, pid, ticks = token.split(":", 3)
    except ValueError:
        return None
    if host != socket.gethostname() or not pid.isdigit():
        return None
    return _start_ticks(int(pid)) == ticks
