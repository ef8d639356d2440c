"""Fixtures (README "Fixtures"): annotation fields and secrets admin-side, the rest through the API as admin."""

from __future__ import annotations

import json

from context import CaseContext
from matching import short


def _manage(ctx: CaseContext, *args: str) -> str:
    result = ctx.stack.manage(*args, timeout=min(120, ctx.remaining()))
    if result.returncode != 0:
        raise AssertionError(
            f"manage {args[0]} failed (exit {result.returncode}): "
            f"{short((result.stderr or result.stdout).strip()[-400:], 400)}"
        )
    return result.stdout


def annotation_fields(ctx: CaseContext, fields: list[dict]) -> None:
    if fields:
        _manage(ctx, "annotation_fields", "--json", json.dumps(fields))


def collections(ctx: CaseContext, items: list[dict]) -> None:
    for item in items or []:
        body = {"name": item.get("object_name", item["name"])}
        if "tags" in item:
            body["tags"] = item["tags"]
        if item.get("descriptor_schema"):
            body["descriptor_schema"] = {"slug": item["descriptor_schema"]}
        if "descriptor" in item:
            body["descriptor"] = item["descriptor"]
        response = ctx.client().request("POST", "/api/collection", body)
        if response.status_code != 201:
            raise AssertionError(
                f"fixture collection {item['name']}: HTTP {response.status_code}: {short(response.text, 300)}"
            )
        ctx.bind(item["name"], "collection", response.json()["id"])


def annotation_field_id(ctx: CaseContext, key: str) -> int:
    group, _, name = key.partition(".")
    found = ctx.client().list("/api/annotation_field", params={"name": name, "group__name": group})
    found = [
        f
        for f in found
        if f.get("name") == name and (not isinstance(f.get("group"), dict) or f["group"].get("name") == group)
    ]
    if len(found) != 1:
        raise AssertionError(f"annotation field {key}: {len(found)} matches")
    return int(found[0]["id"])


def entities(ctx: CaseContext, items: list[dict]) -> None:
    for item in items or []:
        body = {"name": item.get("object_name", item["name"])}
        if item.get("collection"):
            body["collection"] = {"id": ctx.id_of(item["collection"])}
        for key in ("tags", "descriptor"):
            if key in item:
                body[key] = item[key]
        if item.get("descriptor_schema"):
            body["descriptor_schema"] = {"slug": item["descriptor_schema"]}
        response = ctx.client().request("POST", "/api/entity", body)
        if response.status_code != 201:
            raise AssertionError(
                f"fixture entity {item['name']}: HTTP {response.status_code}: {short(response.text, 300)}"
            )
        entity_id = response.json()["id"]
        ctx.bind(item["name"], "entity", entity_id)
        for key, value in (item.get("annotations") or {}).items():
            body = {"field": annotation_field_id(ctx, key), "entity": entity_id, "value": value}
            response = ctx.client().request("POST", "/api/annotation_value", body)
            if response.status_code not in (200, 201):
                raise AssertionError(
                    f"annotation {key} on {item['name']}: HTTP {response.status_code}: {short(response.text, 300)}"
                )


def secrets(ctx: CaseContext, items: list[dict]) -> None:
    for item in items or []:
        output = _manage(ctx, "create_secret", "--owner", item.get("owner", "admin"), f"--value={item['value']}")
        lines = [line.strip() for line in output.splitlines() if line.strip()]
        if not lines:
            raise AssertionError(f"create_secret printed no handle for {item['name']}")
        ctx.secrets[item["name"]] = lines[-1]


def create_all(ctx: CaseContext, spec: dict | None) -> None:
    spec = spec or {}
    annotation_fields(ctx, spec.get("annotation_fields") or [])
    collections(ctx, spec.get("collections") or [])
    entities(ctx, spec.get("entities") or [])
    secrets(ctx, spec.get("secrets") or [])
