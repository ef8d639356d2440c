"""The tools directories on a program's ``PATH``, as Resolwe's executors mount them.

Resolwe puts every installed Django app's ``tools/`` directory and the directories of
``RESOLWE_CUSTOM_TOOLS_PATHS`` on the program's ``PATH``; once ``collecttools`` has gathered them
into ``FLOW_TOOLS_ROOT`` (one subdirectory per source), the subdirectories of that root are used
instead (the form a shared volume needs). Each directory is mounted read-only at
``/opt/resolwe/tools/<n>`` in the sandbox, container or pod; an unsandboxed local program reads
them where they are.
"""

from __future__ import annotations

from pathlib import Path

from django.apps import apps
from django.conf import settings

#: Where the n-th tools directory is mounted (``/opt/resolwe/tools/0``, ...).
TOOLS_MOUNT = "/opt/resolwe/tools"


def source_tools_dirs() -> list[Path]:
    """Every app's ``tools/`` directory and ``RESOLWE_CUSTOM_TOOLS_PATHS``, in that order (what ``collecttools`` copies)."""
    found = [Path(app.path) / "tools" for app in apps.get_app_configs()]
    found += [Path(path) for path in getattr(settings, "RESOLWE_CUSTOM_TOOLS_PATHS", None) or []]
    unique: list[Path] = []
    for path in found:
        if path.is_dir() and path.resolve() not in {p.resolve() for p in unique}:
            unique.append(path)
    return unique


def tools_dirs() -> list[Path]:
    """The host directories a program gets on its ``PATH``, in order."""
    root = getattr(settings, "FLOW_TOOLS_ROOT", None)
    if root:
        root_path = Path(root)
        return sorted(path for path in root_path.iterdir() if path.is_dir()) if root_path.is_dir() else []
    return source_tools_dirs()


def needs_python_runtime(language: str) -> bool:
    """Python processes run on the runtime; with tools, bash programs get it too (their Python tools
    import ``resolwe_runtime_utils`` from it)."""
    return language == "python" or bool(tools_dirs())


def tools_mounts() -> list[tuple[Path, str]]:
    """``(host directory, mount point)`` of each tools directory."""
    return [(path, f"{TOOLS_MOUNT}/{index}") for index, path in enumerate(tools_dirs())]
