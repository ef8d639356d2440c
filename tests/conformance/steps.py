"""Steps (README "Steps") and waiting."""

from __future__ import annotations

import time

import requests
from assertions import check_all
from context import FINAL, CaseContext
from markers import resolve, resolve_body, substitute_path
from matching import body_text, short, subset
from registration import check_outcomes, register

DEFAULT_WAIT = 120
POLL = 0.1


def run_steps(ctx: CaseContext, steps: list[dict]) -> None:
    for index, step in enumerate(steps or []):
        kind = next((k for k in HANDLERS if k in step), None)
        if kind is None:
            raise AssertionError(f"step {index + 1}: unknown step {sorted(step)}")
        try:
            HANDLERS[kind](ctx, step)
        except AssertionError as error:
            label = step[kind] if isinstance(step[kind], str) else ""
            raise AssertionError(f"step {index + 1} ({kind}{' ' + label if label else ''}): {error}") from None


# --- creating Data ---------------------------------------------------------------------------


def _data_body(ctx: CaseContext, step: dict, actor: str | None) -> dict:
    body: dict = {"process": {"slug": step["process"]}}
    if "input" in step:
        body["input"] = resolve(ctx, step["input"] or {}, actor)
    for key in ("name", "tags", "descriptor", "process_resources"):
        if key in step:
            body[key] = resolve(ctx, step[key], actor)
    if step.get("collection") is not None:
        body["collection"] = {"id": ctx.id_of(step["collection"])}
    if step.get("descriptor_schema") is not None:
        body["descriptor_schema"] = {"slug": step["descriptor_schema"]}
    return body


def _check_reject(ctx: CaseContext, response: requests.Response, spec: dict) -> None:
    if response.status_code != spec.get("http_status", 400):
        raise AssertionError(
            f"expected rejection with HTTP {spec.get('http_status', 400)}, got {response.status_code}: {short(response.text, 200)}"
        )
    text = body_text(response)
    for needle in spec.get("error_contains") or []:
        if needle not in text:
            message = f"response body lacks {needle!r}: {short(response.text, 200)}"
            if spec.get("soft"):
                ctx.warnings.append(f"soft message: {message}")
            else:
                raise AssertionError(message)


def _create(ctx: CaseContext, step: dict, path: str = "/api/data", name_key: str = "create") -> None:
    actor = step.get("as")
    body = _data_body(ctx, step, actor)
    response = ctx.client(actor).request("POST", path, body, timeout=min(60, ctx.remaining()))
    if "expect_reject" in step:
        _check_reject(ctx, response, step["expect_reject"] or {})
        if response.status_code in (200, 201):
            raise AssertionError("expected a rejection, but the object was created")
        return
    expected = step.get("expect_response") or {}
    wanted_status = expected.get("http_status", 201 if name_key == "create" else None)
    if wanted_status is not None and response.status_code != wanted_status:
        raise AssertionError(f"expected HTTP {wanted_status}, got {response.status_code}: {short(response.text, 300)}")
    if response.status_code not in (200, 201):
        raise AssertionError(f"HTTP {response.status_code}: {short(response.text, 300)}")
    data = response.json()
    if "same_as" in expected and data["id"] != ctx.id_of(expected["same_as"]):
        raise AssertionError(
            f"expected the object {expected['same_as']} ({ctx.id_of(expected['same_as'])}), got {data['id']}"
        )
    for other in expected.get("different_from") or []:
        if data["id"] == ctx.id_of(other):
            raise AssertionError(f"expected an object different from {other}, got the same id {data['id']}")
    ctx.bind(step[name_key], "data", data["id"])
    _wait(ctx, step[name_key], step.get("wait", "final"))


def _get_or_create(ctx: CaseContext, step: dict) -> None:
    _create(ctx, step, "/api/data/get_or_create", "get_or_create")


def _wait(ctx: CaseContext, name: str, spec) -> None:
    if spec in (None, "final"):
        wait_final(ctx, [name], DEFAULT_WAIT)
    elif spec == "none":
        return
    elif isinstance(spec, dict) and "settle" in spec:
        _sleep(ctx, float(spec["settle"]))
    elif isinstance(spec, dict) and "until_status" in spec:
        wanted, deadline = (
            spec["until_status"],
            time.monotonic() + min(float(spec.get("timeout", DEFAULT_WAIT)), ctx.remaining()),
        )
        seen = []
        while True:
            status = ctx.data(name)["status"]
            if not seen or seen[-1] != status:
                seen.append(status)
            if status == wanted:
                return
            if status in FINAL:
                raise AssertionError(f"{name} never reached {wanted}; statuses seen {seen}")
            if time.monotonic() > deadline:
                raise AssertionError(
                    f"{name} did not reach {wanted} within {spec.get('timeout', DEFAULT_WAIT)} s; statuses seen {seen}"
                )
            time.sleep(POLL)
    else:
        raise AssertionError(f"unknown wait {spec!r}")


def _sleep(ctx: CaseContext, seconds: float) -> None:
    time.sleep(max(0.0, min(seconds, ctx.remaining())))


