"""Output collection and checks at the end of a bash run.

:func:`collect_outputs` does what Resolwe does between the end of the program
and ``handle_finish``:

* ``basic:json:`` outputs whose value names a file in the data directory are
  replaced by the parsed file content (``re-save storage storage.json``);
  invalid JSON gives "Value of '<field>' must be a valid JSON, current: <text>".
  The runner turns the JSON into a Storage object.
* every file/dir output (``basic:file:``, ``list:basic:file:``, ``basic:dir:``,
  ``list:basic:dir:``, also inside groups) and its ``refs`` must exist inside
  the data directory, with the messages of ``resolwe-runtime-utils``:
  "Output 'output' set to a missing file: 'i-dont-exist.zip'.",
  "... set to a missing directory: ...", "... set to missing references: ...".
* ``size`` (the file, or all files of the dir) and ``total_size`` (plus the
  refs, a file counted once) are set on those outputs, as Resolwe's
  ``hydrate_size`` does.
* every output key must be defined by the output schema: "Field definition
  (<key>) missing in schema" (Resolwe's ``iterate_fields``).
* files and directories not referenced by any output (the file or dir, its
  refs, and the directories leading to them) are removed, except ``keep``
  (``stdout.txt``, ``jsonout.txt`` by default).
* ``jsonout.txt`` is written with the final output.
* a non-zero return code without an earlier error adds "Process return code
  is not 0." (``handle_finish``).

Errors follow Resolwe's listener: once the report has an error (the object is
ER), no further errors are added.  Every entry is truncated to 255
characters.  ``CollectResult.errors`` is the complete process_error list
(report errors first).  ``size`` is the sum of the sizes of all regular files
left in the data directory (Resolwe: the sum over the stored files,
including stdout.txt/jsonout.txt); ``files`` lists them relative to the data
directory, directories with a trailing ``/`` (Resolwe's ``collect``).

Files staged with ``re-export`` are not referenced by outputs: call
:func:`stage_exports` BEFORE :func:`collect_outputs`, or pass them in
``keep``.

The worker runs this as root over a directory the program controlled, so
every read goes through :mod:`.safepath`: a path whose links leave the data
directory counts as missing (outputs, refs, JSON files, exports), FIFOs
and devices are never opened, sizes are ``lstat`` sizes and ``jsonout.txt``
replaces whatever the program left under that name instead of writing
through it.
"""

from __future__ import annotations

import copy
import json
import os
import stat
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from resolwe_prefect.schema.walk import Schema, iterate_fields

from . import safepath
from .purge import inventory, purge
from .report import ProcessReport, truncate_message

__all__ = ["CollectResult", "collect_outputs", "stage_exports", "RC_ERROR"]

RC_ERROR = "Process return code is not 0."


@dataclass
class CollectResult:
    """Final output and bookkeeping of one run."""

    output: dict
    errors: list[str]
    size: int
    files: list[str] = field(default_factory=list)


# --------------------------------------------------------------------- helpers
def _relative(data_dir: Path, value: Any) -> str | None:
    """Normalised path of ``value`` relative to ``data_dir`` (None if outside)."""
    if not isinstance(value, str) or not value:
        return None
    path = Path(value)
    if not path.is_absolute():
        path = data_dir / path
    normalised = os.path.normpath(str(path))
    root = os.path.normpath(str(data_dir))
    if normalised == root:
        return "."
    if not normalised.startswith(root + os.sep):
        return None
    return os.path.relpath(normalised, root)


def _file_size(path: Path) -> int:
    try:
        return path.lstat().st_size  # a link counts as a link, whatever it points to
    except OSError:
        return 0


def _entry_size(path: Path, seen: set[Path]) -> int:
    """Size of a file or of all files under a directory, each file once; links are never followed."""
    if path.is_dir() and not path.is_symlink():
        candidates = [(entry, info.st_size) for entry, info in safepath.walk(path) if not stat.S_ISDIR(info.st_mode)]
    else:
        candidates = [(path, _file_size(path))]
    total = 0
    for candidate, size in candidates:
        key = Path(os.path.normpath(str(candidate)))
        if key not in seen:
            seen.add(key)
            total += size
    return total


