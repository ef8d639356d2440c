"""Stored files of a Data object, read through `/data/<id>/<path>` only."""

from __future__ import annotations

import gzip
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


def archive_tree(archive: Path) -> dict[str, bytes | None]:
    """Paths of an archive (files -> bytes, directories `x/` -> None), without a leading `./`."""
    result: dict[str, bytes | None] = {}
    with tarfile.open(archive) as tar:
        for member in tar.getmembers():
            name = member.name
            while name.startswith("./"):
                name = name[2:]
            name = name.strip("/")
            if not name or name == ".":
                continue
            if member.isdir():
                result[name + "/"] = None
            elif member.isfile():
                result[name] = tar.extractfile(member).read()
            parts = name.split("/")
            for depth in range(1, len(parts)):
                result.setdefault("/".join(parts[:depth]) + "/", None)
    return result
