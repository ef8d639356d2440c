"""Resident memory of a running stack, summed over its processes, read from /proc.

    python bench/memory.py PID [--seconds 5]    # sample the process tree under PID

psutil is not in the project's virtualenv, and the benchmark must not add a
dependency, so this reads ``/proc/<pid>/statm`` and ``/proc/<pid>/stat``
directly. The stack is the ``resolwe-prefect up`` process and every
descendant (its components run in their own sessions, so a process group
would miss them): the Prefect server, the worker, the API, and the programs
the local backend starts. Docker containers run under containerd, outside
the tree, and are not counted.

RSS counts shared pages (the Python interpreter, shared libraries) once per
process, so the sum slightly overstates what the stack takes from the
machine; it is what ``ps``/``top`` users add up, and what the issue asks for.
"""

from __future__ import annotations

import argparse
import os
import threading
import time
from pathlib import Path

PAGE = os.sysconf("SC_PAGE_SIZE")
MIB = 1024 * 1024


def _children_map() -> dict[int, list[int]]:
    """ppid -> child pids, for every process on the machine (one pass over /proc)."""
    children: dict[int, list[int]] = {}
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        try:
            stat = Path(entry.path, "stat").read_text()
        except OSError:
            continue
        # The command name is in parentheses and may contain spaces: split after the last ')'.
        ppid = int(stat.rsplit(")", 1)[1].split()[1])
        children.setdefault(ppid, []).append(int(entry.name))
    return children


def tree(root: int) -> list[int]:
    """``root`` and all its descendants."""
    children = _children_map()
    found, todo = [], [root]
    while todo:
        pid = todo.pop()
        found.append(pid)
        todo.extend(children.get(pid, []))
    return found


def component(pid: int) -> str:
    """Which part of the stack a process is, from its command line."""
    try:
        cmdline = Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
    except OSError:
        return "gone"
    if "prefect server start" in cmdline or "prefect_server server start" in cmdline:
        return "prefect-server"
    if "resolwe_prefect.cli worker" in cmdline:
        return "worker"
    if "uvicorn django_project" in cmdline:
        return "api"
    if "resolwe_prefect.cli up" in cmdline:
        return "up"
    return "programs"


def rss(pid: int) -> int:
    """Resident set size in bytes (0 when the process is gone)."""
    try:
        return int(Path(f"/proc/{pid}/statm").read_text().split()[1]) * PAGE
    except (OSError, IndexError, ValueError):
        return 0


TICKS = os.sysconf("SC_CLK_TCK")


def cpu_seconds(root: int) -> dict[str, float]:
    """CPU time (user + system, children that were waited for included) per component of the tree.

    Taken before and after a piece of load, the difference says which
    component spent the machine's two cores: the wall time of a CPU-bound
    benchmark cannot be lower than the total divided by the cores.
    """
    by_component: dict[str, float] = {}
    for pid in tree(root):
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        # After the command name: utime, stime, cutime, cstime are fields 12-15 (0-based 11-14).
        ticks = sum(int(f) for f in fields[11:15])
        name = component(pid)
        by_component[name] = by_component.get(name, 0.0) + ticks / TICKS
    by_component["total"] = sum(by_component.values())
    return by_component


def cpu_delta(before: dict[str, float], after: dict[str, float]) -> dict[str, float]:
    return {k: round(after.get(k, 0.0) - before.get(k, 0.0), 2) for k in after}


def snapshot(root: int, names: dict[int, str] | None = None) -> dict[str, int]:
    """RSS in bytes per component and in total for the tree under ``root``."""
    names = {} if names is None else names
    by_component: dict[str, int] = {}
    for pid in tree(root):
        if pid not in names:
            names[pid] = component(pid)
        by_component[names[pid]] = by_component.get(names[pid], 0) + rss(pid)
    by_component["total"] = sum(by_component.values())
    return by_component


class Sampler:
    """Samples the stack's RSS on a thread; ``peak`` keeps the largest total and each component's largest."""

    def __init__(self, root: int, interval: float = 0.2) -> None:
        self.root = root
        self.interval = interval
        self.names: dict[int, str] = {}
        self.samples: list[dict[str, int]] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self._stop.is_set():
            self.samples.append(snapshot(self.root, self.names))
            self._stop.wait(self.interval)

    def __enter__(self) -> Sampler:
        self._thread.start()
        return self

    def __exit__(self, *_exc) -> None:
        self._stop.set()
        self._thread.join()

    def peak(self) -> dict[str, int]:
        """Largest total (with the components of that sample) and the largest of each component on its own."""
        if not self.samples:
            return {}
        top = max(self.samples, key=lambda s: s["total"])
        keys = {k for s in self.samples for k in s}
        return {
            "total": top["total"],
            "at_peak": dict(top),
            "component_max": {k: max(s.get(k, 0) for s in self.samples) for k in keys},
            "samples": len(self.samples),
        }


def at_rest(root: int, seconds: float = 5.0) -> dict[str, int]:
    """Sample an idle stack for ``seconds`` and return the peak (the stack breathes a little when idle)."""
    with Sampler(root) as sampler:
        time.sleep(seconds)
    return sampler.peak()


def describe(peak: dict) -> str:
    parts = ", ".join(f"{k} {v / MIB:.0f}" for k, v in sorted(peak["at_peak"].items()) if k != "total")
    return f"{peak['total'] / MIB:.0f} MiB ({parts})"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("pid", type=int)
    parser.add_argument("--seconds", type=float, default=5.0)
    args = parser.parse_args()
    print(describe(at_rest(args.pid, args.seconds)))


if __name__ == "__main__":
    main()
