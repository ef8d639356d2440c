"""Field projection (``?fields=id,entity__name,output__reads``), as in resolwe/rest/projection.py.

Only the listed top-level keys are kept; ``__`` descends into nested dicts,
JSON fields such as ``output`` included. A key listed on its own wins over
its sub-keys (``entity,entity__name`` keeps the whole ``entity``).
"""

from __future__ import annotations

from typing import Any

# A projection tree: key -> subtree, where an empty dict means "keep everything below".
Projection = dict[str, "Projection"]


def parse_fields(value: str | None) -> Projection | None:
    """Parse the ``fields`` query value into a tree; ``None`` when nothing is projected."""
    if not value:
        return None
    tree: Projection = {}
    full: set[tuple[str, ...]] = set()
    for raw in value.split(","):
        parts = tuple(p for p in raw.strip().split("__") if p)
        if not parts:
            continue
        full.add(parts)
        node = tree
        for part in parts:
            node = node.setdefault(part, {})
    # A path named explicitly keeps its whole subtree, even if deeper paths were listed too.
    for parts in sorted(full, key=len, reverse=True):  # deepest first, so a whole key resets its subtree last
        node = tree
        for part in parts[:-1]:
            node = node[part]
        node[parts[-1]] = {}
    return tree or None


def apply_projection(data: Any, tree: Projection | None) -> Any:
    """Return ``data`` reduced to the keys in ``tree``; lists are projected item by item."""
    if not tree:
        return data
    if isinstance(data, list):
        return [apply_projection(item, tree) for item in data]
    if not isinstance(data, dict):
        return data
    return {key: apply_projection(data[key], subtree) for key, subtree in tree.items() if key in data}
