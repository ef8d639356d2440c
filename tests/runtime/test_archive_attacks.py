"""Hostile archives through ``re-import`` and the built-in upload processes (issue 14, finding 2).

A penetration test uploaded a zip whose only member was a symlink to the
server's database; ``upload-file`` stored the database as the Data object's
file. Here the "database" is a file beside the working directory, and every
archive holds links to it (absolute and relative), a link chain, a hard link
to a link, a FIFO and members named ``../x`` or ``/abs/x``. Whatever the tool
(unzip, busybox unzip, python3 zipfile, 7z, GNU/busybox tar) and mode, no
file of the result may be (or point to) the database, its bytes must not
appear anywhere in the result (compressed or packed), and nothing may be
written outside the working directory.
"""

from __future__ import annotations

import bz2
import gzip
import io
import os
import shutil
import stat
import subprocess
import tarfile
import uuid
import zipfile
from pathlib import Path

import pytest

from resolwe_prefect.runtime import Command, CommandReader, bin_dir, ensure_executable

from .test_collect import run_slug

BIN = Path(bin_dir())
MODES = ["compress", "extract", ""]


@pytest.fixture
def secret(tmp_path) -> bytes:
    """Bytes of the stand-in database, in ``<tmp>/server/db.sqlite3`` (readable by the program)."""
    content = f"SQLite format 3 SECRET-{uuid.uuid4().hex}".encode()
    (tmp_path / "server").mkdir()
    (tmp_path / "server" / "db.sqlite3").write_bytes(content)
    return content


def _zip_member(name: str, data: bytes | str, link: bool = False) -> tuple[zipfile.ZipInfo, bytes | str]:
    info = zipfile.ZipInfo(name)
    info.create_system = 3  # Unix: the mode below is honoured
    info.external_attr = ((stat.S_IFLNK | 0o777) if link else (stat.S_IFREG | 0o644)) << 16
    return info, data


def hostile_zip(path: Path, database: Path, variant: str = "mixed") -> Path:
    """``pentest``: one link to the database; ``mixed``: links, a chain, ``../x`` and a file; ``names``: ``/abs`` too."""
    members = [_zip_member("db", str(database), link=True)]  # the pentest's archive
    if variant != "pentest":
        members += [
            _zip_member("rel", "../server/db.sqlite3", link=True),
            _zip_member("chain", "rel", link=True),
            _zip_member("sub/up", "../../server/db.sqlite3", link=True),
            _zip_member("../escape.txt", b"ESCAPED"),
            _zip_member("readme.txt", b"harmless"),
        ]
    if variant == "names":
        members.append(_zip_member(str(path.parent.parent / "abs.txt"), b"ABSOLUTE"))
    with zipfile.ZipFile(path, "w") as archive:
        for info, data in members:
            archive.writestr(info, data)
    return path


def hostile_tar(path: Path, database: Path, compression: str = "gz") -> Path:
    """A tar (``gz`` or ``bz2``) with links, a hard link to a link and a FIFO beside two files."""
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w") as tar:
        for name, kind, target in [
            ("db", tarfile.SYMTYPE, str(database)),
            ("rel", tarfile.SYMTYPE, "../server/db.sqlite3"),
            ("sub/up", tarfile.SYMTYPE, "../../server/db.sqlite3"),
            ("hard", tarfile.LNKTYPE, "rel"),
            ("fifo", tarfile.FIFOTYPE, ""),
        ]:
            info = tarfile.TarInfo(name)
            info.type, info.linkname = kind, target
            tar.addfile(info)
        for name, data in [("readme.txt", b"harmless"), ("sub/ok.txt", b"ok")]:
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    raw = buffer.getvalue()
    path.write_bytes(bz2.compress(raw) if compression == "bz2" else gzip.compress(raw))
    return path


def assert_no_leak(cwd: Path, tmp_path: Path, secret: bytes, verbatim: str = "") -> None:
    """Nothing under ``cwd`` is a link or special file, or holds the secret, plain, gzipped or packed.

    ``verbatim`` names an upload stored as it came (a tar.gz with "compress"):
    links inside it are bytes of the user's own archive, nothing reads them.
    """
    for entry in [cwd, *cwd.rglob("*")]:
        mode = entry.lstat().st_mode
        assert stat.S_ISREG(mode) or stat.S_ISDIR(mode), f"{entry} is a link or special file"
        if not stat.S_ISREG(mode):
            continue
        content = entry.read_bytes()
        assert secret not in content, entry
        if content[:2] == b"\x1f\x8b":
            content = gzip.decompress(content)
            assert secret not in content, entry
        if tarfile.is_tarfile(io.BytesIO(content)):
            with tarfile.open(fileobj=io.BytesIO(content)) as tar:
                for member in tar.getmembers():
                    assert entry.name == verbatim or member.isfile() or member.isdir(), f"{entry}: {member.name}"
                    if member.isfile():
                        assert secret not in tar.extractfile(member).read(), f"{entry}: {member.name}"
    outside = {p.name for p in tmp_path.iterdir()} - {"work", "server", "uploads", "commands.bin", "bin"}
    assert not outside, f"written outside the working directory: {outside}"
    assert not (tmp_path / "escape.txt").exists() and not (tmp_path / "abs.txt").exists()
    assert (tmp_path / "server" / "db.sqlite3").read_bytes() == secret


