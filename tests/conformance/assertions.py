"""Assertions (README "Assertions"): selectors, Data keys and modifiers."""

from __future__ import annotations

from datetime import datetime

from context import CaseContext
from data_checks import DATA_KEYS, ref_id
from markers import resolve
from matching import equal, short, subset

MODIFIERS = {"inferred", "optional", "note", "timing_sensitive"}
SELECTORS = ("data", "entity_fixture", "registry", "registry_process", "registry_total", "count", "exists")
LIST_ENDPOINTS = {
    "data": "/api/data",
    "entity": "/api/entity",
    "sample": "/api/entity",
    "collection": "/api/collection",
    "process": "/api/process",
    "descriptorschema": "/api/descriptorschema",
}


class AssertionFailure(AssertionError):
    pass


def check_all(ctx: CaseContext, assertions: list[dict]) -> None:
    """Evaluate in order; the first hard failure raises, optional/timing-sensitive ones become warnings."""
    for assertion in assertions or []:
        try:
            problem = check(ctx, assertion)
        except AssertionError as error:
            problem = str(error)
        if not problem:
            continue
        selector = next(
            (f"{s} {assertion[s]}" if s in ("data", "entity_fixture") else s for s in SELECTORS if s in assertion), "?"
        )
        message = f"{selector}: {problem}"
        if assertion.get("inferred"):
            message += " [inferred]"
        if assertion.get("optional"):
            ctx.warnings.append(f"optional: {message}")
        elif assertion.get("timing_sensitive"):
            ctx.warnings.append(f"timing-sensitive: {message}")
        else:
            raise AssertionFailure(message)


def check(ctx: CaseContext, assertion: dict) -> str | None:
    selectors = [s for s in SELECTORS if s in assertion]
    if len(selectors) != 1:
        return f"assertion needs exactly one selector, has {selectors}"
    selector = selectors[0]
    keys = {k: v for k, v in assertion.items() if k not in MODIFIERS and k != selector}
    if selector == "data":
        data = ctx.data(assertion["data"])
        for key, expected in keys.items():
            handler = DATA_KEYS.get(key)
            if handler is None:
                return f"unknown data assertion key {key!r}"
            problem = handler(ctx, data, expected)
            if problem == "SKIP":
                ctx.warnings.append(
                    f"skipped: data {assertion['data']} {key} (dependency kinds are not exposed by the API)"
                )
                continue
            if problem:
                return problem
        return None
    return globals()[f"_{selector}"](ctx, assertion[selector], keys)


# --- entity fixtures -------------------------------------------------------------------------


def _entity_fixture(ctx: CaseContext, name: str, keys: dict) -> str | None:
    from data_checks import entity_annotations

    entity = ctx.fetch(name)
    for key, expected in keys.items():
        if key == "annotations":
            actual = entity_annotations(ctx, entity["id"])
            problem = subset(resolve(ctx, expected), actual, "annotations")
        elif key == "annotation_count":
            actual = entity_annotations(ctx, entity["id"])
            problem = (
                None
                if len(actual) == expected
                else f"annotation_count: expected {expected}, got {len(actual)} ({short(actual)})"
            )
        elif key == "collection":
            want = None if expected is None else ctx.id_of(expected)
            problem = (
                None
                if ref_id(entity.get("collection")) == want
                else f"collection: expected {expected}, got {short(entity.get('collection'))}"
            )
        elif key == "tags":
            problem = (
                None
                if sorted(entity.get("tags") or []) == sorted(expected)
                else f"tags: expected {expected}, got {entity.get('tags')}"
            )
        elif key in entity:
            problem = subset(resolve(ctx, expected), entity[key], key)
        else:
            problem = f"unknown entity_fixture key {key!r}"
        if problem:
            return problem
    return None


# --- registry ---------------------------------------------------------------------------------


def version_key(version) -> tuple:
    parts = []
    for part in str(version).split("."):
        parts.append((0, int(part), "") if part.isdigit() else (1, 0, part))
    return tuple(parts)


def processes(ctx: CaseContext, slug: str | None = None) -> list[dict]:
    items = ctx.client().list("/api/process", params={"slug": slug} if slug else None)
    return [p for p in items if slug is None or p.get("slug") == slug]


