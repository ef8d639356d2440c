"""Resource estimators (registered on the server; a no-op inside a program)."""

from __future__ import annotations

from collections import defaultdict
from typing import Any, Callable

PROCESS_RESOURCES: defaultdict[str, dict[str, Callable[..., Any]]] = defaultdict(dict)


def estimator(process_slug: str, resource: str) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Register a resource consumption estimator."""

    def decorator(func: Callable[..., Any]) -> Callable[..., Any]:
        PROCESS_RESOURCES[process_slug][resource] = func
        return func

    return decorator
