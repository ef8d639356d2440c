"""Program backends, chosen by ``FLOW_EXECUTOR["BACKEND"]``."""

from __future__ import annotations

from functools import cache

from .base import Backend, ProgramJob, ProgramResult
from .local import LocalBackend

__all__ = ["Backend", "ProgramJob", "ProgramResult", "abandon_program", "get_backend"]


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


def abandon_program(data_id: int, runtime_dir: str) -> None:
    """Stop a program whose flow run was lost with its worker, so it cannot write into a later attempt.

    A program outlives the worker that started it (its own session, or a
    container); the worker that recovers the orphaned run calls this. Only
    backends that can find such a program by the Data id implement ``abandon``.
    """
    from django.conf import settings

    backend = get_backend(settings.FLOW_EXECUTOR["BACKEND"])
    abandon = getattr(backend, "abandon", None)
    if abandon is not None:
        abandon(data_id, runtime_dir)
