"""Which uploaded files a flow run hands its program: only its contributor's own (real database)."""

from __future__ import annotations

import pytest
from django.utils import timezone

from resolwe_prefect.data.models import Data
from resolwe_prefect.execution.run.staging import resolve_file_temp
from resolwe_prefect.uploads.models import Upload
from resolwe_prefect.uploads.storage import upload_path
from tests.data.conftest import make_process

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def uploads(settings, tmp_path):
    settings.FLOW_EXECUTOR = {**settings.FLOW_EXECUTOR, "UPLOAD_DIR": tmp_path / "upload"}


def _upload(owner, handle: str, *, complete: bool = True) -> None:
    upload_path(handle).write_bytes(b"secret")
    Upload.objects.create(
        handle=handle, owner=owner, total_size=6, size=6 if complete else 3,
        completed=timezone.now() if complete else None,
    )  # fmt: skip


def test_own_complete_upload_is_staged(contributor):
    _upload(contributor, "a" * 32)
    assert resolve_file_temp("a" * 32, contributor.pk) == upload_path("a" * 32)


def test_another_users_upload_reads_as_missing(admin, contributor):
    """The pentest: a handle copied from a shared Data input read its owner's file under another name."""
    _upload(admin, "a" * 32)
    with pytest.raises(FileNotFoundError, match="does not exist") as stolen:
        resolve_file_temp("a" * 32, contributor.pk)
    with pytest.raises(FileNotFoundError) as unknown:
        resolve_file_temp("b" * 32, contributor.pk)
    assert str(stolen.value).replace("a" * 32, "x") == str(unknown.value).replace("b" * 32, "x")  # nothing leaks


def test_an_unfinished_upload_is_not_staged(contributor):
    _upload(contributor, "c" * 32, complete=False)
    with pytest.raises(FileNotFoundError):
        resolve_file_temp("c" * 32, contributor.pk)


def test_children_read_their_creators_exports_only(admin, contributor):
    """Spawned children get ``export-<parent id>-<hex>``; a program cannot name anyone else's exports."""
    process = make_process(admin, "exporter")
    mine = Data.objects.create(name="m", contributor=contributor, process=process)
    theirs = Data.objects.create(name="t", contributor=admin, process=process)
    for data in (mine, theirs):
        upload_path(f"export-{data.pk}-{'0' * 32}").write_bytes(b"exported")
    assert resolve_file_temp(f"export-{mine.pk}-{'0' * 32}", contributor.pk).is_file()
    with pytest.raises(FileNotFoundError):
        resolve_file_temp(f"export-{theirs.pk}-{'0' * 32}", contributor.pk)


def test_urls_pass_through_and_paths_stay_inside_import_roots(contributor, settings, tmp_path):
    assert resolve_file_temp("https://example.org/reads.fq", contributor.pk) == "https://example.org/reads.fq"
    root = tmp_path / "imports"
    root.mkdir()
    (root / "ok.txt").write_text("x")
    settings.FLOW_LOCAL_IMPORT_ROOTS = [str(root)]
    assert resolve_file_temp(str(root / "ok.txt"), contributor.pk) == root / "ok.txt"
    with pytest.raises(FileNotFoundError):
        resolve_file_temp("/etc/passwd", contributor.pk)
