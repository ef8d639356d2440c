"""Conformance runner: executes a Resolwe conformance corpus against a throwaway resolwe-prefect stack.

    python tests/conformance/run.py --corpus DIR [--backend local|docker] [--case ID-or-prefix ...] [--keep]

Prints `PASS <id>`, `FAIL <id>: <why>` or `SKIP <id>: <capabilities>` per case (warnings indented
below), then `N passed, M failed, K skipped`. Exit status 1 when a case failed.
"""

from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path[:0] = [str(HERE), str(HERE.parents[1])]

# What this implementation supports, per backend (README "Capabilities").
CAPABILITIES = {
    "local": {
        "terminate-hook",
        "engine-harness",
        "settings",
        "memory-limits",
        "cpu-time-limits",
        "network-isolation",
        "python-process",
    },
    "docker": {
        "terminate-hook",
        "engine-harness",
        "settings",
        "memory-limits",
        "cpu-time-limits",
        "network-isolation",
        "container-executor",
        "docker-image",
        "python-process",
    },
}
CASE_TIMEOUT = 300

from assertions import check_all  # noqa: E402
from context import CaseContext, CaseTimeout  # noqa: E402
from corpus import Corpus, select  # noqa: E402
from engine import map_modules, run_checks  # noqa: E402
from fixtures import create_all  # noqa: E402
from registration import register  # noqa: E402
from stack import Stack  # noqa: E402
from steps import run_steps, wait_final_all  # noqa: E402


def missing_capabilities(case: dict, backend: str) -> list[str]:
    return sorted(set(case.get("requires") or []) - CAPABILITIES[backend])


def run_case(
    case: dict, corpus: Corpus, stack: Stack, clients: dict, tmp: Path, timeout: float, warnings: list[str]
) -> None:
    """Run one case; raises AssertionError (or CaseTimeout) on failure; warnings go to `warnings`."""
    settings = map_modules(case.get("settings")) if case.get("settings") else None
    if case.get("engine_checks") is not None and not case.get("steps"):
        run_checks(case["engine_checks"], settings)
        return
    stack.apply_settings(settings)
    ctx = CaseContext(case, corpus, stack, clients, tmp, time.monotonic() + timeout, warnings=warnings)
    if case.get("isolation", "shared") == "fresh-db":
        try:
            wait_final_all(ctx, 60)  # let leftovers of earlier cases finish before their rows disappear
        except AssertionError as error:
            ctx.warnings.append(f"before flushing: {error}")
        stack.flush()
    spec = case.get("register") or {}
    if spec.get("processes") or spec.get("descriptors"):
        result = register(ctx, spec.get("processes") or [], [], spec.get("descriptors") or [])
        rejected = [o for o in result["outcomes"] if o.get("outcome") == "rejected"]
        if rejected:
            first = rejected[0]
            raise AssertionError(
                f"register: {first.get('slug')}@{first.get('version')} rejected: "
                f"{first.get('message')} {first.get('errors') or ''}".strip()
            )
    create_all(ctx, case.get("fixtures"))
    run_steps(ctx, case.get("steps") or [])
    check_all(ctx, case.get("expect") or [])
    if case.get("engine_checks"):
        run_checks(case["engine_checks"], settings)


def print_log_tail(path: Path, lines: int = 40) -> None:
    """The end of the worker's log under a failed case, so that a failure in CI can be read without the stack."""
    try:
        tail = path.read_text(errors="replace").splitlines()[-lines:]
    except OSError:
        return
    for text in tail:
        print(f"  | {text[:300]}", flush=True)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--corpus", required=True, type=Path)
    parser.add_argument("--backend", choices=sorted(CAPABILITIES), default="local")
    parser.add_argument("--case", nargs="+", action="extend", default=[], help="case id or id prefix (repeatable)")
    parser.add_argument("--keep", action="store_true", help="keep the database and state directory")
    parser.add_argument("--case-timeout", type=float, default=CASE_TIMEOUT)
    args = parser.parse_args(argv)

    corpus = Corpus.load(args.corpus)
    cases = select(corpus.cases, args.case)
    counts = {"passed": 0, "failed": 0, "skipped": 0}
    runnable = [c for c in cases if not missing_capabilities(c, args.backend)]
    needs_stack = any(c.get("steps") or not c.get("engine_checks") for c in runnable)
    stack = Stack(args.backend, keep=args.keep, extra_pythonpath=[]) if needs_stack else None
    tmp = Path(tempfile.mkdtemp(prefix="resolwe-conformance-files-"))
    clients: dict = {}
    try:
        stack_error = None
        if stack is not None:
            try:
                stack.start()
            except Exception as error:  # noqa: BLE001 - reported on every case that needs the stack
                stack_error = f"the stack did not start: {' '.join(str(error).split())[:600]}"
        for case in cases:
            case_id = case.get("id", "?")
            missing = missing_capabilities(case, args.backend)
            if missing:
                print(f"SKIP {case_id}: {', '.join(missing)}", flush=True)
                counts["skipped"] += 1
                continue
            warnings: list[str] = []
            try:
                if stack_error and (case.get("steps") or case.get("engine_checks") is None):
                    raise AssertionError(stack_error)
                run_case(case, corpus, stack, clients, tmp, args.case_timeout, warnings)
                line = f"PASS {case_id}"
                counts["passed"] += 1
            except CaseTimeout:
                line = f"FAIL {case_id}: timed out after {args.case_timeout:.0f} s"
                counts["failed"] += 1
            except AssertionError as error:
                line = f"FAIL {case_id}: {' '.join(str(error).split())}"
                counts["failed"] += 1
            except Exception as error:  # noqa: BLE001 - one broken case must not stop the run
                line = f"FAIL {case_id}: runner error {type(error).__name__}: {' '.join(str(error).split())[:400]}"
                counts["failed"] += 1
            print(line, flush=True)
            for warning in warnings:
                print(f"  warning: {' '.join(warning.split())}", flush=True)
            if line.startswith("FAIL") and stack is not None:
                print_log_tail(stack.home / "worker.log")
    finally:
        if stack is not None:
            stack.close()
        shutil.rmtree(tmp, ignore_errors=True)
    print(f"{counts['passed']} passed, {counts['failed']} failed, {counts['skipped']} skipped", flush=True)
    return 1 if counts["failed"] else 0


if __name__ == "__main__":
    sys.exit(main())
