"""The site's registered Python process runtimes (Resolwe's ``FLOW_PROCESSES_RUNTIMES``).

A site whose processes derive from a base class of its own (resolwe-bio's
``resolwe_bio.process.runtime.ProcessBio``) names that class in
``FLOW_PROCESSES_RUNTIMES``, as in Resolwe; the package that holds it then goes into the
Python runtime every program mounts, beside ``resolwe.process``. The package is looked for,
never imported, on the worker's ``sys.path`` and in the directories above each
``FLOW_PROCESSES_DIRS`` entry (where an unpacked app such as resolwe-bio keeps it next to
its ``processes/``).
"""

from __future__ import annotations

import sys
from pathlib import Path

from django.conf import settings

from resolwe_prefect.runtime.python_runtime import runtime_package_files

#: Resolwe's default: its own runtime, which ``resolwe.process`` here already is.
DEFAULT_RUNTIMES = ("resolwe.process.runtime.Process",)


def search_roots() -> list[Path]:
    """Where runtime packages are looked for, in order."""
    roots = [Path(entry) for entry in sys.path if entry and Path(entry).is_dir()]
    for directory in getattr(settings, "FLOW_PROCESSES_DIRS", None) or []:
        roots += [parent for parent in Path(directory).resolve().parents if parent != Path("/")]
    unique: list[Path] = []
    for root in roots:
        if root not in unique:
            unique.append(root)
    return unique


def registered_runtime_files() -> list[tuple[str, Path | None]]:
    """The files of every registered runtime's package (``None``: an empty ``__init__.py``)."""
    runtimes = getattr(settings, "FLOW_PROCESSES_RUNTIMES", None) or DEFAULT_RUNTIMES
    files: dict[str, Path | None] = {}
    roots: list[Path] | None = None
    for runtime in runtimes:
        if runtime.split(".", 1)[0] == "resolwe":
            continue
        roots = roots if roots is not None else search_roots()
        for relative, path in runtime_package_files(runtime, roots):
            if path is not None or relative not in files:
                files[relative] = path
    return sorted(files.items())
