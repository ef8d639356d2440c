"""``FileField`` inputs' ``import_file`` (through the ``re-import`` utility)."""

from __future__ import annotations

import gzip
import json
import zipfile
from pathlib import Path

import pytest

from .conftest import PYTHON, PYTHONS

IMPORT = """
import json, os
from resolwe.process import FileField, Process, StringField
from resolwe.process.fields import ImportedFormat


class Import(Process):
    slug = "import"
    name = "Import"
    version = "1.0.0"
    process_type = "data:test"

    class Input:
        src = FileField(label="src")
        fmt = StringField(label="format", required=False)

    class Output:
        result = StringField(label="result")
        files = StringField(label="files")

    def run(self, inputs, outputs):
        if inputs.fmt == "progress":
            result = inputs.src.import_file(progress_from=0.0, progress_to=0.5)
        else:
            result = inputs.src.import_file(imported_format=inputs.fmt)
        outputs.result = result
        outputs.files = json.dumps(sorted(
            os.path.join(root, name)[2:] for root, dirs, names in os.walk(".") for name in names
        ))
"""


@pytest.fixture
def uploads(tmp_path: Path) -> Path:
    directory = tmp_path / "uploads"
    directory.mkdir()
    (directory / "reads.gz").write_bytes(gzip.compress(b"@read\nACGT\n"))
    with zipfile.ZipFile(directory / "one.zip", "w") as archive:
        archive.writestr("inner.txt", "one file\n")
    with zipfile.ZipFile(directory / "many.zip", "w") as archive:
        archive.writestr("a.txt", "a\n")
        archive.writestr("sub/b.txt", "b\n")
    (directory / "plain").write_text("plain text\n")
    (directory / "bad").write_bytes(b"not gzip at all")
    return directory


def _run(run_process, uploads, name: str, temp: str, fmt: str | None, python: str):
    inputs = {"src": {"file": name, "file_temp": str(uploads / temp)}, "fmt": fmt}
    run = run_process(IMPORT, "import", inputs, python=python)
    files = json.loads(run.output["files"]) if "files" in run.output else None
    return run, run.output.get("result"), files


@pytest.mark.parametrize("python", PYTHONS)
@pytest.mark.parametrize(
    ("fmt", "result", "files"),
    [
        (None, "reads.fastq", ["reads.fastq", "reads.fastq.gz"]),
        ("both", "reads.fastq", ["reads.fastq", "reads.fastq.gz"]),
        ("extracted", "reads.fastq", ["reads.fastq"]),
        ("compressed", "reads.fastq.gz", ["reads.fastq.gz"]),
    ],
)
def test_gz_upload(run_process, uploads, fmt, result, files, python):
    run, got, listed = _run(run_process, uploads, "reads.fastq.gz", "reads.gz", fmt, python)
    assert run.returncode == 0, run.stderr
    assert (got, listed) == (result, files)
    if "reads.fastq" in listed:
        assert (run.data_dir / "reads.fastq").read_bytes() == b"@read\nACGT\n"
    if "reads.fastq.gz" in listed:
        assert gzip.decompress((run.data_dir / "reads.fastq.gz").read_bytes()) == b"@read\nACGT\n"
    # Printed as Resolwe does.
    assert "Importing and compressing reads.fastq.gz..." in run.stdout


@pytest.mark.parametrize(
    ("fmt", "result", "files"),
    [
        (None, "one", ["one", "one.gz"]),
        ("extracted", "one", ["one"]),
        ("compressed", "one.gz", ["one.gz"]),
    ],
)
def test_zip_upload_with_one_file(run_process, uploads, fmt, result, files):
    run, got, listed = _run(run_process, uploads, "one.zip", "one.zip", fmt, PYTHON)
    assert run.returncode == 0, run.stderr
    assert (got, listed) == (result, files)
    if "one" in listed:
        assert (run.data_dir / "one").read_text() == "one file\n"


@pytest.mark.parametrize(
    ("fmt", "result", "files"),
    [
        (None, "many", ["a.txt", "many.tar.gz", "sub/b.txt"]),
        ("extracted", "many", ["a.txt", "sub/b.txt"]),
        ("compressed", "many.tar.gz", ["many.tar.gz"]),
    ],
)
def test_zip_upload_with_several_files(run_process, uploads, fmt, result, files):
    run, got, listed = _run(run_process, uploads, "many.zip", "many.zip", fmt, PYTHON)
    assert run.returncode == 0, run.stderr
    assert (got, listed) == (result, files)


def test_plain_upload_and_progress(run_process, uploads):
    run, got, listed = _run(run_process, uploads, "notes.txt", "plain", "progress", PYTHON)
    assert run.returncode == 0, run.stderr
    assert (got, listed) == ("notes.txt", ["notes.txt", "notes.txt.gz"])
    assert run.args("progress") == [("0.5",)]
    assert run.report.progress == 50.0


def test_invalid_archive_ends_the_program_with_re_imports_error(run_process, uploads):
    run, got, listed = _run(run_process, uploads, "reads.fastq.gz", "bad", None, PYTHON)
    assert run.returncode == 1
    assert run.errors == ["Invalid gzip file format: reads.fastq.gz"]
    assert got is None


def test_missing_upload(run_process, uploads):
    run, got, listed = _run(run_process, uploads, "x.txt", "does-not-exist", None, PYTHON)
    assert run.returncode == 1
    assert run.errors == ["File transfer failed: temporary file not found"]
