"""Host side of the Python process runtime (``resolwe.process`` inside the program).

The package tree ``resolwe_prefect/runtime/python/resolwe`` is what a Python
process imports as ``resolwe.process``; ``plumbum`` (for ``Cmd``, and imported
directly by processes: ``from plumbum import TEE``) comes from the installed
package. :func:`runtime_dir` assembles the two into one small directory that
holds exactly ``resolwe/``, ``plumbum/`` and ``resolwe_runtime_utils.py`` (the module
the tools of bash programs import; copies, so it works where the
host's paths do not exist, e.g. in a container), and nothing else of the
host's site-packages, besides the packages of the runtimes a site registers
(Resolwe's ``FLOW_PROCESSES_RUNTIMES``, e.g. resolwe-bio's ``ProcessBio``; see
:func:`runtime_package_files`).

What a backend does for a Python process:

* mount :func:`runtime_dir` read-only at :data:`PYTHON_MOUNT`
  (``/opt/resolwe/python``); :func:`runtime_mounts` gives ``(host, sandbox)``
  pairs, :func:`runtime_files` every file (relative path, host path) for a
  backend that must ship them otherwise (Kubernetes);
* set :func:`program_env` (``PYTHONPATH`` starts with ``/opt/resolwe/python``;
  ``RESOLWE_CHANNEL`` and ``RESOLWE_COMMANDS_FILE`` are set as for every run);
* run :func:`runner_command` (``python3 -m resolwe.process.run /runtime/run.json``)
  in the Data directory, with ``/opt/resolwe/bin`` on ``PATH`` (``import_file``
  calls ``re-import``).
"""

from __future__ import annotations

import hashlib
import importlib.util
import os
import shutil
import stat
import tempfile
from collections.abc import Iterator, Sequence
from pathlib import Path

#: Where the program sees the runtime (on its PYTHONPATH).
PYTHON_MOUNT = "/opt/resolwe/python"
#: Where the program finds run.json.
RUN_JSON = "/runtime/run.json"
#: The runner module.
RUNNER_MODULE = "resolwe.process.run"
#: Environment variable naming the directory :func:`runtime_dir` builds in.
CACHE_ENV = "RESOLWE_PYTHON_RUNTIME_CACHE"

_TREE = Path(__file__).resolve().parent / "python"

__all__ = [
    "PYTHON_MOUNT",
    "RUNNER_MODULE",
    "RUN_JSON",
    "package_dir",
    "plumbum_dir",
    "program_env",
    "runner_command",
    "runtime_dir",
    "runtime_dirs",
    "runtime_files",
    "runtime_mounts",
    "runtime_package_files",
]


def package_dir() -> Path:
    """Our package tree: the directory that contains ``resolwe/``."""
    return _TREE


def plumbum_dir() -> Path:
    """The installed ``plumbum`` package directory (found without importing it)."""
    spec = importlib.util.find_spec("plumbum")
    if spec is None or not spec.submodule_search_locations:
        raise RuntimeError("The 'plumbum' package is not installed; Python processes need it for Cmd.")
    return Path(list(spec.submodule_search_locations)[0]).resolve()


def _sources(extra: Sequence[tuple[str, Path | None]] = ()) -> list[tuple[str, Path | None]]:
    """``(relative path, host file)`` of everything the runtime directory holds, sorted.

    ``extra``: the registered runtimes' files (:func:`runtime_package_files`); ``None`` is an
    empty file. Our own tree wins over them for a path both give.
    """
    found: dict[str, Path | None] = dict(extra)
    for name, root in (("resolwe", _TREE / "resolwe"), ("plumbum", plumbum_dir())):
        for directory, dirnames, filenames in os.walk(root):
            dirnames[:] = sorted(d for d in dirnames if d != "__pycache__")
            for filename in sorted(filenames):
                if filename.endswith((".pyc", ".pyo")):
                    continue
                path = Path(directory) / filename
                if path.is_symlink() or not path.is_file():
                    continue
                found[(Path(name) / path.relative_to(root)).as_posix()] = path
    # Tools that bash programs run import it (``from resolwe_runtime_utils import send_message, ...``).
    found["resolwe_runtime_utils.py"] = _TREE / "resolwe_runtime_utils.py"
    return sorted(found.items())