# ------------------------------------------------------------------ main entry
def collect_outputs(
    report: ProcessReport,
    *,
    output_schema: Schema,
    data_dir: Path,
    return_code: int,
    keep: Iterable[str] = ("stdout.txt", "jsonout.txt"),
) -> CollectResult:
    """Check, size and purge the outputs of a finished bash run."""
    data_dir = Path(data_dir).resolve()
    output = copy.deepcopy(report.output)
    found: list[str] = []  # errors found here
    referenced: set[str] = set()

    def error(message: str) -> None:
        message = truncate_message(message)
        if message not in found:
            found.append(message)

    # In the order the program reported its outputs, as Resolwe does; every unknown key first.
    visits = list(iterate_fields(output, output_schema, unknown=True, value_order=True))
    for visit in visits:
        if visit.kind == "unknown":
            error(f"Field definition ({visit.name}) missing in schema")

    def check_entry(obj: Any, kind: str, key: str) -> None:
        if not isinstance(obj, dict) or kind not in obj:
            return  # Type validation is done elsewhere.
        value = obj[kind]
        rel = _relative(data_dir, value)
        path = data_dir / rel if rel is not None else None
        wanted = safepath.FILE if kind == "file" else safepath.DIR
        if rel is None or path is None or safepath.kind(data_dir, path) != wanted:
            what = "a missing file" if kind == "file" else "a missing directory"
            error(f"Output '{key}' set to {what}: '{value}'.")
            return
        refs = obj.get("refs") or []
        ref_paths: list[Path] = []
        missing_refs: list[str] = []
        for ref in refs if isinstance(refs, list) else []:
            ref_rel = _relative(data_dir, ref)
            if ref_rel is None or safepath.kind(data_dir, data_dir / ref_rel) is None:
                missing_refs.append(str(ref))
            else:
                ref_paths.append(data_dir / ref_rel)
                referenced.add(ref_rel)
        if missing_refs:
            error(f"Output '{key}' set to missing references: '{', '.join(missing_refs)}'.")
        referenced.add(rel)
        seen: set[Path] = set()
        obj["size"] = _entry_size(path, seen)
        obj["total_size"] = obj["size"] + sum(_entry_size(ref, seen) for ref in ref_paths)

    for visit in (visit for visit in visits if visit.kind == "leaf"):
        type_, value, key = visit.type, visit.value, visit.path
        if type_.startswith("basic:file"):
            check_entry(value, "file", key)
        elif type_.startswith("list:basic:file"):
            for item in value if isinstance(value, list) else []:
                check_entry(item, "file", key)
        elif type_.startswith("basic:dir"):
            check_entry(value, "dir", key)
        elif type_.startswith("list:basic:dir"):
            for item in value if isinstance(value, list) else []:
                check_entry(item, "dir", key)
        elif type_.startswith("basic:json") and isinstance(value, str):
            rel = _relative(data_dir, value)
            raw = safepath.read_file(data_dir, data_dir / rel) if rel is not None else None
            if raw is not None:
                content = raw.decode(errors="replace")
                try:
                    visit.values[visit.name] = json.loads(content)
                except ValueError:
                    error(f"Value of '{visit.name}' must be a valid JSON, current: {content.rstrip()}")

    keep_set = {os.path.normpath(k) for k in keep}
    purge(data_dir, referenced | keep_set)

    errors = list(report.error)
    if not errors:
        errors.extend(found)
    if return_code != 0 and not errors:
        errors.append(RC_ERROR)

    try:  # never through a link or FIFO the program left under that name
        safepath.write_new(data_dir, "jsonout.txt", (json.dumps(output, sort_keys=True) + "\n").encode())
    except OSError:
        pass

    files, size = inventory(data_dir)
    return CollectResult(output=output, errors=errors, size=size, files=files)


def stage_exports(report: ProcessReport, data_dir: Path, destination: Path) -> dict[str, str]:
    """Copy the ``re-export``-ed files out of ``data_dir`` before the purge.

    :return: mapping of the exported file name (as given to ``re-export``) to
        the staged absolute path, i.e. Resolwe's ``export_files_mapper``: a
        spawned process gets ``{"file": name, "file_temp": mapper[name]}``.
    """
    data_dir = Path(data_dir).resolve()
    destination = Path(destination)
    destination.mkdir(parents=True, exist_ok=True)
    mapper: dict[str, str] = {}
    for index, name in enumerate(report.exports):
        rel = _relative(data_dir, name)
        if rel is None:
            continue
        target = destination / f"{index}_{Path(rel).name}"
        target.unlink(missing_ok=True)
        # A link to a server file (or another object's) is not exported: the child would upload it.
        if safepath.copy_file(data_dir, data_dir / rel, target):
            mapper[name] = str(target.resolve())
    return mapper
