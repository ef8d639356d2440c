"""The volume a program pod shares with its flow run: which claim, which ``subPath``, what is staged on it.

Two layouts (deployments/kubernetes/README.md):

* **shared**: one ReadWriteMany claim (``KUBERNETES_DATA_PVC``) holds every Data directory; the
  flow side sees its root at ``KUBERNETES_VOLUME_ROOT``, and a program pod may run on any node.
* **workspace**: without ReadWriteMany, each flow-run pod has a ReadWriteOnce workspace of its
  own (a generic ephemeral volume, ``RESOLWE_PREFECT_WORKSPACE_CLAIM``), its inputs fetched from
  object storage and its results published there (``STORAGE_LOCAL_SCRATCH``). Its program pod
  mounts the same claim, so it must run on the flow-run pod's node (``RESOLWE_PREFECT_NODE_NAME``).

What a program reads that is not a Data directory (the Python runtime, tools directories that
are not on the volume) is copied onto it once per content hash, under a temporary name and then
renamed, so no program mounts half of it.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import tempfile
from pathlib import Path
from typing import Any

from django.conf import settings

from .base import python_runtime
from .tools import tools_mounts

PYTHON_RUNTIME_DIR = "python-runtime"
TOOLS_DIR = "tools"
WORKSPACE_CLAIM_ENV = "RESOLWE_PREFECT_WORKSPACE_CLAIM"
NODE_NAME_ENV = "RESOLWE_PREFECT_NODE_NAME"


def setting(name: str, default: Any = None) -> Any:
    """A ``FLOW_EXECUTOR`` setting, ``default`` when unset or empty."""
    value = settings.FLOW_EXECUTOR.get(name)
    return default if value in (None, "") else value


def volume_root() -> Path:
    """Where the claim's root is mounted on our side."""
    return Path(setting("KUBERNETES_VOLUME_ROOT", settings.STATE_DIR))


def sub_path(host_path: Path) -> str:
    """The claim's ``subPath`` of one of our directories."""
    root = volume_root()
    try:
        relative = Path(host_path).relative_to(root)
    except ValueError:
        raise ValueError(
            f"{host_path} is not on the shared volume (mounted at {root}); set DATA_DIR and the state "
            f"directory under KUBERNETES_VOLUME_ROOT"
        ) from None
    if str(relative) in ("", "."):
        raise ValueError(f"{host_path} is the shared volume's root, not a directory on it")
    return relative.as_posix()


def data_claim() -> str:
    """The claim a program pod mounts: its flow run's workspace, else the shared one."""
    return os.environ.get(WORKSPACE_CLAIM_ENV) or str(setting("KUBERNETES_DATA_PVC", "resolwe-data"))


def workspace_node() -> str | None:
    """The node a program pod must run on to mount its flow run's workspace; ``None`` on a shared claim."""
    if not os.environ.get(WORKSPACE_CLAIM_ENV):
        return None
    node = os.environ.get(NODE_NAME_ENV)
    if not node:
        raise ValueError(
            f"{WORKSPACE_CLAIM_ENV} is set but {NODE_NAME_ENV} is not: a program can mount its flow run's "
            f"ReadWriteOnce workspace only on the flow run's node (set it from spec.nodeName)."
        )
    return node


def pin_to_node(pod_spec: dict[str, Any], node: str) -> None:
    """Require ``node`` for the pod, on top of every required term its placement already has."""
    pinned = {"key": "metadata.name", "operator": "In", "values": [node]}
    node_affinity = pod_spec.setdefault("affinity", {}).setdefault("nodeAffinity", {})
    required = node_affinity.setdefault("requiredDuringSchedulingIgnoredDuringExecution", {})
    terms = required.setdefault("nodeSelectorTerms", [])
    if not terms:
        terms.append({})
    for term in terms:  # terms are ORed: the node goes into each
        term.setdefault("matchFields", []).append(pinned)


def _tree_files(root: Path) -> list[tuple[str, Path]]:
    """Every file under ``root`` as (relative path, host path), compiled files left out."""
    return [
        (path.relative_to(root).as_posix(), path)
        for path in sorted(root.rglob("*"))
        if path.is_file() and "__pycache__" not in path.relative_to(root).parts and path.suffix != ".pyc"
    ]


def _mode(path: Path) -> int:
    return 0o755 if path.stat().st_mode & 0o111 else 0o644


def tree_sub_path(kind: str, root: Path) -> str:
    """The ``subPath`` a copy of ``root`` has on the volume: ``<kind>/<content hash>``."""
    digest = hashlib.sha256()
    for name, path in _tree_files(root):
        digest.update(name.encode() + b"\0" + oct(_mode(path)).encode() + b"\0" + path.read_bytes() + b"\0")
    return f"{kind}/{digest.hexdigest()[:16]}"


def stage_tree(kind: str, root: Path) -> str:
    """Copy ``root`` onto the volume once per content; its ``subPath``. Readable by every run's uid, written by none."""
    sub = tree_sub_path(kind, root)
    target = volume_root() / sub
    if target.is_dir():
        return sub
    target.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=".staging-", dir=target.parent))
    try:
        for name, path in _tree_files(root):
            destination = staging / name
            destination.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(path, destination)
            destination.chmod(_mode(path))
        for directory in [staging, *(p for p in staging.rglob("*") if p.is_dir())]:
            directory.chmod(0o755)
        try:
            staging.rename(target)
        except OSError:  # another run put it there first
            if not target.is_dir():
                raise
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return sub


def python_runtime_sub_path() -> str:
    """The ``subPath`` of this version of the Python runtime: ``python-runtime/<hash>``."""
    return tree_sub_path(PYTHON_RUNTIME_DIR, python_runtime())


def stage_python_runtime() -> str:
    """Copy the Python runtime onto the volume once per content; its ``subPath``."""
    return stage_tree(PYTHON_RUNTIME_DIR, python_runtime())


def _on_volume(path: Path) -> bool:
    return Path(path).is_relative_to(volume_root()) and Path(path) != volume_root()


def tools_sub_paths(*, stage: bool) -> list[str]:
    """The ``subPath`` of each tools directory: where it is on the volume, else a staged copy."""
    found = []
    for host, _mount in tools_mounts():
        if _on_volume(host):
            found.append(sub_path(host))
        else:
            found.append(stage_tree(TOOLS_DIR, host) if stage else tree_sub_path(TOOLS_DIR, host))
    return found
