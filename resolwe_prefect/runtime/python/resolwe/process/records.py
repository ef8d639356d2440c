"""Append report records to ``$RESOLWE_COMMANDS_FILE``.

The same records the ``re-*`` shell utilities write (see
``resolwe_prefect/runtime/commands.py`` on the host side)::

    b"RE1" NUL <argc> NUL <name> NUL <arg_1> NUL ... <arg_argc> NUL b"\\n"

and the same ``mkdir`` lock (``$RESOLWE_COMMANDS_FILE.lock``), so records of
this program and of the utilities it runs (``re-import``, or ``re-*`` called
through ``Cmd``) never interleave.
"""

from __future__ import annotations

import errno
import os
import sys
import threading
import time

ENV_VAR = "RESOLWE_COMMANDS_FILE"
MAGIC = b"RE1\0"

_thread_lock = threading.Lock()

__all__ = ["ENV_VAR", "encode_record", "write_record"]


def _clean(value: object) -> bytes:
    """One record field: text without NUL (a shell argument cannot hold one either)."""
    return str(value).replace("\0", "\\0").encode("utf-8", errors="replace")


def encode_record(name: str, *args: object) -> bytes:
    """Encode one record exactly as ``_re_record`` in ``_re_lib.sh`` does."""
    out = bytearray(MAGIC)
    for field in (str(len(args)), name, *args):
        out += _clean(field) + b"\0"
    out += b"\n"
    return bytes(out)


def _acquire(lock_dir: str) -> bool:
    """Take the ``mkdir`` lock as the shell utilities do; False if writing without it."""
    tries = 0
    while True:
        try:
            os.mkdir(lock_dir)
            return True
        except FileExistsError:
            pass
        except OSError as error:
            if error.errno not in (errno.EEXIST,):
                return False  # Cannot create the lock at all (read-only directory?).
        tries += 1
        if tries == 200:
            # ~10 s: assume the holder was killed mid-write; break the lock.
            try:
                os.rmdir(lock_dir)
            except OSError:
                pass
        elif tries > 400:
            return False
        time.sleep(0.05)


def write_record(name: str, *args: object) -> bool:
    """Append one record; False (and a message on stderr) when it cannot be written."""
    path = os.environ.get(ENV_VAR)
    if not path:
        print(f"resolwe.process: {ENV_VAR} is not set; report dropped: {name} {args!r}", file=sys.stderr)
        return False
    data = encode_record(name, *args)
    lock_dir = path + ".lock"
    with _thread_lock:
        locked = _acquire(lock_dir)
        try:
            fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
            try:
                view = memoryview(data)
                while view:
                    written = os.write(fd, view)
                    view = view[written:]
            finally:
                os.close(fd)
        except OSError as error:
            print(f"resolwe.process: cannot write to {path}: {error}; report dropped: {name}", file=sys.stderr)
            return False
        finally:
            if locked:
                try:
                    os.rmdir(lock_dir)
                except OSError:
                    pass
    return True