def _module_file(parts: list[str], roots: Sequence[Path]) -> Path | None:
    """Where ``a.b.c`` is, as ``a/b/c.py`` or ``a/b/c/__init__.py`` under the first root that has it."""
    for root in roots:
        for candidate in (
            Path(root).joinpath(*parts[:-1], f"{parts[-1]}.py"),
            Path(root).joinpath(*parts, "__init__.py"),
        ):
            if candidate.is_file():
                return candidate
    return None


def runtime_package_files(runtime: str, roots: Sequence[Path]) -> list[tuple[str, Path | None]]:
    """The files Resolwe copies into a program for a ``FLOW_PROCESSES_RUNTIMES`` entry.

    ``runtime`` names a base class (``resolwe_bio.process.runtime.ProcessBio``). Like Resolwe,
    every ``.py`` file of the package that holds its module goes in under the package's dotted
    path (``resolwe_bio/process/...``), and each package above it gets an empty ``__init__.py``
    (so ``resolwe_bio/__init__.py``, which may import things a program does not have, is not
    run). The module is looked for under ``roots`` (never imported). Resolwe's own runtime
    (``resolwe.*``) is ours and gives nothing; a module that is not found is a ``LookupError``.
    """
    module = runtime.rsplit(".", 1)[0] if "." in runtime else runtime
    parts = module.split(".")
    if parts[0] in {"resolwe"}:
        return []
    found = _module_file(parts, roots)
    if found is None:
        raise LookupError(f"The process runtime module '{module}' ({runtime}) is not in {[str(r) for r in roots]}.")
    package = parts[:-1] if found.name != "__init__.py" else parts
    source_dir = found.parent
    files: dict[str, Path | None] = {}
    for index in range(1, len(package)):
        files[Path(*package[:index], "__init__.py").as_posix()] = None
    for directory, dirnames, filenames in os.walk(source_dir):
        dirnames[:] = sorted(d for d in dirnames if d != "__pycache__")
        for filename in sorted(filenames):
            path = Path(directory) / filename
            if filename.endswith(".py") and path.is_file() and not path.is_symlink():
                files[Path(*package, path.relative_to(source_dir)).as_posix()] = path
    return sorted(files.items())


def runtime_files(extra: Sequence[tuple[str, Path | None]] = ()) -> Iterator[tuple[str, Path | None]]:
    """Every file of the runtime directory: ``(path relative to it, host file or None when empty)``."""
    yield from _sources(extra)


_digests: dict[tuple, str] = {}


def _digest(sources: list[tuple[str, Path | None]]) -> str:
    """A digest of the content (remembered while no file changes size or mtime)."""
    key = tuple(
        (relative, *((path.stat().st_mtime_ns, path.stat().st_size) if path else (0, 0))) for relative, path in sources
    )
    if key not in _digests:
        digest = hashlib.sha256()
        for relative, path in sources:
            digest.update(relative.encode() + b"\0" + (path.read_bytes() if path else b"") + b"\0")
        _digests.clear()
        _digests[key] = digest.hexdigest()[:20]
    return _digests[key]


def _cache_root(cache_dir: Path | None) -> Path:
    """The directory the runtime is built in; refuses one others could have prepared."""
    if cache_dir is None:
        configured = os.environ.get(CACHE_ENV)
        if configured:
            cache_dir = Path(configured)
        else:
            cache_dir = Path(tempfile.gettempdir()) / f"resolwe-prefect-python-{os.getuid()}"
    cache_dir = Path(cache_dir)
    try:
        cache_dir.mkdir(mode=0o755, parents=True)
    except FileExistsError:
        pass
    info = os.lstat(cache_dir)
    if not stat.S_ISDIR(info.st_mode):
        raise RuntimeError(f"{cache_dir} is not a directory.")
    if info.st_uid != os.getuid() or info.st_mode & (stat.S_IWGRP | stat.S_IWOTH):
        raise RuntimeError(f"{cache_dir} must be owned by uid {os.getuid()} and writable only by it.")
    return cache_dir


