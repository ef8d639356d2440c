"""Run a Python process: ``python3 -m resolwe.process.run /runtime/run.json``.

``run.json`` (written by the flow run)::

    {"source": "/runtime/process.py", "slug": "...",
     "data": {"id": 42, "name": "...", "slug": "...", "entity_id": 7, "collection_id": 3, "contributor_id": 1},
     "inputs": {...}, "requirements": {...},
     "process": {"id": .., "slug": "...", "version": "...", "type": "...", "input_schema": [...], "output_schema": [...]}}

The program source is executed in a fresh module named ``python_program``
(as Resolwe does), the ``Process`` subclass with the slug is found, and its
``run(inputs, outputs)`` called. What it reports goes to
``$RESOLWE_COMMANDS_FILE``. Exit status: 0 on success; 1 after an error (an
uncaught exception is reported with its message, ``str(exception)``); a
program's own ``sys.exit(n)`` keeps ``n``.
"""

from __future__ import annotations

import inspect
import json
import os
import sys
import traceback
import types
from typing import Any

from .fields import ProcessAbort, fields_from_schema
from .models import Data, _running, set_running
from .models import Process as ProcessModel
from .runtime import Inputs, Outputs, Process, _report_error

#: The name of the module the program runs in (Resolwe's).
MODULE_NAME = "python_program"

__all__ = ["MODULE_NAME", "find_processes", "load_program", "main"]


def _unbuffer() -> None:
    """Flush stdout/stderr at every line, so the log is complete after a crash."""
    for stream in (sys.stdout, sys.stderr):
        reconfigure = getattr(stream, "reconfigure", None)
        if reconfigure is not None:
            try:
                reconfigure(line_buffering=True)
            except (ValueError, OSError):
                pass


def _drop_working_directory() -> None:
    """Keep the Data directory off ``sys.path`` (``-m`` puts it first), as Resolwe's runner does.

    A file the program or an upload leaves there (``gzip.py``, ``json.py``)
    must not shadow a module imported later.
    """
    cwd = os.getcwd()
    sys.path[:] = [entry for entry in sys.path if entry not in ("", ".", cwd)]


def load_program(source: str, path: str) -> types.ModuleType:
    """Execute the program in a fresh module named ``python_program``."""
    module = types.ModuleType(MODULE_NAME)
    module.__file__ = path
    sys.modules[MODULE_NAME] = module  # For pickling, dataclasses and typing lookups.
    exec(compile(source, path, "exec"), module.__dict__)
    return module


def find_processes(module: types.ModuleType) -> dict[str, Any]:
    """The concrete process classes of a module, by slug."""
    processes: dict[str, Any] = {}
    for value in list(vars(module).values()):
        if (
            not inspect.isclass(value)
            or value is Process
            or not issubclass(value, Process)
            or "_abstract" in value.__dict__
            or getattr(value, "_meta", None) is None
        ):
            continue
        slug = value._meta.metadata.slug
        if slug is not None:
            processes[slug] = value
    return processes


def _running_data(spec: dict[str, Any]) -> Data:
    data_spec = dict(spec.get("data") or {})
    data = Data(data_spec.get("id"))
    data._prefill(data_spec)
    process_spec = {key: value for key, value in (spec.get("process") or {}).items() if key != "id"}
    process = ProcessModel((spec.get("process") or {}).get("id"))
    process._prefill(process_spec)
    data._values["process"] = process
    data._cache["process"] = process.id
    return data


def _error(message: str) -> int:
    _report_error(message)
    return 1


def main(argv: list[str] | None = None) -> int:
    """Run the process described by ``run.json``; return the exit status."""
    argv = sys.argv[1:] if argv is None else argv
    _unbuffer()
    _drop_working_directory()
    run_json = argv[0] if argv else "/runtime/run.json"
    try:
        with open(run_json, encoding="utf-8") as handle:
            spec = json.load(handle)
        source_path = spec["source"]
        slug = spec["slug"]
        with open(source_path, encoding="utf-8") as handle:
            source = handle.read()
    except (OSError, ValueError, KeyError, TypeError) as error:
        print(f"ERROR: cannot read the run description {run_json}: {error!r}", file=sys.stderr)
        return _error(f"Cannot start the Python process: invalid run description ({error}).")

    sys.argv = [source_path]
    try:
        module = load_program(source, source_path)
    except SystemExit:
        raise
    except BaseException as error:
        traceback.print_exc()
        return _error(str(error) or type(error).__name__)

    processes = find_processes(module)
    process_class = processes.get(slug)
    if process_class is None:
        print(f"Found the following processes in module '{MODULE_NAME}':\n", file=sys.stderr)
        for found_slug, found in processes.items():
            print(f"  {found_slug} ({found._meta.metadata.name})", file=sys.stderr)
        return _error(f"Unable to find process '{slug}'.")

    meta = process_class._meta
    process_spec = spec.get("process") or {}
    input_fields = meta.inputs or fields_from_schema(process_spec.get("input_schema") or [])
    output_fields = meta.outputs or fields_from_schema(process_spec.get("output_schema") or [])
    data = _running_data(spec)
    inputs = Inputs(input_fields, spec.get("inputs") or {})
    outputs = Outputs(output_fields)
    set_running(data.id, inputs, outputs)
    _running["requirements"] = spec.get("requirements")

    try:
        process = process_class(data)
        process.run(inputs, outputs)
    except ProcessAbort as abort:
        # Already reported (self.error, a failed re-import).
        return abort.code if isinstance(abort.code, int) else 1
    except SystemExit as exit_:
        code = exit_.code
        if code is None or isinstance(code, int):
            return code or 0
        print(code, file=sys.stderr)
        return 1
    except Exception as error:
        traceback.print_exc()
        return _error(str(error) or type(error).__name__)
    except BaseException:
        traceback.print_exc()
        return _error("Exception while running process")
    finally:
        sys.stdout.flush()
        sys.stderr.flush()
    return 0


if __name__ == "__main__":
    sys.exit(main())