def tool_path(tmp_path: Path, tool: str) -> tuple[str, str]:
    """(shell, PATH) under which re-import's zip extraction falls to ``tool``."""
    hidden = {"unzip": {"busybox"}, "python3": {"unzip", "busybox", "7z"}, "7z": {"unzip", "busybox", "python3"}}
    if tool == "busybox":
        busybox = shutil.which("busybox")
        if not busybox:
            pytest.skip("busybox not installed")
        directory = tmp_path / "bin"
        directory.mkdir()
        for applet in [*subprocess.run([busybox, "--list"], capture_output=True, text=True).stdout.split(), "busybox"]:
            if applet not in ("unzip", "python3"):  # `busybox unzip`, not an unzip on PATH
                (directory / applet).symlink_to(busybox)
        return str(directory / "sh"), f"{BIN}:{directory}"
    directory = tmp_path / "bin"
    directory.mkdir()
    for source in ("/usr/bin", "/bin"):
        for entry in Path(source).iterdir():
            if entry.name not in hidden[tool] and not (directory / entry.name).exists():
                (directory / entry.name).symlink_to(entry)
    if tool == "7z":
        found = shutil.which("7z") or shutil.which("7zz") or shutil.which("7za")
        if not found:
            pytest.skip("7-Zip not installed")
        (directory / "7z").unlink(missing_ok=True)
        (directory / "7z").symlink_to(found)
    if tool == "python3" and not (directory / "python3").exists():
        pytest.skip("python3 not in /usr/bin")
    return "sh", f"{BIN}:{directory}"


def run_import(tmp_path: Path, shell: str, path: str, *args: str) -> tuple[subprocess.CompletedProcess, list[Command]]:
    ensure_executable()
    cwd = tmp_path / "work"
    shutil.rmtree(cwd, ignore_errors=True)
    cwd.mkdir()
    commands = tmp_path / "commands.bin"
    commands.unlink(missing_ok=True)
    env = {"PATH": path, "RESOLWE_COMMANDS_FILE": str(commands)}
    proc = subprocess.run(
        [shell, str(BIN / "re-import"), *args], cwd=cwd, env=env, capture_output=True, text=True, timeout=60
    )
    return proc, CommandReader(commands).read_new()


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("tool", ["unzip", "busybox", "python3", "7z"])
@pytest.mark.parametrize("variant", ["pentest", "mixed", "names"])
def test_zip_links_never_reach_the_result(tmp_path, secret, tool, mode, variant):
    shell, path = tool_path(tmp_path, tool)
    (tmp_path / "uploads").mkdir()
    archive = hostile_zip(tmp_path / "uploads" / "upload", tmp_path / "server" / "db.sqlite3", variant)
    proc, commands = run_import(tmp_path, shell, path, str(archive), "hostile.zip", "", "", "", mode)
    assert_no_leak(tmp_path / "work", tmp_path, secret)
    failed = Command("error", ("Failed to extract file: hostile.zip",))
    if variant == "pentest":  # nothing left to import (python3's zipfile writes a link as a file holding its target)
        assert (proc.returncode, commands[-1:]) == ((0, []) if tool == "python3" else (1, [failed]))
    elif variant == "mixed" and tool == "7z":  # 7-Zip refuses "dangerous" relative links itself
        assert proc.returncode == 0 or commands[-1] == failed
    elif variant == "mixed":
        assert proc.returncode == 0, proc.stderr + str(commands)
        dropped = [c for c in commands if c.name == "warning" and "were not imported" in c.args[0]]
        assert len(dropped) == (tool != "python3")  # python3's zipfile makes no links
        if mode != "compress":
            assert (tmp_path / "work" / "readme.txt").read_bytes() == b"harmless"
    else:  # a tool may refuse an absolute member name: then the import fails, it never escapes
        assert proc.returncode == 0 or commands[-1] == failed


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("name", ["dir.tar.gz", "dir.tgz", "dir.tar.bz2"])
@pytest.mark.parametrize("tool", ["tar", "busybox"])
def test_tar_links_and_fifos_never_reach_the_result(tmp_path, secret, tool, name, mode):
    shell, path = tool_path(tmp_path, tool) if tool == "busybox" else ("sh", f"{BIN}:/usr/bin:/bin")
    (tmp_path / "uploads").mkdir()
    database = tmp_path / "server" / "db.sqlite3"
    archive = hostile_tar(tmp_path / "uploads" / "upload", database, name.rsplit(".", 1)[-1].replace("tgz", "gz"))
    proc, commands = run_import(tmp_path, shell, path, str(archive), name, "", "", "", mode)
    assert proc.returncode == 0, proc.stderr + str(commands)
    # Unless extracting, the user's own tar is stored as it came (a .tar.bz2 re-compressed with gzip).
    assert_no_leak(tmp_path / "work", tmp_path, secret, verbatim="dir.tar.gz" if mode != "extract" else "")
    if mode != "compress":
        assert (tmp_path / "work" / "sub" / "ok.txt").read_bytes() == b"ok"
        assert (
            Command(
                "warning",
                (
                    f"re-import: 5 symbolic link(s), hard link(s) to outside files or special "
                    f"file(s) in '{name}' were not imported.",
                ),
            )
            in commands
        )


