"""Prefect's private parts we rely on, named in one place.

Two changes to Prefect's behaviour reach below its public API: the embedded
worker shares one flow-run suspension observer between all its flow runs
(``worker.suspension``), and the local Prefect server on SQLite takes the
write lock at ``BEGIN`` (``cli.prefect_server``). Everything either
needs is fetched here by :func:`internal`, so that a Prefect release that
moves one of them fails loudly, with its name, instead of quietly running
Prefect's default; ``tests/execution/test_prefect_internals.py`` checks every
entry against the installed Prefect. Nothing here imports Django.
"""

from __future__ import annotations

import importlib
from typing import Any

#: name -> (module, attribute): every private Prefect attribute this project imports or patches.
INTERNALS: dict[str, tuple[str, str]] = {
    # worker.suspension: the engine's per-run observer, replaced while the worker runs ...
    "observe_flow_run_suspension": ("prefect.flow_engine", "observe_flow_run_suspension"),
    # ... by one of Prefect's own observers, watching every flow run in flight ...
    "FlowRunSuspendingObserver": ("prefect._internal.observers", "FlowRunSuspendingObserver"),
    # ... which reports a suspension the way the engine's observer does.
    "mark_flow_run_suspension_requested": ("prefect._flow_run_suspension", "mark_flow_run_suspension_requested"),
    # cli.prefect_server: SQLite's transaction factory, wrapped to open IMMEDIATE transactions.
    "AioSqliteConfiguration": ("prefect.server.database.configurations", "AioSqliteConfiguration"),
}


class PrefectInternalsMoved(RuntimeError):
    """An attribute of Prefect that this project relies on is not where it was."""


def internal(name: str) -> Any:
    """The Prefect attribute registered as ``name``; raises :class:`PrefectInternalsMoved` when it moved."""
    module_name, attribute = INTERNALS[name]
    try:
        module = importlib.import_module(module_name)
        return getattr(module, attribute)
    except (ImportError, AttributeError) as error:
        raise PrefectInternalsMoved(
            f"Prefect's {module_name}.{attribute} is gone ({error}); resolwe-prefect uses it as {name!r} "
            f"(see resolwe_prefect/execution/prefect_api/internals.py): adapt the code that uses it to this Prefect."
        ) from error


def module_of(name: str) -> Any:
    """The module that holds the registered attribute ``name`` (for code that replaces it there)."""
    internal(name)
    return importlib.import_module(INTERNALS[name][0])


def moved() -> list[str]:
    """The registered internals the installed Prefect no longer has, each with its message."""
    problems = []
    for name in INTERNALS:
        try:
            internal(name)
        except PrefectInternalsMoved as error:
            problems.append(str(error))
    return problems
