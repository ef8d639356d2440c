"""Duplicating a Data object whose directory holds links out and a FIFO (issue 14, finding 4).

The copy keeps links as links (never the content they point to), leaves
FIFOs behind (copying one means opening it, which blocks), and through the
API the copy's links out are as dead as the original's. Linking is forced
to fail in one case, as across devices, so the copying fallback is used.
"""

from __future__ import annotations

import os
import signal
import stat
from contextlib import contextmanager

import pytest

from resolwe_prefect.data import files
from resolwe_prefect.data.models import Data
from resolwe_prefect.tasks.models import TaskStatus

from .conftest import task_of

pytestmark = pytest.mark.django_db

SECRET = b"another object's secret"


class Blocked(Exception):
    """Not an OSError: code under test that swallows OSError must not swallow the deadline."""


@contextmanager
def deadline(seconds: float):
    def expire(signum, frame):
        raise Blocked(f"blocked for more than {seconds} s")

    previous = signal.signal(signal.SIGALRM, expire)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


@pytest.mark.parametrize("cross_device", [False, True])
def test_duplicate_keeps_links_as_links_and_skips_fifos(
    user_client, make_finished, run, data_root, monkeypatch, tmp_path, cross_device
):
    victim = make_finished(content="victim")
    (data_root / str(victim.pk) / "secret.txt").write_bytes(SECRET)
    data = make_finished()
    directory = data_root / str(data.pk)
    (directory / "other").symlink_to(f"../{victim.pk}/secret.txt")
    (directory / "sub" / "up").symlink_to(f"../../{victim.pk}/secret.txt")
    (directory / "inside").symlink_to("out.txt")
    os.mkfifo(directory / "fifo")
    if cross_device:

        def no_link(*args, **kwargs):
            raise OSError(18, "Invalid cross-device link")

        monkeypatch.setattr(files.os, "link", no_link)

    with deadline(20), run():
        response = user_client.post("/api/data/duplicate", {"ids": [data.pk]}, format="json")
    task = task_of(response)
    assert task.status == TaskStatus.DONE, task.output
    copy = Data.objects.get(pk=task.output[0])
    copied = data_root / str(copy.pk)

    assert (copied / "out.txt").read_text() == "hello"
    assert not os.path.lexists(copied / "fifo")
    for entry in copied.rglob("*"):
        mode = entry.lstat().st_mode
        assert stat.S_ISREG(mode) or stat.S_ISDIR(mode) or stat.S_ISLNK(mode), entry
        assert not stat.S_ISREG(mode) or SECRET not in entry.read_bytes(), entry
    assert os.readlink(copied / "other") == f"../{victim.pk}/secret.txt"  # a link, not a copy of the secret
    for path in ("other", "sub/up", "fifo"):
        response = user_client.get(f"/data/{copy.pk}/{path}")
        assert response.status_code in (403, 404), path
    response = user_client.get(f"/data/{copy.pk}/inside")
    assert response.status_code == 200 and b"".join(response.streaming_content) == b"hello"