def _registry(ctx: CaseContext, spec: dict, keys: dict) -> str | None:
    slug = spec["slug"]
    found = sorted(processes(ctx, slug), key=lambda p: version_key(p["version"]))
    versions = [str(p["version"]) for p in found]
    active = [str(p["version"]) for p in found if p.get("is_active", True)]
    if spec.get("absent"):
        return None if not found else f"{slug}: expected absent, registered versions {versions}"
    if "versions" in spec and sorted(map(str, spec["versions"]), key=version_key) != versions:
        return f"{slug} versions: expected {spec['versions']}, got {versions}"
    if "active_versions" in spec and sorted(map(str, spec["active_versions"]), key=version_key) != active:
        return f"{slug} active versions: expected {spec['active_versions']}, got {active}"
    if "latest_version" in spec:
        latest = versions[-1] if versions else None
        if latest != str(spec["latest_version"]):
            return f"{slug} latest version: expected {spec['latest_version']}, got {latest}"
    return None


def _registry_process(ctx: CaseContext, spec: dict, keys: dict) -> str | None:
    slug, version = spec["slug"], str(spec["version"])
    match = [p for p in processes(ctx, slug) if str(p["version"]) == version]
    if not match:
        return f"{slug}@{version} is not registered (versions: {[p['version'] for p in processes(ctx, slug)]})"
    process = match[0]
    problem = subset(spec.get("fields") or {}, process, f"{slug}@{version}")
    if problem:
        return problem
    for name, expected in (spec.get("input_schema_fields") or {}).items():
        field = find_field(process.get("input_schema") or [], name)
        if field is None:
            return f"{slug}@{version} input_schema: no field {name!r}"
        expected = dict(expected)
        if "group_names" in expected:
            # The fields named come first, in that order (Resolwe's test checks the first ones only).
            names = [f.get("name") for f in field.get("group") or []]
            wanted = expected.pop("group_names")
            if names[: len(wanted)] != wanted:
                return f"{slug}@{version} input {name} group names: expected {spec['input_schema_fields'][name]['group_names']}, got {names}"
        problem = subset(expected, field, f"input_schema.{name}")
        if problem:
            return problem
    for wanted in spec.get("output_schema_contains") or []:
        schema = process.get("output_schema") or []
        if isinstance(wanted, str):
            if find_field(schema, wanted) is None:
                return f"{slug}@{version} output_schema has no field {wanted!r}"
        elif not any(subset(wanted, field) is None for field in schema):
            return f"{slug}@{version} output_schema has no entry matching {short(wanted)}"
    return None


def find_field(schema: list, name: str) -> dict | None:
    for field in schema:
        if field.get("name") == name:
            return field
    for field in schema:
        found = find_field(field.get("group") or [], name)
        if found is not None:
            return found
    return None


def _registry_total(ctx: CaseContext, spec: dict, keys: dict) -> str | None:
    latest: dict[str, dict] = {}
    for process in processes(ctx):
        slug = process["slug"]
        if slug not in latest or version_key(process["version"]) > version_key(latest[slug]["version"]):
            latest[slug] = process
    summary = {s: f"{p['version']}{'' if p.get('is_active', True) else ' (inactive)'}" for s, p in latest.items()}
    if "latest_per_slug" in spec and len(latest) != spec["latest_per_slug"]:
        return f"latest_per_slug: expected {spec['latest_per_slug']}, got {len(latest)} {short(summary, 300)}"
    active = sum(1 for p in latest.values() if p.get("is_active", True))
    if "active_latest_per_slug" in spec and active != spec["active_latest_per_slug"]:
        return f"active_latest_per_slug: expected {spec['active_latest_per_slug']}, got {active} {short(summary, 300)}"
    return None


# --- counts ----------------------------------------------------------------------------------


def _matching(ctx: CaseContext, spec: dict) -> list[dict]:
    of = spec["of"]
    items = ctx.client().list(LIST_ENDPOINTS.get(of, f"/api/{of}"))
    where = resolve(ctx, spec.get("where") or {})
    return [item for item in items if all(_where_matches(v, item.get(k)) for k, v in where.items())]


def _where_matches(expected, actual) -> bool:
    if isinstance(actual, dict) and not isinstance(expected, dict) and "id" in actual:
        actual = actual["id"]
    return subset(expected, actual) is None


def _count(ctx: CaseContext, spec: dict, keys: dict) -> str | None:
    found = _matching(ctx, spec)
    if len(found) != spec["equals"]:
        names = [item.get("name") for item in found][:10]
        return f"count of {spec['of']} where {spec.get('where') or {}}: expected {spec['equals']}, got {len(found)} {names}"
    return None


def _exists(ctx: CaseContext, spec: dict, keys: dict) -> str | None:
    return None if _matching(ctx, spec) else f"no {spec['of']} where {spec.get('where') or {}}"


def parse_time(value) -> datetime | None:
    if not value:
        return None
    return datetime.fromisoformat(str(value).replace("Z", "+00:00"))


__all__ = ["check_all", "AssertionFailure", "equal", "parse_time"]
