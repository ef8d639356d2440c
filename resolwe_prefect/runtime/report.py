"""Resolwe semantics of the ``re-*`` reports.

:class:`ProcessReport` folds the :class:`~resolwe_prefect.runtime.commands.Command`
records of one run into what Resolwe's listener would have stored on the
Data object (``handle_update_output``, ``handle_process_log``,
``handle_update_rc``, ``handle_progress``, ``handle_annotate``, ``handle_run``,
``export_files``), with the value parsing of ``resolwe-runtime-utils``:

* values of ``re-save``/``re-save-list``/``re-annotate-entity``/``re-run`` are
  parsed as JSON (newlines replaced by spaces first, as ``_get_json`` does)
  and fall back to the string: ``42`` -> 42, ``'"42"'`` -> "42", ``true`` ->
  True, ``2013-12-31`` -> "2013-12-31".  ``NaN``/``Infinity`` are not JSON
  here and stay strings.
* a dotted key (``group.field``) writes into nested dicts (``dict_dot``).
* ``process_info``/``process_warning``/``process_error`` entries longer than
  255 characters are cut to 252 + ``"..."``; an entry equal to an existing one
  is not added again.
* the first error (``re-error``, a failed ``re-checkrc``, a missing file or
  reference reported by the utilities) switches the object to ER; like
  Resolwe's listener, every later report is then ignored (the runner still
  finishes the object; see :func:`~resolwe_prefect.runtime.collect.collect_outputs`).
* ``progress`` holds Resolwe's ``process_progress``: percent, 0-100
  (``re-progress 0.1`` -> 10.0).  Invalid values give the warnings
  "Progress must be a float." / "Progress must be a float between 0 and 1.".
* ``rc`` is the return code of the first failed ``re-checkrc`` (later
  failures update it, as ``handle_update_rc`` does).

Values for ``basic:json:`` outputs that name a file are read at collection
time (they need the output schema): see ``collect.py``.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from .commands import Command

#: max_length of the items of Data.process_info/warning/error.
MAX_MESSAGE_LENGTH = 255

__all__ = [
    "MAX_MESSAGE_LENGTH",
    "ProcessReport",
    "dict_dot_set",
    "parse_value",
    "truncate_message",
]


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not valid JSON")


def parse_value(value: str) -> Any:
    """``resolwe_runtime_utils._get_json``: JSON first, else the string."""
    value = value.replace("\n", " ")
    try:
        parsed = json.loads(value, parse_constant=_reject_constant)
    except ValueError:
        return value
    if isinstance(parsed, float) and not math.isfinite(parsed):  # e.g. 1e999
        return value
    return parsed


def truncate_message(message: str, max_length: int = MAX_MESSAGE_LENGTH) -> str:
    """Cut a process_info/warning/error entry the way Resolwe does."""
    message = str(message)
    if len(message) > max_length:
        return message[: max_length - 3] + "..."
    return message


def dict_dot_set(container: dict, key: str, value: Any) -> None:
    """Set ``container["a"]["b"] = value`` for key ``"a.b"`` (Resolwe ``dict_dot``)."""
    parts = key.split(".")
    current = container
    for part in parts[:-1]:
        nested = current.get(part)
        if not isinstance(nested, dict):
            nested = {}
            current[part] = nested
        current = nested
    current[parts[-1]] = value


def _split_spec(spec: str) -> tuple[str, list[str] | None]:
    """Split ``path[:ref,ref]`` (re-save-file-list / re-save-dir-list)."""
    if ":" in spec:
        path, refs = spec.split(":", 1)
        if ":" in refs:
            raise ValueError("only one colon")
        refs_list = [ref.strip() for ref in refs.split(",")] if refs else None
        return path, refs_list
    return spec, None


@dataclass
class ProcessReport:
    """Everything a bash program reported through the ``re-*`` utilities."""

    output: dict = field(default_factory=dict)
    info: list[str] = field(default_factory=list)
    warning: list[str] = field(default_factory=list)
    error: list[str] = field(default_factory=list)
    progress: float | None = None
    rc: int | None = None
    annotations: dict[str, Any] = field(default_factory=dict)
    spawned: list[dict] = field(default_factory=list)
    exports: list[str] = field(default_factory=list)

    # ------------------------------------------------------------------ state
    @property
    def failed(self) -> bool:
        """True once an error was reported (the Data object is ER)."""
        return bool(self.error)

    def _log(self, target: list[str], message: str) -> None:
        message = truncate_message(message)
        if message not in target:
            target.append(message)

    def add_info(self, message: str) -> None:
        """Append to process_info (truncated, no duplicates)."""
        self._log(self.info, message)

    def add_warning(self, message: str) -> None:
        """Append to process_warning (truncated, no duplicates)."""
        self._log(self.warning, message)

    def add_error(self, message: str) -> None:
        """Append to process_error (truncated, no duplicates); the object is ER.

        Also for the runner, e.g. when ``annotations`` cannot be stored
        ("No entity to annotate ...") or a spawn fails.
        """
        self._log(self.error, message)

    # ---------------------------------------------------------------- applying
    def apply_all(self, commands) -> None:
        """Apply several commands in order."""
        for command in commands:
            self.apply(command)

    def apply(self, command: Command) -> None:
        """Apply one command with Resolwe's semantics.

        After the first error every command is ignored (Resolwe's listener
        refuses everything but ``finish`` for a Data object in ER).
        """
        if self.failed:
            return
        handler: Callable[[tuple[str, ...]], None] | None = getattr(
            self, "_cmd_" + command.name.replace("-", "_"), None
        )
        if handler is None:
            # Resolwe's listener logs unknown commands and ignores them.
            return
        handler(tuple(command.args))

    def _usage_error(self, utility: str, usage: str, got: int) -> None:
        self.add_error(
            f"Unexpected error in '{utility}': usage: {utility} {usage} "
            f"({got} argument{'s' if got != 1 else ''} given)."
        )

    # save ---------------------------------------------------------------
    def _cmd_save(self, args: tuple[str, ...]) -> None:
        if len(args) != 2:
            return self._usage_error("re-save", "KEY VALUE", len(args))
        dict_dot_set(self.output, args[0], parse_value(args[1]))

    def _cmd_save_list(self, args: tuple[str, ...]) -> None:
        if len(args) < 1:
            return self._usage_error("re-save-list", "KEY VALUE...", len(args))
        dict_dot_set(self.output, args[0], [parse_value(value) for value in args[1:]])

    def _save_entry(self, kind: str, utility: str, args: tuple[str, ...]) -> None:
        if len(args) < 2:
            return self._usage_error(utility, f"KEY {kind.upper()} [REF...]", len(args))
        entry: dict[str, Any] = {kind: args[1]}
        if len(args) > 2:
            entry["refs"] = list(args[2:])
        dict_dot_set(self.output, args[0], entry)

    def _save_entries(self, kind: str, utility: str, args: tuple[str, ...]) -> None:
        if len(args) < 1:
            return self._usage_error(utility, f"KEY {kind.upper()}[:REF,REF...]...", len(args))
        entries = []
        for spec in args[1:]:
            try:
                path, refs = _split_spec(spec)
            except ValueError:
                return self.add_error(f"Only one colon ':' allowed in {kind}-refs specification.")
            entry: dict[str, Any] = {kind: path}
            if refs:
                entry["refs"] = refs
            entries.append(entry)
        dict_dot_set(self.output, args[0], entries)

    def _cmd_save_file(self, args: tuple[str, ...]) -> None:
        self._save_entry("file", "re-save-file", args)

    def _cmd_save_dir(self, args: tuple[str, ...]) -> None:
        self._save_entry("dir", "re-save-dir", args)

    def _cmd_save_file_list(self, args: tuple[str, ...]) -> None:
        self._save_entries("file", "re-save-file-list", args)

    def _cmd_save_dir_list(self, args: tuple[str, ...]) -> None:
        self._save_entries("dir", "re-save-dir-list", args)

    # logs -----------------------------------------------------------------
    def _one_message(self, utility: str, args: tuple[str, ...]) -> str | None:
        if len(args) != 1:
            self._usage_error(utility, "MESSAGE", len(args))
            return None
        return args[0]

    def _cmd_info(self, args: tuple[str, ...]) -> None:
        message = self._one_message("re-info", args)
        if message is not None:
            self.add_info(message)

    def _cmd_warning(self, args: tuple[str, ...]) -> None:
        message = self._one_message("re-warning", args)
        if message is not None:
            self.add_warning(message)

    def _cmd_error(self, args: tuple[str, ...]) -> None:
        message = self._one_message("re-error", args)
        if message is not None:
            self.add_error(message)

    # progress / rc ----------------------------------------------------------
    def _cmd_progress(self, args: tuple[str, ...]) -> None:
        if len(args) != 1:
            return self._usage_error("re-progress", "FLOAT", len(args))
        try:
            value = float(json.loads(args[0]))
        except (TypeError, ValueError):
            return self.add_warning("Progress must be a float.")
        if not 0 <= value <= 1:
            return self.add_warning("Progress must be a float between 0 and 1.")
        self.progress = float(round(value * 100))

    def _cmd_checkrc(self, args: tuple[str, ...]) -> None:
        if not args:
            return self._usage_error("re-checkrc", "[RC...] [MESSAGE]", 0)
        try:
            rc = int(args[0])
        except ValueError:
            return self.add_error(f"Invalid return code: '{args[0]}'.")
        accepted: list[int] = []
        message = ""
        rest = args[1:]
        if rest:
            for code in rest[:-1]:
                try:
                    accepted.append(int(code))
                except ValueError:
                    return self.add_error(f"Invalid return code: '{code}'.")
            try:
                accepted.append(int(rest[-1]))
            except ValueError:
                message = rest[-1]
        if rc in accepted:
            rc = 0
        # handle_update_rc: only a change to a new non-zero code counts.
        current = self.rc or 0
        if rc not in (0, current):
            if current == 0:
                self.add_error(message or "Unspecified error")
            self.rc = rc

    # entity / spawn ---------------------------------------------------------
    def _cmd_annotate_entity(self, args: tuple[str, ...]) -> None:
        if len(args) != 2:
            return self._usage_error("re-annotate-entity", "GROUP.FIELD VALUE", len(args))
        self.annotations[args[0]] = parse_value(args[1])

    def _cmd_export(self, args: tuple[str, ...]) -> None:
        if len(args) != 1:
            return self._usage_error("re-export", "FILE", len(args))
        if args[0] not in self.exports:
            self.exports.append(args[0])

    def _cmd_run(self, args: tuple[str, ...]) -> None:
        if len(args) != 2:
            return self._usage_error("re-run", "PROCESS_SLUG INPUT_JSON", len(args))
        self.spawned.append({"process": args[0], "input": parse_value(args[1])})