def test_hard_link_to_an_outside_file_is_dropped(tmp_path, secret):
    """A tool that hard-linked a member to a server file: the tree check removes it, in-archive hard links stay."""
    tree = tmp_path / "work" / "tree"
    (tree / "d").mkdir(parents=True)
    os.link(tmp_path / "server" / "db.sqlite3", tree / "d" / "db")
    (tree / "a").write_bytes(b"a")
    os.link(tree / "a", tree / "b")
    script = f'. "{BIN}/_re_lib.sh"; _re_sanitize_tree "$1" && echo "$_re_removed"'
    proc = subprocess.run(["sh", "-c", script, "sh", str(tree)], capture_output=True, text=True, timeout=60)
    assert proc.stdout.strip() == "1", proc.stderr
    assert not (tree / "d" / "db").exists() and (tree / "b").read_bytes() == b"a"


def test_upload_file_stores_no_linked_database(tmp_path, secret):
    """The pentest itself: ``upload-file`` on a zip whose member links to the database."""
    temp = hostile_zip(tmp_path / "upload-tmp", tmp_path / "server" / "db.sqlite3", "pentest")
    run = run_slug("upload-file", tmp_path, src={"file": "hostile.zip", "file_temp": str(temp)})
    assert run.result.errors == ["Failed to extract file: hostile.zip"]
    assert_stored_tree_is_clean(run.data_dir, secret)


def test_upload_dir_keeps_no_links(tmp_path, secret):
    """``upload-dir`` used to ``tar xzf`` straight into the Data directory, links and FIFOs included."""
    temp = hostile_tar(tmp_path / "upload-tmp", tmp_path / "server" / "db.sqlite3")
    run = run_slug("upload-dir", tmp_path, src={"file": "dir.tar.gz", "file_temp": str(temp)})
    assert run.result.errors == [], run.stderr[-2000:]
    assert (run.data_dir / "data" / "readme.txt").read_bytes() == b"harmless"
    assert sorted(p.name for p in (run.data_dir / "data").rglob("*")) == ["ok.txt", "readme.txt", "sub"]
    assert_stored_tree_is_clean(run.data_dir, secret)


def assert_stored_tree_is_clean(data_dir: Path, secret: bytes) -> None:
    for entry in data_dir.rglob("*"):
        mode = entry.lstat().st_mode
        assert stat.S_ISREG(mode) or stat.S_ISDIR(mode), f"{entry} is a link or special file"
        if stat.S_ISREG(mode):
            content = entry.read_bytes()
            assert secret not in content and secret not in (
                gzip.decompress(content) if content[:2] == b"\x1f\x8b" else b""
            )


@pytest.mark.parametrize("mode", MODES)
def test_7z_archive_links_never_reach_the_result(tmp_path, secret, mode):
    """``.7z`` (and ``.rar``) go through 7-Zip, which stores and restores links with ``-snl``."""
    shell, path = tool_path(tmp_path, "7z")
    staging = tmp_path / "uploads" / "staging"
    staging.mkdir(parents=True)
    (staging / "db").symlink_to(tmp_path / "server" / "db.sqlite3")
    (staging / "readme.txt").write_bytes(b"harmless")
    archive = tmp_path / "uploads" / "upload.7z"
    subprocess.run(
        ["7z", "a", "-snl", str(archive), "db", "readme.txt"],
        cwd=staging,
        env={"PATH": path},
        check=True,
        capture_output=True,
    )
    shutil.rmtree(staging)
    proc, commands = run_import(tmp_path, shell, path, str(archive), "hostile.7z", "", "", "", mode)
    assert_no_leak(tmp_path / "work", tmp_path, secret)
    assert proc.returncode == 0 and commands[0].name == "warning", proc.stderr + str(commands)
