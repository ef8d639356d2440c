"""``resolwe_runtime_utils`` for tools that a program runs (resolwe-bio's ``tools/`` scripts).

Written here against the functions those tools call, not copied: each builder (``save``,
``save_file``, ``info``, ``warning``, ``error``, ``progress``, ...) returns a message, and
``send_message`` appends it to ``$RESOLWE_COMMANDS_FILE`` as the matching ``re-*`` utility
would, so a tool reports exactly as the shell program around it does and needs no credentials.
File and directory outputs are checked at the end of the run, as for ``re-save-file``.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Any, NamedTuple

from resolwe.process.records import write_record

__all__ = [
    "Message",
    "annotate_entity",
    "checkrc",
    "error",
    "export_file",
    "info",
    "progress",
    "save",
    "save_dir",
    "save_dir_list",
    "save_file",
    "save_file_list",
    "save_list",
    "send_message",
    "warning",
]


class Message(NamedTuple):
    """One report: the command name of ``resolwe_prefect/runtime/commands.py`` and its arguments."""

    command: str
    args: tuple[str, ...]


def _text(value: Any) -> str:
    return value if isinstance(value, str) else json.dumps(value)


def save(key: str, value: Any) -> Message:
    """Set output ``key`` (a JSON value, or text)."""
    return Message("save", (key, _text(value)))


def save_list(key: str, *values: Any) -> Message:
    """Set list output ``key``."""
    return Message("save-list", (key, *(_text(v) for v in values)))


def save_file(key: str, path: str, *refs: str) -> Message:
    """Set file output ``key`` (with the files it refers to)."""
    return Message("save-file", (key, path, *refs))


def _entries(items: Iterable[str]) -> tuple[str, ...]:
    return tuple(str(item) for item in items)


def save_file_list(key: str, *files: str) -> Message:
    """Set file list output ``key``: each entry ``FILE`` or ``FILE:REF,REF``."""
    return Message("save-file-list", (key, *_entries(files)))


def save_dir(key: str, path: str, *refs: str) -> Message:
    """Set directory output ``key``."""
    return Message("save-dir", (key, path, *refs))


def save_dir_list(key: str, *dirs: str) -> Message:
    """Set directory list output ``key``: each entry ``DIR`` or ``DIR:REF,REF``."""
    return Message("save-dir-list", (key, *_entries(dirs)))


def info(value: str) -> Message:
    """An informational message on the Data object."""
    return Message("info", (str(value),))


def warning(value: str) -> Message:
    """A warning on the Data object."""
    return Message("warning", (str(value),))


def error(value: str) -> Message:
    """An error: the Data object ends in ER with this message."""
    return Message("error", (str(value),))


def progress(value: float) -> Message:
    """Progress between 0 and 1."""
    return Message("progress", (str(value),))


def checkrc(rc: int, *args: Any) -> Message:
    """An error unless ``rc`` is 0 or one of the accepted codes; the last text argument is the message."""
    return Message("checkrc", (str(rc), *(str(arg) for arg in args)))


def annotate_entity(path: str, value: Any) -> Message:
    """Annotate the Data object's entity (``group.field``)."""
    return Message("annotate-entity", (path, _text(value)))


def export_file(path: str) -> Message:
    """Export a file for the processes this run spawns."""
    return Message("export", (path,))


def send_message(message: Message) -> None:
    """Report ``message`` for the running Data object."""
    if not isinstance(message, Message):
        raise TypeError("send_message takes a message built by save(), info(), warning(), error(), ...")
    if not write_record(message.command, *message.args):
        raise RuntimeError(f"Could not report {message.command}: RESOLWE_COMMANDS_FILE is not writable.")
