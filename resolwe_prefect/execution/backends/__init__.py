"""Program backends, chosen by ``FLOW_EXECUTOR["BACKEND"]``."""

from __future__ import annotations

from functools import cache

from .base import Backend, ProgramJob, ProgramResult
from .local import LocalBackend

__all__ = ["Backend", "ProgramJob", "ProgramResult", "get_backend"]


@cache
def get_backend(name: str) -> Backend:
    """Return the backend for a name; an unknown name is a configuration error, not a program error."""
    if name == "local":
        return LocalBackend()
    if name == "docker":
        from .docker import DockerBackend

        return DockerBackend()
    if name == "kubernetes":
        from .kubernetes import KubernetesBackend

        return KubernetesBackend()
    raise ValueError(f"Unknown program backend: {name!r}")
