"""Reading one Data directory for its users without ever leaving it.

Programs, and the archives users upload, can leave symbolic links, hard
links, FIFOs, devices and sockets in a Data directory. The server reads
these directories as root (downloads, listings and signed URLs of the API,
output collection, duplication, staging of re-exported files), so every
such read must stay inside the directory of the ONE Data object it is for:

* a path is resolved (links followed) and must land inside that Data
  directory (``<DATA_DIR>/<id>``, not all of ``DATA_DIR``: a link to
  ``../<other id>/x`` is another user's file), else it does not exist;
* only regular files are opened, and only after an ``lstat`` said so. They
  are opened one component at a time below the directory with
  ``O_NOFOLLOW`` (a link swapped in after the check is refused, not
  followed) and ``O_NONBLOCK`` (a FIFO swapped in cannot block us);
* FIFOs, devices and sockets are skipped, never opened.

Pure Python, no Django: the runtime layer (collect.py) and the API share it.
"""

from __future__ import annotations

import os
import shutil
import stat
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

__all__ = [
    "DIR", "FILE", "Entry", "OutsidePath", "contain", "copy_file", "kind", "list_dir", "open_file",
    "read_file", "walk", "write_new",
]  # fmt: skip

FILE = "file"
DIR = "dir"

_CLOEXEC = getattr(os, "O_CLOEXEC", 0)
_DIR_FLAGS = getattr(os, "O_PATH", os.O_RDONLY) | os.O_DIRECTORY | os.O_NOFOLLOW | _CLOEXEC
_FILE_FLAGS = os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | getattr(os, "O_NOCTTY", 0) | _CLOEXEC

StrPath = str | os.PathLike


class OutsidePath(FileNotFoundError):
    """Not a regular file (or directory) inside the Data directory: missing, leading out, or special."""


@dataclass(frozen=True)
class Entry:
    """One listable entry of a directory: a regular file or directory, reached without leaving the root."""

    name: str
    kind: str  # FILE or DIR (of the link target, for links that stay inside)
    path: Path  # resolved, inside the root
    mtime: float


def _base(root: StrPath) -> Path:
    return Path(os.path.realpath(root))


def contain(root: StrPath, path: StrPath) -> Path | None:
    """``path`` (absolute, or relative to ``root``) with all links resolved, if it exists inside ``root``.

    ``root`` itself counts as inside; anything else (missing, a link loop,
    a link anywhere outside, even into a sibling Data directory) is ``None``.
    """
    base = _base(root)
    candidate = Path(path)
    if not candidate.is_absolute():
        candidate = Path(root) / candidate
    try:
        resolved = candidate.resolve(strict=True)
    except (OSError, RuntimeError):
        return None
    return resolved if resolved == base or resolved.is_relative_to(base) else None


def kind(root: StrPath, path: StrPath) -> str | None:
    """:data:`FILE` or :data:`DIR` for what ``path`` resolves to inside ``root``; ``None`` otherwise."""
    resolved = contain(root, path)
    if resolved is None:
        return None
    try:
        mode = os.lstat(resolved).st_mode
    except OSError:
        return None
    return FILE if stat.S_ISREG(mode) else DIR if stat.S_ISDIR(mode) else None


def _open_dir_beneath(base: Path, parts: tuple[str, ...], last_flags: int = _DIR_FLAGS) -> int:
    """A descriptor of the directory ``base/parts``, walked one component at a time, following no link."""
    fd = os.open(base, _DIR_FLAGS)
    steps = [*parts] or ["."]  # "." reopens ``base`` itself with ``last_flags``
    try:
        for index, part in enumerate(steps):
            flags = last_flags if index == len(steps) - 1 else _DIR_FLAGS
            child = os.open(part, flags, dir_fd=fd)
            os.close(fd)
            fd = child
    except OSError:
        os.close(fd)
        raise
    return fd


def _open_regular_at(dir_fd: int, name: str) -> int:
    """Open ``name`` in ``dir_fd`` if it is a regular file; never a link, FIFO, device or socket."""
    before = os.stat(name, dir_fd=dir_fd, follow_symlinks=False)
    if not stat.S_ISREG(before.st_mode):
        raise OutsidePath(name)
    fd = os.open(name, _FILE_FLAGS, dir_fd=dir_fd)
    after = os.fstat(fd)
    if not stat.S_ISREG(after.st_mode) or (after.st_dev, after.st_ino) != (before.st_dev, before.st_ino):
        os.close(fd)  # replaced between the check and the open
        raise OutsidePath(name)
    return fd


