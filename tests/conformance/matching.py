"""Comparisons: strict equality, deep subset (README "input, output"), list matcher."""

from __future__ import annotations

import json


def short(value, limit: int = 160) -> str:
    text = json.dumps(value, sort_keys=True, default=str) if not isinstance(value, str) else repr(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."


def equal(expected, actual) -> bool:
    """Equality that does not confuse True with 1 (JSON types matter); 42 == 42.0 only for numbers."""
    if isinstance(expected, bool) or isinstance(actual, bool):
        return isinstance(expected, bool) and isinstance(actual, bool) and expected == actual
    if isinstance(expected, dict):
        return (
            isinstance(actual, dict)
            and expected.keys() == actual.keys()
            and all(equal(v, actual[k]) for k, v in expected.items())
        )
    if isinstance(expected, list):
        return (
            isinstance(actual, list)
            and len(expected) == len(actual)
            and all(equal(e, a) for e, a in zip(expected, actual, strict=True))
        )
    if isinstance(expected, (int, float)) and isinstance(actual, (int, float)):
        # An expected integer needs an integer; an expected float accepts any equal number.
        return expected == actual and (isinstance(expected, float) or isinstance(actual, int))
    return type(expected) is type(actual) and expected == actual


def subset(expected, actual, path: str = "") -> str | None:
    """None when `expected` matches `actual`; otherwise where and how it differs."""
    where = path or "value"
    if isinstance(expected, dict):
        if not isinstance(actual, dict):
            return f"{where}: expected a mapping, got {short(actual)}"
        for key, value in expected.items():
            if key not in actual:
                return (
                    f"{where}.{key}: missing (expected {short(value)})"
                    if path
                    else f"{key}: missing (expected {short(value)})"
                )
            problem = subset(value, actual[key], f"{path}.{key}" if path else str(key))
            if problem:
                return problem
        return None
    if isinstance(expected, list):
        if not isinstance(actual, list) or len(actual) != len(expected):
            return f"{where}: expected {short(expected)}, got {short(actual)}"
        for index, (e, a) in enumerate(zip(expected, actual, strict=True)):
            problem = subset(e, a, f"{path}[{index}]")
            if problem:
                return problem
        return None
    if not equal(expected, actual):
        return f"{where}: expected {short(expected)}, got {short(actual)}"
    return None


def list_matcher(spec: dict, actual, label: str) -> str | None:
    """`count`, `equals`, `contains`, `items` over a list of strings."""
    if not isinstance(actual, list):
        return f"{label}: expected a list, got {short(actual)}"
    if "count" in spec and len(actual) != spec["count"]:
        return f"{label}: expected {spec['count']} entries, got {len(actual)}: {short(actual)}"
    if "equals" in spec and not equal(list(spec["equals"]), actual):
        return f"{label}: expected {short(spec['equals'])}, got {short(actual)}"
    for needle in spec.get("contains") or []:
        if not any(isinstance(entry, str) and needle in entry for entry in actual):
            return f"{label}: no entry contains {needle!r}; got {short(actual)}"
    for index, checks in (spec.get("items") or {}).items():
        index = int(index)
        if index >= len(actual) or index < -len(actual):
            return f"{label}[{index}]: missing; got {short(actual)}"
        entry = actual[index]
        text = entry if isinstance(entry, str) else json.dumps(entry)
        for kind, value in checks.items():
            ok = _item_check(kind, value, entry, text)
            if ok is None:
                return f"{label}[{index}]: unknown check {kind!r}"
            if not ok:
                shown = f"length {len(text)}" if kind == "length" else short(entry)
                return f"{label}[{index}]: expected {kind} {short(value)}, got {shown}"
    return None


def body_text(response) -> str:
    """The response body as sent, plus every string in it decoded from JSON (so that quotes
    inside messages need no JSON escaping in `error_contains`/`body_contains`)."""
    texts = [response.text]
    try:
        stack = [response.json()]
    except ValueError:
        stack = []
    while stack:
        item = stack.pop()
        if isinstance(item, str):
            texts.append(item)
        elif isinstance(item, dict):
            stack.extend(item.keys())
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)
    return "\n".join(texts)


def _item_check(kind: str, value, entry, text: str) -> bool | None:
    """One check of a list item (``None`` for a check this runner does not know)."""
    if kind == "equals":
        return equal(value, entry)
    if kind == "contains":
        return value in text
    if kind == "startswith":
        return text.startswith(value)
    if kind == "endswith":
        return text.endswith(value)
    if kind == "length":
        return len(text) == value
    return None
