"""Reading the records that the ``re-*`` runtime utilities append.

The utilities (``resolwe_prefect/runtime/bin``) are POSIX shell scripts that
run inside the process image.  They never talk to a database or the network:
each invocation appends one *record* to the file named by the environment
variable ``RESOLWE_COMMANDS_FILE``.  The runner reads that file while the
program runs (for ``re-progress``) and at the end.

Record format
=============

Every record is a sequence of NUL-terminated fields followed by a newline::

    b"RE1" NUL  <argc> NUL  <name> NUL  <arg_1> NUL ... <arg_argc> NUL  b"\\n"

* ``RE1`` is a magic/version marker,
* ``argc`` is the decimal number of arguments that follow the name,
* ``name`` is the command name (see below),
* the arguments are the raw shell arguments (UTF-8; undecodable bytes are
  replaced).  A shell argument can never contain NUL, so arguments may hold
  anything else: newlines, quotes, JSON, ...

A record is written by a single ``printf`` while holding a ``mkdir`` lock
(``$RESOLWE_COMMANDS_FILE.lock``), so concurrent writers (background jobs)
never interleave.  The reader only returns complete records; a partially
written record stays buffered until the rest arrives.  Garbage (which can
only come from someone else writing into the file) is skipped by searching
for the next ``\\nRE1\\0``.

Put the commands file OUTSIDE the Data object's working directory (the
lock directory is created next to it, and ``collect_outputs`` purges
everything in the working directory that no output references).

Command names and arguments
===========================

==================  ========================================================
name                arguments (as given on the command line)
==================  ========================================================
``save``            KEY VALUE
``save-list``       KEY VALUE...
``save-file``       KEY FILE REF...          (FILE and refs checked to exist)
``save-file-list``  KEY FILE[:REF,REF...]...  (checked to exist)
``save-dir``        KEY DIR REF...           (checked to exist)
``save-dir-list``   KEY DIR[:REF,REF...]...   (checked to exist)
``progress``        VALUE                    (float in [0, 1])
``checkrc``         RC [ACCEPTED_RC...] [MESSAGE]   (``re-checkrc`` passes ``$?``)
``info``            MESSAGE
``warning``         MESSAGE
``error``           MESSAGE  (also written by the file utilities when a file,
                    directory or reference is missing, with Resolwe's text)
``annotate-entity`` GROUP.FIELD VALUE
``export``          FILE     (checked to exist)
``run``             PROCESS_SLUG INPUT_JSON
==================  ========================================================

:class:`resolwe_prefect.runtime.report.ProcessReport` gives them Resolwe's
semantics.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

MAGIC = b"RE1\0"
_RESYNC = b"\n" + MAGIC

ENV_VAR = "RESOLWE_COMMANDS_FILE"

__all__ = ["Command", "CommandReader", "ENV_VAR", "encode_record", "parse_records"]


@dataclass(frozen=True)
class Command:
    """One ``re-*`` invocation."""

    name: str
    args: tuple[str, ...]


def encode_record(name: str, *args: str) -> bytes:
    """Encode one record exactly as the shell utilities write it (for tests/tools)."""
    fields = [str(len(args)), name, *args]
    out = MAGIC
    for field in fields:
        data = field.encode("utf-8")
        if b"\0" in data:
            raise ValueError("record fields cannot contain NUL")
        out += data + b"\0"
    return out + b"\n"


def _decode(raw: bytes) -> str:
    return raw.decode("utf-8", errors="replace")


def parse_records(buffer: bytes) -> tuple[list[Command], int]:
    """Parse complete records from ``buffer``.

    :return: the commands and the number of bytes consumed; the rest of the
        buffer is an incomplete record (or the start of one).
    """
    commands: list[Command] = []
    pos = 0
    size = len(buffer)
    while pos < size:
        if not buffer.startswith(MAGIC, pos):
            if MAGIC.startswith(buffer[pos:]):
                break  # The beginning of a record: wait for more.
            nxt = buffer.find(_RESYNC, pos)
            if nxt < 0:
                # Keep a tail that might be the start of "\nRE1\0".
                pos = max(pos, size - len(_RESYNC) + 1)
                break
            pos = nxt + 1
            continue

        cursor = pos + len(MAGIC)
        end = buffer.find(b"\0", cursor)
        if end < 0:
            break
        count_raw = buffer[cursor:end]
        if not count_raw.isdigit():
            pos += 1  # Corrupt: resync.
            continue
        count = int(count_raw)
        cursor = end + 1
        fields: list[bytes] = []
        complete = True
        for _ in range(count + 1):  # name + args
            end = buffer.find(b"\0", cursor)
            if end < 0:
                complete = False
                break
            fields.append(buffer[cursor:end])
            cursor = end + 1
        if not complete:
            break
        if cursor >= size:
            break  # Waiting for the terminating newline.
        if buffer[cursor : cursor + 1] != b"\n":
            pos += 1  # Corrupt: resync.
            continue
        cursor += 1
        commands.append(Command(name=_decode(fields[0]), args=tuple(_decode(f) for f in fields[1:])))
        pos = cursor
    return commands, pos


class CommandReader:
    """Incremental reader of a commands file.

    The runner polls :meth:`read_new` while the program runs and once more at
    the end; every complete record is returned exactly once, in file order.
    A missing file simply yields no commands.
    """

    def __init__(self, path: Path):
        self.path = Path(path)
        self._offset = 0
        self._buffer = b""

    def read_new(self) -> list[Command]:
        """Return the complete records appended since the previous call."""
        try:
            with open(self.path, "rb") as handle:
                handle.seek(self._offset)
                data = handle.read()
        except FileNotFoundError:
            return []
        if not data:
            return []
        self._offset += len(data)
        self._buffer += data
        commands, consumed = parse_records(self._buffer)
        self._buffer = self._buffer[consumed:]
        return commands

    @property
    def pending_bytes(self) -> int:
        """Bytes of an incomplete record waiting for the rest."""
        return len(self._buffer)


def read_all(path: Path) -> list[Command]:
    """Read every complete record of a commands file."""
    return CommandReader(path).read_new()


def commands_file_env(path: os.PathLike | str) -> dict[str, str]:
    """The environment entry that points the utilities at ``path``."""
    return {ENV_VAR: os.fspath(path)}
