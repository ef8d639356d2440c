"""The runner's archive reading (files.archive_tree): links compare as Resolwe's ``assertDir`` compares them."""

from __future__ import annotations

import importlib
import io
import sys
import tarfile
from pathlib import Path

import pytest

RUNNER = Path(__file__).parent


@pytest.fixture(scope="module")
def files():
    """The runner's ``files`` module, imported as run.py imports it (bare names on ``sys.path``)."""
    before, path = set(sys.modules), list(sys.path)
    sys.path.insert(0, str(RUNNER))
    try:
        yield importlib.import_module("files")
    finally:
        sys.path[:] = path
        for name in set(sys.modules) - before:
            del sys.modules[name]


def _archive(tmp_path: Path) -> Path:
    archive = tmp_path / "dir.tar.gz"
    with tarfile.open(archive, "w:gz") as tar:

        def add(name: str, kind: bytes = tarfile.REGTYPE, content: bytes = b"", link: str = "") -> None:
            info = tarfile.TarInfo(name)
            info.type, info.linkname, info.size = kind, link, len(content)
            tar.addfile(info, io.BytesIO(content) if content else None)

        add("./sub", tarfile.DIRTYPE)
        add("./sub/a.txt", content=b"A")
        add("./top.txt", content=b"T")
        add("./to_a", tarfile.SYMTYPE, link="sub/a.txt")
        add("./sub/up", tarfile.SYMTYPE, link="../top.txt")
        add("./sub_again", tarfile.SYMTYPE, link="sub")
        add("./hard", tarfile.LNKTYPE, link="top.txt")
        add("./dangling", tarfile.SYMTYPE, link="nowhere.txt")
        add("./escape", tarfile.SYMTYPE, link="../../etc/passwd")
        add("./loop", tarfile.SYMTYPE, link="loop")
    return archive


def test_links_in_an_archive_are_what_they_lead_to(files, tmp_path):
    tree = files.archive_tree(_archive(tmp_path))
    assert tree["to_a"] == b"A" and tree["sub/up"] == b"T" and tree["hard"] == b"T"
    assert tree["sub_again/"] is None and tree["sub_again/a.txt"] == b"A"
    assert tree["sub_again/up"] is None  # a link inside a linked directory: listed, compared by name
    # Links that lead nowhere inside stay in the tree: the stored directory never lists them.
    assert {name for name in ("dangling", "escape", "loop") if name in tree} == {"dangling", "escape", "loop"}
    assert tree["sub/"] is None and tree["sub/a.txt"] == b"A" and tree["top.txt"] == b"T"