def wait_final(ctx: CaseContext, names: list[str], timeout: float) -> None:
    """Wait until the objects and everything they created transitively (children) are final."""
    deadline = time.monotonic() + min(timeout, ctx.remaining())
    roots = [ctx.id_of(n) for n in names]
    client = ctx.client()
    confirmed = False
    while True:
        pending, seen, queue = {}, set(), list(roots)
        while queue:
            data_id = queue.pop()
            if data_id in seen:
                continue
            seen.add(data_id)
            response = client.request("GET", f"/api/data/{data_id}")
            if response.status_code == 404:
                continue
            status = response.json().get("status")
            if status not in FINAL:
                pending[data_id] = status
            children = client.request("GET", f"/api/data/{data_id}/children")
            if children.status_code == 200:
                queue.extend(int(child["id"]) for child in children.json())
        if not pending:
            if confirmed:
                return
            confirmed = True  # look once more: spawned objects may appear right after their parent finishes
            time.sleep(0.3)
            continue
        confirmed = False
        if time.monotonic() > deadline:
            described = ", ".join(f"{ctx.name_of(i)}={s}" for i, s in pending.items())
            raise AssertionError(f"not final after {timeout:.0f} s: {described}")
        time.sleep(POLL)


def _wait_final(ctx: CaseContext, step: dict) -> None:
    wait_final(ctx, list(step["wait_final"]), float(step.get("timeout", DEFAULT_WAIT)))


def wait_final_all(ctx: CaseContext, timeout: float = DEFAULT_WAIT) -> None:
    deadline = time.monotonic() + min(timeout, ctx.remaining())
    while True:
        pending = [d for d in ctx.client().list("/api/data") if d.get("status") not in FINAL]
        if not pending:
            return
        if time.monotonic() > deadline:
            raise AssertionError(
                f"{len(pending)} objects not final after {timeout:.0f} s: "
                f"{[(d['id'], d['status']) for d in pending[:10]]}"
            )
        time.sleep(max(POLL, 0.25))


def _wait_final_all_step(ctx: CaseContext, step: dict) -> None:
    if step["wait_final_all"]:
        wait_final_all(ctx, float(step.get("timeout", DEFAULT_WAIT)))


# --- other steps -----------------------------------------------------------------------------


def _register(ctx: CaseContext, step: dict) -> None:
    spec = step["register"] or {}
    result = register(
        ctx,
        spec.get("processes") or [],
        spec.get("files") or [],
        spec.get("descriptors") or [],
        bool(spec.get("force")),
        bool(spec.get("retire")),
    )
    problem = check_outcomes(result, step.get("expect"))
    if problem:
        raise AssertionError(problem)


def _api(ctx: CaseContext, step: dict) -> None:
    spec = step["api"]
    actor = spec.get("as", step.get("as"))
    path = substitute_path(ctx, spec["path"])
    body = resolve_body(ctx, spec.get("body"), actor) if "body" in spec else None
    response = ctx.client(actor).request(spec.get("method", "GET"), path, body, timeout=min(60, ctx.remaining()))
    expected = step.get("expect_response") or {}
    if "http_status" in expected and response.status_code != expected["http_status"]:
        raise AssertionError(
            f"{spec.get('method', 'GET')} {path}: expected HTTP {expected['http_status']}, "
            f"got {response.status_code}: {short(response.text, 300)}"
        )
    soft = expected.get("soft")
    problems = []
    if "body_subset" in expected:
        try:
            actual = response.json()
        except ValueError:
            actual = response.text
        problem = subset(resolve(ctx, expected["body_subset"]), actual, "body")
        if problem:
            problems.append(problem)
    text = body_text(response)
    for needle in expected.get("body_contains") or []:
        if needle not in text:
            problems.append(f"body lacks {needle!r}: {short(response.text, 200)}")
    for problem in problems:
        if soft:
            ctx.warnings.append(f"soft message: {problem}")
        else:
            raise AssertionError(problem)
    if "bind" in step:
        segments = [s for s in path.split("?")[0].split("/") if s]
        kind = segments[1] if len(segments) > 1 and segments[0] == "api" else "data"
        ctx.bind(step["bind"], kind, response.json()["id"])


def _find(ctx: CaseContext, step: dict) -> None:
    query, wanted = step.get("query") or {}, int(step.get("count", 1))
    parent = ctx.id_of(query["child_of"])
    deadline = time.monotonic() + min(15, ctx.remaining())
    while True:
        children = ctx.client().list(f"/api/data/{parent}/children")
        found = [
            c for c in children if "process" not in query or (c.get("process") or {}).get("slug") == query["process"]
        ]
        if len(found) == wanted or time.monotonic() > deadline:
            break
        time.sleep(0.2)
    if len(found) != wanted:
        slugs = [(c.get("process") or {}).get("slug") for c in children]
        raise AssertionError(
            f"expected {wanted} children of {query['child_of']} with process {query.get('process')}, "
            f"found {len(found)} (children: {slugs})"
        )
    if wanted == 1:
        ctx.bind(step["find"], "data", found[0]["id"])


def _check(ctx: CaseContext, step: dict) -> None:
    check_all(ctx, step["check"])


def _terminate(ctx: CaseContext, step: dict) -> None:
    data = ctx.data(step["terminate"])
    flow_run_id = data.get("flow_run_id")
    if not flow_run_id:
        raise AssertionError(f"{step['terminate']} has no flow_run_id (status {data.get('status')})")
    response = requests.post(
        f"{ctx.stack.prefect_api}/flow_runs/{flow_run_id}/set_state",
        json={"state": {"type": "CANCELLING", "name": "Cancelling"}, "force": True},
        timeout=30,
    )
    if response.status_code >= 300:
        raise AssertionError(f"Prefect set_state answered {response.status_code}: {short(response.text, 200)}")


HANDLERS = {
    "create": _create,
    "get_or_create": _get_or_create,
    "register": _register,
    "api": _api,
    "find": _find,
    "check": _check,
    "terminate": _terminate,
    "wait_final": _wait_final,
    "wait_final_all": _wait_final_all_step,
    "sleep": lambda ctx, step: _sleep(ctx, float(step["sleep"])),
}
