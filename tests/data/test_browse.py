"""``/data/<id>/<path>``, ``/resolve_uris/`` and ``/signed-data/`` over a hostile Data directory (issue 14, finding 4).

The owner of Data ``mine`` uploaded a directory whose links point to another
user's Data (``../<id>/secret.txt``, ``../../<id>/secret.txt`` from a
subdirectory, the whole ``../<id>`` directory), to a server file by absolute
path, through a chain of links, plus a FIFO. As that owner, none of these
may be downloaded, listed, sized, hashed or signed, and nothing may hang;
links that stay inside ``mine`` keep working.
"""

from __future__ import annotations

import hashlib
import os
import signal
from contextlib import contextmanager

import pytest
from rest_framework.test import APIClient

from resolwe_prefect.data import uris
from resolwe_prefect.permissions import services as permissions

from .conftest import make_process

SECRET = b"the other user's secret"
SERVER = b"SQLite format 3 server database"
BAD = ["other", "sub/up", "otherdir", "otherdir/secret.txt", "abs", "absdir/db.sqlite3", "chain", "fifo", "to-fifo"]


class Blocked(Exception):
    """Not an OSError: code under test that swallows OSError must not swallow the deadline."""


@contextmanager
def deadline(seconds: float):
    """Fail instead of hanging: opening a FIFO for reading blocks until a writer comes."""

    def expire(signum, frame):
        raise Blocked(f"request blocked for more than {seconds} s")

    previous = signal.signal(signal.SIGALRM, expire)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


@pytest.fixture
def process(admin):
    return make_process(admin, "browse")


@pytest.fixture
def hostile(settings, tmp_path, make_data, contributor):
    """(mine, victim): ``mine`` is the contributor's, ``victim`` admin's, invisible to the contributor."""
    root = tmp_path / "data"
    settings.FLOW_EXECUTOR = {**settings.FLOW_EXECUTOR, "DATA_DIR": root}
    (tmp_path / "server").mkdir()
    (tmp_path / "server" / "db.sqlite3").write_bytes(SERVER)
    victim = make_data()
    permissions.on_created(victim)
    mine = make_data(contributor=contributor)
    permissions.on_created(mine)
    (root / str(victim.pk)).mkdir(parents=True)
    (root / str(victim.pk) / "secret.txt").write_bytes(SECRET)
    own = root / str(mine.pk)
    (own / "sub").mkdir(parents=True)
    (own / "ok.txt").write_bytes(b"mine")
    (own / "inside").symlink_to("ok.txt")
    (own / "sub" / "back").symlink_to("../ok.txt")
    (own / "insidedir").symlink_to("sub")
    (own / "other").symlink_to(f"../{victim.pk}/secret.txt")
    (own / "sub" / "up").symlink_to(f"../../{victim.pk}/secret.txt")
    (own / "otherdir").symlink_to(f"../{victim.pk}")
    (own / "abs").symlink_to(tmp_path / "server" / "db.sqlite3")
    (own / "absdir").symlink_to(tmp_path / "server")
    (own / "hop").symlink_to("other")
    (own / "chain").symlink_to("hop")
    os.mkfifo(own / "fifo")
    (own / "to-fifo").symlink_to("fifo")
    return mine, victim


def body(response) -> bytes:
    return b"".join(response.streaming_content) if response.streaming else response.content


def test_links_out_and_fifos_are_not_downloadable(user_client, hostile):
    mine, _ = hostile
    for path in BAD:
        with deadline(10):
            response = user_client.get(f"/data/{mine.pk}/{path}")
        assert response.status_code in (403, 404), path
        assert SECRET not in body(response) and SERVER not in body(response), path


def test_links_inside_still_work(user_client, hostile):
    mine, _ = hostile
    for path in ("ok.txt", "inside", "sub/back", "insidedir/back"):
        response = user_client.get(f"/data/{mine.pk}/{path}")
        assert response.status_code == 200 and body(response) == b"mine", path
    assert [e["name"] for e in user_client.get(f"/data/{mine.pk}/insidedir").json()] == ["back"]


def test_listing_leaves_out_links_out_and_special_files(user_client, hostile):
    mine, _ = hostile
    with deadline(10):
        listing = user_client.get(f"/data/{mine.pk}").json()
    by_name = {entry["name"]: entry for entry in listing}
    assert sorted(by_name) == ["inside", "insidedir", "ok.txt", "sub"]
    mine_md5 = hashlib.md5(b"mine").hexdigest()
    assert by_name["inside"] == {**by_name["inside"], "type": "file", "size": 4, "md5": mine_md5}
    assert by_name["insidedir"]["type"] == "directory"
    forbidden = {hashlib.md5(SECRET).hexdigest(), hashlib.md5(SERVER).hexdigest()}
    assert not forbidden & {entry.get("md5") for entry in listing}
    with deadline(10):
        assert [e["name"] for e in user_client.get(f"/data/{mine.pk}/sub/").json()] == ["back"]
        assert user_client.get(f"/data/{mine.pk}/otherdir/").status_code in (403, 404)
        assert user_client.get(f"/data/{mine.pk}/absdir").status_code in (403, 404)


def test_resolve_uris_signs_no_link_out(user_client, hostile):
    mine, _ = hostile
    wanted = [f"{mine.pk}/{path}" for path in [*BAD, "ok.txt", "inside"]]
    with deadline(10):
        response = user_client.post("/resolve_uris/", {"uris": wanted}, format="json")
    resolved = response.json()
    assert {uri for uri, url in resolved.items() if url} == {f"{mine.pk}/ok.txt", f"{mine.pk}/inside"}


def test_signed_download_refuses_links_out_even_with_a_valid_signature(hostile):
    mine, _ = hostile
    for path in BAD:
        with deadline(10):
            response = APIClient().get(f"/signed-data/{mine.pk}/{path}", {"signature": uris.sign(mine.pk, path)})
        assert response.status_code in (403, 404), path
        assert SECRET not in body(response) and SERVER not in body(response), path
    response = APIClient().get(f"/signed-data/{mine.pk}/inside", {"signature": uris.sign(mine.pk, "inside")})
    assert response.status_code == 200 and body(response) == b"mine"
