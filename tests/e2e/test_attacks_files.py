"""Issue 14, findings 2 and 4 on the real stack: hostile archives and links served by the API.

A penetration test uploaded a zip whose member was a symlink to the server's
database and ran ``upload-file`` on it; the Data object's file was the whole
database. Here the database is a stand-in file in the stack's home. The
uploads go through ``/upload/`` and real runs; the downloads through the
running API, which reads Data directories as root.
"""

from __future__ import annotations

import gzip
import hashlib
import io
import os
import stat
import tarfile
import uuid
import zipfile
from pathlib import Path

import pytest

from .conftest import Stack

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def database(stack: Stack) -> tuple[Path, bytes]:
    """The stand-in for the server's database, in the stack's home."""
    content = f"SQLite format 3\x00 stand-in {uuid.uuid4().hex}".encode()
    path = stack.home / "db.sqlite3.stand-in"
    path.write_bytes(content)
    return path, content


def data_root(stack: Stack) -> Path:
    return Path(stack.env.get("RESOLWE_PREFECT_DATA_DIR") or stack.home / "data")


def upload_and_run(stack: Stack, slug: str, name: str, content: bytes, tmp_path: Path) -> dict:
    source = tmp_path / name
    source.write_bytes(content)
    data = stack.client.create_data(slug, {"src": stack.client.upload(source)})
    return stack.wait([data["id"]], timeout=180)[data["id"]]


@pytest.fixture(scope="module")
def victim(stack: Stack, tmp_path_factory) -> tuple[int, bytes]:
    """Another Data object with a secret file, ``<DATA_DIR>/<id>/secret.txt``."""
    secret = f"victim secret {uuid.uuid4().hex}".encode()
    final = upload_and_run(stack, "upload-file", "secret.txt", secret, tmp_path_factory.mktemp("victim"))
    assert final["status"] == "OK", final["process_error"]
    return final["id"], secret


def get(stack: Stack, data_id: int, path: str):
    """A download or listing as the owner; a FIFO opened by the API would block: 10 s is plenty."""
    return stack.client.session.get(f"{stack.url}/data/{data_id}/{path}", timeout=10)


def assert_clean_tree(directory: Path, *secrets: bytes) -> None:
    """No link or special file in a stored Data directory, and no secret bytes, plain or compressed or packed."""
    for entry in directory.rglob("*"):
        mode = entry.lstat().st_mode
        assert stat.S_ISREG(mode) or stat.S_ISDIR(mode), f"{entry} is a link or special file"
        if not stat.S_ISREG(mode):
            continue
        content = entry.read_bytes()
        if content[:2] == b"\x1f\x8b":
            content = gzip.decompress(content)
        assert not any(secret in content for secret in secrets), entry
        if tarfile.is_tarfile(io.BytesIO(content)):
            with tarfile.open(fileobj=io.BytesIO(content)) as tar:
                assert all(m.isfile() or m.isdir() for m in tar.getmembers()), f"{entry} packs a link"


def _link(name: str, target: str) -> tuple[zipfile.ZipInfo, str]:
    info = zipfile.ZipInfo(name)
    info.create_system = 3
    info.external_attr = (stat.S_IFLNK | 0o777) << 16
    return info, target


@pytest.mark.parametrize("variant", ["pentest", "mixed"])
def test_upload_file_of_a_zip_with_a_link_to_the_database(stack, database, victim, tmp_path, variant):
    path, content = database
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr(*_link("db", str(path)))
        if variant == "mixed":
            archive.writestr(*_link("other", f"../{victim[0]}/secret.txt"))
            archive.writestr("../escape.txt", b"escaped")
            archive.writestr("readme.txt", b"harmless")
    final = upload_and_run(stack, "upload-file", "hostile.zip", buffer.getvalue(), tmp_path)
    directory = data_root(stack) / str(final["id"])
    assert_clean_tree(directory, content, victim[1])
    if variant == "pentest":  # nothing but the link: nothing to import
        assert final["status"] == "ER" and "Failed to extract file: hostile.zip" in final["process_error"]
        return
    assert final["status"] == "OK", final["process_error"]
    assert any("were not imported" in w for w in final["process_warning"])
    response = get(stack, final["id"], final["output"]["file"]["file"])
    assert response.status_code == 200
    with tarfile.open(fileobj=io.BytesIO(response.content)) as tar:
        assert sorted(m.name for m in tar.getmembers()) == ["escape.txt", "readme.txt"]
    assert not (data_root(stack) / "escape.txt").exists()


def test_upload_dir_with_links_out_keeps_none_and_serves_none(stack, database, victim, tmp_path):
    path, content = database
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as tar:
        for name, target in [("db", str(path)), ("other", f"../../{victim[0]}/secret.txt"), ("up", "../..")]:
            info = tarfile.TarInfo(name)
            info.type, info.linkname = tarfile.SYMTYPE, target
            tar.addfile(info)
        info = tarfile.TarInfo("readme.txt")
        info.size = 8
        tar.addfile(info, io.BytesIO(b"harmless"))
    final = upload_and_run(stack, "upload-dir", "hostile.tar.gz", buffer.getvalue(), tmp_path)
    assert final["status"] == "OK", final["process_error"]
    for link in ("db", "other", "up/data/other", f"up/{victim[0]}/secret.txt"):
        response = get(stack, final["id"], f"data/{link}")
        assert response.status_code in (403, 404), link
        assert content not in response.content and victim[1] not in response.content, link
    assert [e["name"] for e in get(stack, final["id"], "data").json()] == ["readme.txt"]
    assert_clean_tree(data_root(stack) / str(final["id"]), content, victim[1])


def test_links_and_fifos_left_in_a_data_directory_are_not_served(stack, database, victim, tmp_path):
    """Whatever a program leaves behind (links out, a chain, a FIFO), the API serves only its own files."""
    path, content = database
    final = upload_and_run(stack, "upload-file", "mine.txt", b"mine", tmp_path)
    assert final["status"] == "OK", final["process_error"]
    directory = data_root(stack) / str(final["id"])
    planted = {
        "other": f"../{victim[0]}/secret.txt", "db": str(path), "hop": "other", "chain": "hop",
        "otherdir": f"../{victim[0]}", "inside": "mine.txt",
    }  # fmt: skip
    for name, target in planted.items():
        (directory / name).symlink_to(target)
    os.mkfifo(directory / "fifo")
    for name in ("other", "db", "chain", "otherdir/secret.txt", "otherdir", "fifo"):
        response = get(stack, final["id"], name)
        assert response.status_code in (403, 404), name
        assert content not in response.content and victim[1] not in response.content, name
    assert get(stack, final["id"], "inside").content == b"mine"
    listing = get(stack, final["id"], "").json()
    assert sorted(e["name"] for e in listing) == ["inside", "jsonout.txt", "mine.txt", "stdout.txt"]
    forbidden = {hashlib.md5(content).hexdigest(), hashlib.md5(victim[1]).hexdigest()}
    assert not forbidden & {e.get("md5") for e in listing}
    uris = [f"{final['id']}/{name}" for name in ("other", "db", "chain", "fifo", "mine.txt")]
    resolved = stack.client.session.post(f"{stack.url}/resolve_uris/", json={"uris": uris}, timeout=10).json()
    assert [uri for uri, url in resolved.items() if url] == [f"{final['id']}/mine.txt"]
