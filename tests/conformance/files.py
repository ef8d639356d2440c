"""Stored files of a Data object, read through `/data/<id>/<path>` only."""

from __future__ import annotations

import gzip
import posixpath
import tarfile
from pathlib import Path

from client import Client


def listing(client: Client, data_id: int, path: str = "") -> list[dict] | None:
    """The JSON listing of a directory, or None when `path` is not a directory."""
    response = client.data_path(data_id, path)
    if response.status_code != 200:
        return None
    try:
        body = response.json()
    except ValueError:
        return None
    return body if isinstance(body, list) and all(isinstance(e, dict) and "name" in e for e in body) else None


def tree(client: Client, data_id: int, root: str = "") -> set[str]:
    """Every path under `root` (relative to it): files as `a/b`, directories as `a/`."""
    result: set[str] = set()
    prefix = root.strip("/") + "/" if root.strip("/") else ""

    def walk(relative: str) -> None:
        entries = listing(client, data_id, prefix + relative)
        for entry in entries or []:
            if entry.get("type") == "directory":
                result.add(f"{relative}{entry['name']}/")
                walk(f"{relative}{entry['name']}/")
            else:
                result.add(f"{relative}{entry['name']}")

    walk("")
    return result


def read(client: Client, data_id: int, path: str) -> bytes:
    response = client.data_path(data_id, path)
    if response.status_code != 200:
        raise AssertionError(f"file {path!r} of data {data_id}: HTTP {response.status_code}")
    if listing(client, data_id, path) is not None and path.endswith("/"):
        raise AssertionError(f"{path!r} is a directory")
    return response.content


def maybe_gunzip(content: bytes) -> bytes:
    return gzip.decompress(content) if content[:2] == b"\x1f\x8b" else content


#: Links an archive holds are followed at most this deep (a loop is a dangling link).
LINK_DEPTH = 40


def archive_tree(archive: Path) -> dict[str, bytes | None]:
    """Paths of an archive (files -> bytes, directories `x/` -> None), without a leading `./`.

    As Resolwe's ``assertDir`` (the archive extracted, compared with ``filecmp.dircmp``, which
    follows links): a symbolic or hard link to a file of the archive is that file's content, a
    link to a directory is that directory's tree again under the link's name. A link that leads
    nowhere inside the archive is listed with no content: the stored tree never shows such a
    link, so it fails the comparison as Resolwe's ``funny_files`` do.
    """
    members: dict[str, tarfile.TarInfo] = {}
    with tarfile.open(archive) as tar:
        contents: dict[str, bytes] = {}
        for member in tar.getmembers():
            name = _clean(member.name)
            if not name:
                continue
            members[name] = member
            if member.isfile():
                contents[name] = tar.extractfile(member).read()
    result: dict[str, bytes | None] = {}
    for name, member in members.items():
        for depth in range(1, len(name.split("/"))):
            result.setdefault("/".join(name.split("/")[:depth]) + "/", None)
        if member.isdir():
            result[name + "/"] = None
        elif member.isfile():
            result[name] = contents[name]
        elif member.issym() or member.islnk():
            target = _follow(members, name)
            if target is None or target not in members:
                result[name] = None
            elif members[target].isdir():
                result[name + "/"] = None
                for path in members:
                    if path.startswith(target + "/"):
                        mirrored = name + path[len(target) :]
                        result[mirrored + ("/" if members[path].isdir() else "")] = contents.get(path)
            else:
                result[name] = contents.get(target)
    return result


def _clean(name: str) -> str:
    while name.startswith("./"):
        name = name[2:]
    name = name.strip("/")
    return "" if name == "." else name


def _follow(members: dict[str, tarfile.TarInfo], name: str) -> str | None:
    """Where the link ``name`` leads inside the archive (``None`` when outside or a loop)."""
    for _ in range(LINK_DEPTH):
        member = members.get(name)
        if member is None or not (member.issym() or member.islnk()):
            return name
        if member.islnk():
            name = _clean(member.linkname)
        else:
            joined = posixpath.normpath(posixpath.join(posixpath.dirname(name), member.linkname))
            if member.linkname.startswith("/") or joined.startswith(".."):
                return None
            name = _clean(joined)
    return None