def _complete(directory: Path, sources: list[tuple[str, Path | None]]) -> bool:
    """Whether every file is there with its size (a cleaner may have removed some)."""
    try:
        return all(
            (directory / relative).stat().st_size == (path.stat().st_size if path else 0) for relative, path in sources
        )
    except OSError:
        return False


def runtime_dir(cache_dir: Path | None = None, extra: Sequence[tuple[str, Path | None]] = ()) -> Path:
    """Build (once per content) and return the directory to mount at ``/opt/resolwe/python``.

    It holds ``resolwe/`` (this package's tree), ``plumbum/`` (the installed
    package) and the registered runtimes' packages, world-readable, named by a digest of the content, so a
    changed package gives a new directory and a running program's never
    changes. ``cache_dir`` (default ``$RESOLWE_PYTHON_RUNTIME_CACHE``, else
    ``<tmp>/resolwe-prefect-python-<uid>``) must belong to this user. ``extra``: the
    registered runtimes' files (:func:`runtime_package_files`).
    """
    sources = _sources(extra)
    root = _cache_root(cache_dir)
    final = root / f"runtime-{_digest(sources)}"
    if final.is_dir() and not final.is_symlink():
        if _complete(final, sources):
            return final
        # Partly removed (a /tmp cleaner): put it aside and build it again.
        stale = Path(tempfile.mkdtemp(prefix=".stale-", dir=root))
        try:
            final.rename(stale / "runtime")
        except OSError:
            pass
        shutil.rmtree(stale, ignore_errors=True)
    building = Path(tempfile.mkdtemp(prefix=".building-", dir=root))
    try:
        for relative, path in sources:
            target = building / relative
            target.parent.mkdir(parents=True, exist_ok=True)
            if path is None:
                target.write_bytes(b"")
            else:
                shutil.copyfile(path, target)
            target.chmod(0o644)
        for directory, dirnames, _ in os.walk(building):
            for name in dirnames:
                (Path(directory) / name).chmod(0o755)
        building.chmod(0o755)
        try:
            building.rename(final)
        except OSError:
            if not final.is_dir():  # Not someone else's identical build: a real failure.
                raise
    finally:
        if building.exists():
            shutil.rmtree(building, ignore_errors=True)
    return final


def runtime_dirs(cache_dir: Path | None = None, extra: Sequence[tuple[str, Path | None]] = ()) -> list[Path]:
    """The host directories a backend mounts for Python processes (one: :func:`runtime_dir`)."""
    return [runtime_dir(cache_dir, extra)]


def runtime_mounts(cache_dir: Path | None = None) -> list[tuple[Path, str]]:
    """``(host directory, mount point)`` pairs, all read-only."""
    return [(runtime_dir(cache_dir), PYTHON_MOUNT)]


def program_env(pythonpath: str | None = None) -> dict[str, str]:
    """Environment for the program: ``PYTHONPATH`` first of all ``/opt/resolwe/python``.

    ``pythonpath``: what the image already had, kept after it.
    """
    path = PYTHON_MOUNT if not pythonpath else f"{PYTHON_MOUNT}:{pythonpath}"
    return {
        "PYTHONPATH": path,
        # The mount is read-only: do not try to write __pycache__ into it.
        "PYTHONDONTWRITEBYTECODE": "1",
        "PYTHONUNBUFFERED": "1",
        # 3.11+: the working directory (the Data directory) is not put on sys.path.
        "PYTHONSAFEPATH": "1",
    }


def runner_command(run_json: str = RUN_JSON, python: str = "python3") -> list[str]:
    """The program's command line."""
    return [python, "-m", RUNNER_MODULE, run_json]
