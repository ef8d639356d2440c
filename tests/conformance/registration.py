"""One registration call through `resolwe-prefect manage register --json` (README "Process lookup")."""

from __future__ import annotations

import json
import uuid

from context import CaseContext
from corpus import write_yaml
from matching import short


def register(ctx: CaseContext, processes=(), files=(), descriptors=(), force=False, retire=False) -> dict:
    """Register in one call; returns {"outcomes": [...], "text": stdout+stderr}.

    The order is: explicit `files`, then the YAML definitions of `processes` (a temp file, slug by
    slug), then the Python files that define any of `processes` (README "Process lookup"). A Python
    file holds many processes; when one is passed, `--slug` keeps the registration to the named
    processes and to those of the explicit files.
    """
    args = ["register", "--json"]
    call = uuid.uuid4().hex[:8]
    explicit = []
    for name in files or []:
        path = ctx.corpus.root / "processes" / name
        if not path.is_file():
            raise AssertionError(f"register: no file processes/{name}")
        explicit.append(path)
        args += ["--file", str(path)]
    python_files = []
    if processes or not files:
        # A temp file with the selected definitions in corpus order; an empty one keeps `register`
        # from falling back to its default process directories.
        entries, python_files = ctx.corpus.process_selection(list(processes or []))
        args += ["--file", str(write_yaml(ctx.tmp / f"processes-{call}.yml", entries))]
    for path in python_files:
        args += ["--file", str(path)]
    if python_files:
        slugs = set(processes) | {slug for path in explicit for slug in ctx.corpus.file_slugs(path)}
        for slug in sorted(slugs):
            args += ["--slug", slug]
    entries = ctx.corpus.descriptor_entries(list(descriptors or []))
    args += ["--descriptor-file", str(write_yaml(ctx.tmp / f"descriptors-{call}.yml", entries))]
    if force:
        args.append("--force")
    if retire:
        args.append("--retire")
    result = ctx.stack.manage(*args, timeout=min(180, ctx.remaining()))
    text = (result.stdout or "") + "\n" + (result.stderr or "")
    if result.returncode != 0:
        raise AssertionError(f"register failed (exit {result.returncode}): {text.strip()[-600:]}")
    start = result.stdout.find("[")
    try:
        outcomes = json.loads(result.stdout[start:]) if start >= 0 else []
    except ValueError as error:
        raise AssertionError(f"register --json printed no JSON list ({error}): {result.stdout[-300:]}") from error
    return {"outcomes": outcomes, "text": text}


def check_outcomes(result: dict, expected: dict | None) -> str | None:
    """`outcomes: {"slug@version" | "slug": outcome}` and `messages_contain`."""
    expected = expected or {}
    outcomes = result["outcomes"]
    summary = [f"{o.get('slug')}@{o.get('version')}={o.get('outcome')}" for o in outcomes]
    for key, wanted in (expected.get("outcomes") or {}).items():
        slug, _, version = str(key).partition("@")
        found = [o for o in outcomes if o.get("slug") == slug and (not version or str(o.get("version")) == version)]
        if not found:
            return f"register: no outcome for {key}; got {summary}"
        wrong = [o for o in found if o.get("outcome") != wanted]
        if wrong:
            detail = "; ".join(filter(None, [wrong[0].get("message", "")] + list(wrong[0].get("errors") or [])))
            return f"register {key}: expected {wanted}, got {wrong[0].get('outcome')} ({short(detail, 200)})"
    text = (
        result["text"]
        + "\n"
        + "\n".join(str(o.get("message", "")) + "\n" + "\n".join(map(str, o.get("errors") or [])) for o in outcomes)
    )
    for needle in expected.get("messages_contain") or []:
        if needle not in text:
            return (
                f"register: no message contains {needle!r}; messages {short([o.get('message') for o in outcomes], 300)}"
            )
    return None
