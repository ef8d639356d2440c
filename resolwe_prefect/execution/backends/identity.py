"""Who a program runs as, and who owns its files before, during and after the run.

Every run gets an unprivileged identity of its own (uid = gid =
``RUN_UID_BASE + data id``), unknown to the host, so one user's program can
neither read nor signal another's, and owns nothing of ours. The program sees
it under the name ``resolwe`` through the ``passwd`` and ``group`` files
written here and mounted over ``/etc/passwd`` and ``/etc/group`` (Resolwe's
processes check ``getent passwd $UID``).

While a program runs, its Data and runtime directories belong to its
identity. When it ends, :func:`seal` gives them back to us: the program's
identity then owns nothing, a process of it that survived could not change a
finished object, and the files become readable to the dependants' programs,
which see them only through their read-only input mounts.
"""

from __future__ import annotations

import os
import pwd
import stat
from dataclasses import dataclass
from pathlib import Path

from django.conf import settings

#: Above every ordinary and sub-uid range of a Linux host, below Kubernetes' limit (2**31 - 1).
DEFAULT_RUN_UID_BASE = 1_000_000_000
RUN_UID_SPAN = 1_000_000_000
PROGRAM_USER = "resolwe"


@dataclass(frozen=True)
class ProgramIdentity:
    """The uid and gid a program runs as, and the name it resolves to inside its sandbox."""

    uid: int
    gid: int
    name: str = PROGRAM_USER

    @property
    def spec(self) -> str:
        return f"{self.uid}:{self.gid}"


def user_ids(spec: str) -> tuple[int, int, str]:
    """``"nobody"``, ``"1000"`` or ``"1000:1000"`` -> (uid, gid, name)."""
    user, _, group = spec.partition(":")
    if user.isdigit():
        uid = int(user)
        try:
            name = pwd.getpwuid(uid).pw_name
        except KeyError:
            name = PROGRAM_USER
        return uid, int(group) if group.isdigit() else uid, name
    entry = pwd.getpwnam(user)
    return entry.pw_uid, int(group) if group.isdigit() else entry.pw_gid, entry.pw_name


def program_identity(data_id: int, configured: str | None = None) -> ProgramIdentity:
    """The identity of one run: a site's fixed ``uid[:gid]`` when configured, else one of its own."""
    if configured:
        uid, gid, name = user_ids(configured)
        return ProgramIdentity(uid, gid, name)
    base = int(settings.FLOW_EXECUTOR.get("RUN_UID_BASE") or DEFAULT_RUN_UID_BASE)
    uid = base + int(data_id) % RUN_UID_SPAN
    return ProgramIdentity(uid, uid)


def identity_files(identity: ProgramIdentity, directory: Path) -> tuple[Path, Path]:
    """Write the ``passwd`` and ``group`` files a program's sandbox shows; returns their paths."""
    directory.mkdir(parents=True, exist_ok=True)
    passwd = directory / "passwd"
    group = directory / "group"
    passwd.write_text(
        "root:x:0:0:root:/root:/usr/sbin/nologin\n"
        f"{identity.name}:x:{identity.uid}:{identity.gid}:Resolwe program:/data:/bin/bash\n"
        "nobody:x:65534:65534:nobody:/nonexistent:/usr/sbin/nologin\n"
    )
    group.write_text(f"root:x:0:\n{identity.name}:x:{identity.gid}:\nnogroup:x:65534:\n")
    for path in (passwd, group):
        path.chmod(0o644)
    return passwd, group


def _walk(top: Path):
    """Every entry under ``top`` (itself included), never following a link."""
    yield top
    for root, dirs, files in os.walk(top):
        for name in (*dirs, *files):
            yield Path(root) / name


def give_to_program(identity: ProgramIdentity, *directories: Path) -> None:
    """Let the program's identity own its working directories (only root can, and only root needs to)."""
    if os.geteuid() != 0:
        return
    for top in directories:
        for entry in _walk(Path(top)):
            os.chown(entry, identity.uid, identity.gid, follow_symlinks=False)


def seal(data_dir: Path) -> None:
    """Take a finished program's Data directory back: ours, readable by all, written by none but us.

    Special files (FIFOs, sockets, devices) are removed: they are never
    outputs, and reading one would hang or reach outside the directory.
    """
    if not Path(data_dir).is_dir():
        return
    uid, gid = os.geteuid(), os.getegid()
    for entry in _walk(Path(data_dir)):
        try:
            info = entry.lstat()
        except FileNotFoundError:
            continue
        if uid != 0 and info.st_uid != uid:
            continue  # not ours to change: only root takes files back
        if stat.S_ISLNK(info.st_mode):
            if uid == 0:
                os.chown(entry, uid, gid, follow_symlinks=False)
            continue
        if not (stat.S_ISDIR(info.st_mode) or stat.S_ISREG(info.st_mode)):
            entry.unlink()
            continue
        if uid == 0:
            os.chown(entry, uid, gid, follow_symlinks=False)
        executable = stat.S_ISDIR(info.st_mode) or info.st_mode & 0o111
        entry.chmod(0o755 if executable else 0o644)


def reclaim(directory: Path) -> None:
    """Own a finished run's runtime directory again, modes unchanged (its secrets stay unreadable)."""
    if os.geteuid() != 0 or not Path(directory).is_dir():
        return
    for entry in _walk(Path(directory)):
        try:
            os.chown(entry, 0, 0, follow_symlinks=False)
        except FileNotFoundError:
            continue
