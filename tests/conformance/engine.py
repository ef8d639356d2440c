"""Engine checks (README "Engine checks"): the expression engine called in-process."""

from __future__ import annotations

from matching import equal, short

# The corpus names Resolwe's test filter module; this runner ships an equivalent one.
MODULE_MAP = {"resolwe.flow.tests.expression_filters": "tests.conformance.expression_filters"}
DEFAULT_FILTER_MODULES = ["tests.conformance.expression_filters"]


def map_modules(value):
    """Replace corpus filter module names anywhere in a settings value."""
    if isinstance(value, str):
        return MODULE_MAP.get(value, value)
    if isinstance(value, list):
        return [map_modules(v) for v in value]
    if isinstance(value, dict):
        return {k: map_modules(v) for k, v in value.items()}
    return value


def filter_modules(settings: dict | None) -> list[str]:
    """Custom filter modules from FLOW_EXPRESSION_ENGINES (Resolwe's list of {ENGINE, CUSTOM_FILTERS} or names)."""
    modules = list(DEFAULT_FILTER_MODULES)
    for entry in (settings or {}).get("FLOW_EXPRESSION_ENGINES") or []:
        names = entry.get("CUSTOM_FILTERS", []) if isinstance(entry, dict) else [entry]
        modules.extend(m for m in map_modules(names) if m not in modules)
    return modules


def run_checks(checks: list[dict], settings: dict | None) -> None:
    from resolwe_prefect.expressions import EvaluationError, get_engine

    engine = get_engine("jinja", tuple(filter_modules(settings)))
    for index, check in enumerate(checks or []):
        mode = check.get("mode", "block")
        source = check.get("template") if mode == "block" else check.get("expression")
        label = f"engine check {index + 1} ({mode} {source!r})"
        try:
            if mode == "block":
                result = engine.evaluate_block(source, check.get("context") or {})
            else:
                result = engine.evaluate_inline(source, check.get("context") or {})
        except EvaluationError as error:
            if check.get("error"):
                continue
            raise AssertionError(f"{label}: unexpected EvaluationError: {error}") from None
        if check.get("error"):
            raise AssertionError(f"{label}: expected an evaluation error, got {short(result)}")
        if not equal(check.get("result"), result):
            raise AssertionError(f"{label}: expected {short(check.get('result'))}, got {short(result)}")