def _parts(root: StrPath, path: StrPath) -> tuple[Path, tuple[str, ...]]:
    resolved = contain(root, path)
    if resolved is None:
        raise OutsidePath(str(path))
    base = _base(root)
    return base, resolved.relative_to(base).parts


def open_file(root: StrPath, path: StrPath) -> BinaryIO:
    """The regular file ``path`` inside ``root``, opened for reading; :class:`OutsidePath` otherwise."""
    base, parts = _parts(root, path)
    if not parts:
        raise OutsidePath(str(path))
    try:
        dir_fd = _open_dir_beneath(base, parts[:-1])
        try:
            fd = _open_regular_at(dir_fd, parts[-1])
        finally:
            os.close(dir_fd)
    except OutsidePath:
        raise
    except OSError as error:  # ELOOP/ENOTDIR: a component became a link; ENOENT: gone
        raise OutsidePath(str(path)) from error
    return os.fdopen(fd, "rb")


def read_file(root: StrPath, path: StrPath, limit: int | None = None) -> bytes | None:
    """The content (at most ``limit`` bytes) of a regular file inside ``root``, or ``None``."""
    try:
        with open_file(root, path) as handle:
            return handle.read() if limit is None else handle.read(limit)
    except OSError:
        return None


def copy_file(root: StrPath, path: StrPath, target: StrPath) -> bool:
    """Copy the regular file ``path`` inside ``root`` to a new file ``target``; ``False`` if it is not one."""
    try:
        source = open_file(root, path)
    except OSError:
        return False
    with source, open(target, "xb") as out:
        shutil.copyfileobj(source, out)
    return True


def list_dir(root: StrPath, directory: StrPath) -> list[Entry]:
    """The regular files and directories in ``directory``, sorted by name; raises :class:`OutsidePath`.

    Links are reported as what they point to when that stays inside
    ``root`` and left out otherwise; FIFOs, devices and sockets are left out.
    """
    base, parts = _parts(root, directory)
    where = base.joinpath(*parts)
    try:
        fd = _open_dir_beneath(base, parts, os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | _CLOEXEC)
    except OSError as error:
        raise OutsidePath(str(directory)) from error
    entries: list[Entry] = []
    try:
        with os.scandir(fd) as scan:
            for item in scan:
                try:
                    info = item.stat(follow_symlinks=False)
                    if stat.S_ISLNK(info.st_mode):
                        target = contain(root, where / item.name)
                        what = kind(root, target) if target is not None else None
                        if target is not None and what is not None:
                            entries.append(Entry(item.name, what, target, os.stat(target).st_mtime))
                        continue
                except OSError:  # removed meanwhile
                    continue
                if stat.S_ISREG(info.st_mode) or stat.S_ISDIR(info.st_mode):
                    what = FILE if stat.S_ISREG(info.st_mode) else DIR
                    entries.append(Entry(item.name, what, where / item.name, info.st_mtime))
    finally:
        os.close(fd)
    return sorted(entries, key=lambda entry: entry.name)


def walk(top: StrPath) -> Iterator[tuple[Path, os.stat_result]]:
    """Every entry below ``top`` with its ``lstat``: links are reported, never followed (``os.fwalk``)."""
    top = Path(top)
    if not top.is_dir() or top.is_symlink():
        return
    for dirpath, dirnames, filenames, dir_fd in os.fwalk(top, follow_symlinks=False):
        for name in (*dirnames, *filenames):
            try:
                info = os.stat(name, dir_fd=dir_fd, follow_symlinks=False)
            except OSError:
                continue
            yield Path(dirpath) / name, info


def write_new(root: StrPath, name: str, data: bytes) -> bool:
    """Replace the entry ``name`` directly in ``root`` by a new regular file holding ``data``.

    A link, FIFO or file a program left under that name is removed first,
    so the write never goes through it; a directory there is left alone
    (``False``).
    """
    if os.sep in name or name in ("", ".", ".."):
        raise ValueError(f"not a plain name: {name!r}")
    dir_fd = os.open(_base(root), _DIR_FLAGS)
    try:
        try:
            if stat.S_ISDIR(os.stat(name, dir_fd=dir_fd, follow_symlinks=False).st_mode):
                return False
            os.unlink(name, dir_fd=dir_fd)
        except FileNotFoundError:
            pass
        fd = os.open(name, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | _CLOEXEC, 0o644, dir_fd=dir_fd)
    finally:
        os.close(dir_fd)
    with os.fdopen(fd, "wb") as handle:
        handle.write(data)
    return True
