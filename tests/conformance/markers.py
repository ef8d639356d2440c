"""Value markers (README "Value markers") and `{name}` substitution in paths and body keys."""

from __future__ import annotations

import re

from context import CaseContext

NONEXISTENT_ID = 2_000_000_000
_FMT = re.compile(r"\{(\w+)(?:\.(\w+))?\}")


def is_marker(ctx: CaseContext, value) -> bool:
    """A marker has exactly a marker's keys and a value that can be one; `{secret: text}` in an
    expected output is literal unless `text` names a secret fixture."""
    if not isinstance(value, dict) or not value:
        return False
    keys = set(value)
    if keys in ({"ref"}, {"ref", "attr"}):
        return isinstance(value["ref"], str)
    if keys == {"output_of", "field"}:
        return isinstance(value["output_of"], str)
    if keys == {"secret"}:
        return isinstance(value["secret"], str) and value["secret"] in ctx.secrets
    if keys == {"upload"}:
        return isinstance(value["upload"], str) and (ctx.corpus.root / "files" / value["upload"]).is_file()
    if keys == {"fmt"}:
        return isinstance(value["fmt"], str)
    if keys == {"nonexistent_id"}:
        return isinstance(value["nonexistent_id"], str)
    return False


def attribute(ctx: CaseContext, name: str, attr: str | None):
    if attr in (None, "id"):
        return ctx.id_of(name)
    obj = ctx.fetch(name)
    if attr not in obj:
        raise AssertionError(f"{name} has no attribute {attr!r}")
    return obj[attr]


def resolve(ctx: CaseContext, value, actor: str | None = None):
    """Resolve every marker inside `value` (recursively); everything else is literal."""
    if is_marker(ctx, value):
        return _resolve_marker(ctx, value, actor)
    if isinstance(value, dict):
        return {key: resolve(ctx, item, actor) for key, item in value.items()}
    if isinstance(value, list):
        return [resolve(ctx, item, actor) for item in value]
    return value


def _resolve_marker(ctx: CaseContext, marker: dict, actor: str | None):
    if "ref" in marker:
        return attribute(ctx, marker["ref"], marker.get("attr"))
    if "fmt" in marker:
        return _FMT.sub(lambda m: str(attribute(ctx, m.group(1), m.group(2))), marker["fmt"])
    if "upload" in marker:
        path = ctx.corpus.root / "files" / marker["upload"]
        if not path.is_file():
            raise AssertionError(f"upload: no file files/{marker['upload']}")
        uploader = actor if actor not in (None, "anonymous") else "admin"
        return ctx.client(uploader).upload(path)
    if "secret" in marker:
        if marker["secret"] not in ctx.secrets:
            raise AssertionError(f"secret fixture {marker['secret']!r} is not defined")
        return ctx.secrets[marker["secret"]]
    if "output_of" in marker:
        output = ctx.data(marker["output_of"]).get("output") or {}
        if marker["field"] not in output:
            raise AssertionError(f"{marker['output_of']} has no output {marker['field']!r} (output: {output})")
        return output[marker["field"]]
    if "nonexistent_id" in marker:
        kind = marker["nonexistent_id"]
        endpoint = {"data": "/api/data", "storage": "/api/storage"}.get(kind, f"/api/{kind}")
        candidate = NONEXISTENT_ID
        while ctx.client().request("GET", f"{endpoint}/{candidate}").status_code == 200:
            candidate += 1
        return candidate
    raise AssertionError(f"unknown marker {marker}")


def substitute_path(ctx: CaseContext, path: str) -> str:
    return re.sub(r"\{(\w+)\}", lambda m: str(ctx.id_of(m.group(1))), path)


def resolve_body(ctx: CaseContext, body, actor: str | None = None):
    """Markers in values, and mapping keys written `"{name}"` become the bound id as a string."""
    if is_marker(ctx, body):
        return _resolve_marker(ctx, body, actor)
    if isinstance(body, dict):
        result = {}
        for key, value in body.items():
            match = re.fullmatch(r"\{(\w+)\}", str(key))
            result[str(ctx.id_of(match.group(1))) if match else key] = resolve_body(ctx, value, actor)
        return result
    if isinstance(body, list):
        return [resolve_body(ctx, item, actor) for item in body]
    return body
