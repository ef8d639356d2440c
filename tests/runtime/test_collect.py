"""Conformance outcomes at the level of the runtime module.

The programs of the conformance processes are run through bash with the real
preamble in a temporary data directory, then collected; the expectations are
those of /work/shared/conformance/cases/{bash-outputs,status-and-errors,
files-and-dirs,spawn,annotations}.yaml that this module is responsible for.
"""

from __future__ import annotations

import gzip
import json
import re
import shlex
import shutil
import tarfile
from pathlib import Path

import pytest
import yaml

from resolwe_prefect.runtime import ProcessReport, collect_outputs, stage_exports

from . import run_program

CORPUS = Path("/work/shared/conformance")
REPO = Path(__file__).resolve().parents[2]


def _load_processes() -> dict[str, dict]:
    found: dict[str, dict] = {}
    for path in sorted((CORPUS / "processes").glob("*.yml")):
        for entry in yaml.safe_load(path.read_text()) or []:
            found.setdefault(entry["slug"], entry)  # first = what the cases use
    return found


PROCESSES = _load_processes() if CORPUS.exists() else {}
BUILTIN = {p["slug"]: p for p in yaml.safe_load((REPO / "processes" / "upload.yml").read_text())}


def process(slug: str) -> dict:
    if slug not in PROCESSES:
        pytest.skip("conformance corpus not available")
    return PROCESSES[slug]


def render(program: str, **values) -> str:
    """Minimal stand-in for the Jinja engine: {{ a.b }} -> shell-quoted value."""

    def lookup(match):
        value = values
        for part in match.group(1).split("."):
            value = value[part]
        return shlex.quote(str(value))

    return re.sub(r"\{\{\s*([\w.]+)\s*\}\}", lookup, program)


def schema_of(proc: dict) -> list[dict]:
    def colon(fields):
        out = []
        for field in fields:
            field = dict(field)
            if "group" in field:
                field["group"] = colon(field["group"])
            else:
                field["type"] = field["type"] if field["type"].endswith(":") else field["type"] + ":"
            out.append(field)
        return out

    return colon(proc.get("output", []))


def run_slug(slug: str, tmp_path: Path, **values):
    proc = process(slug) if slug not in BUILTIN else BUILTIN[slug]
    program = proc["run"]["program"]
    if values:
        program = render(program, **values)
    return run_program(program, tmp_path, schema_of(proc))


def files_of(run) -> set[str]:
    return set(run.result.files)


# ------------------------------------------------------------ bash-outputs
def test_minimal_process(tmp_path):
    run = run_slug("test-min", tmp_path)
    assert run.returncode == 0
    assert run.result.errors == [] and run.result.output == {}
    assert "Test Minimalistic Processor" in run.stdout


def test_save_integer_from_input(tmp_path):
    run = run_slug("test-save-number", tmp_path, number=42)
    assert run.result.output == {"number": 42}
    assert run.result.errors == []


def test_all_basic_types(tmp_path):
    run = run_slug("cf-save-basic-types", tmp_path)
    assert run.result.errors == []
    assert run.result.output == {
        "out_boolean": True,
        "out_integer": 42,
        "out_decimal": 3.14,
        "out_string": "foo",
        "out_numeric_string": "0",
        "out_text": "Foo bar in one line",
        "out_date": "2013-12-31",
        "out_datetime": "2013-12-31 23:59:59",
        "out_url_view": {"name": "Google", "url": "http://www.google.com/"},
        "out_group": {"string2": "bar"},
    }


def test_info_warning_error_truncation(tmp_path):
    run = run_slug("test-process-notifications", tmp_path)
    assert run.report.info == ["abc", "x" * 252 + "..."]
    assert run.report.warning == ["y" * 252 + "..."]
    assert run.result.errors == ["z" * 252 + "..."]
    assert len(run.result.errors[0]) == 255


def test_json_output_invalid(tmp_path):
    run = run_slug("test-broken-invalide-storage", tmp_path)
    assert len(run.result.errors) == 1
    assert "must be a valid JSON, current: 1a" in run.result.errors[0]


def test_json_output_storage(tmp_path):
    run = run_slug("test-output-json", tmp_path)
    assert run.result.errors == []
    assert run.result.output == {"storage": {"foo": "bar"}}
    assert "storage.json" not in files_of(run)


def test_progress_valid(tmp_path):
    run = run_slug("cf-progress-valid", tmp_path)
    assert run.report.progress == 50.0
    assert run.report.warning == [] and run.result.errors == []


# ------------------------------------------------------- status-and-errors
def test_missing_output_file(tmp_path):
    run = run_slug("test-missing-file", tmp_path)
    assert run.result.errors == ["Output 'output' set to a missing file: 'i-dont-exist.zip'."]


def test_nonzero_exit(tmp_path):
    run = run_slug("cf-exit-nonzero", tmp_path)
    assert run.returncode == 3
    assert run.result.errors == ["Process return code is not 0."]


def test_failure_mid_script_not_fatal(tmp_path):
    run = run_slug("cf-continue-after-failure", tmp_path)
    assert run.returncode == 0
    assert run.result.errors == [] and run.result.output == {"after": "reached"}


def test_checkrc_error_message(tmp_path):
    run = run_slug("cf-checkrc-message", tmp_path)
    assert run.report.rc == 1
    assert run.result.errors == ["Custom checkrc error"]


def test_checkrc_accepted_code(tmp_path):
    run = run_program(
        '(exit 2)\nre-checkrc 2 "not shown"\nre-save x 1\n', tmp_path, [{"name": "x", "type": "basic:integer:"}]
    )
    assert run.report.rc is None and run.result.errors == []
    assert run.result.output == {"x": 1}


def test_error_then_nonzero_exit_gives_one_error(tmp_path):
    run = run_program('re-error "boom"\nexit 4\n', tmp_path)
    assert run.result.errors == ["boom"]


# ---------------------------------------------------------- files-and-dirs
def test_purge_basic_file(tmp_path):
    run = run_slug("cf-purge-file", tmp_path)
    assert run.result.errors == []
    assert run.result.output == {"sample": {"file": "but_not_this", "size": 0, "total_size": 0}}
    assert "but_not_this" in files_of(run) and "remove_this" not in files_of(run)
    assert {"stdout.txt", "jsonout.txt"} <= files_of(run)


def test_purge_basic_dir(tmp_path):
    run = run_slug("cf-purge-dir", tmp_path)
    assert run.result.output["sample"]["dir"] == "but_not_this"
    assert {"but_not_this/a", "but_not_this/b", "but_not_this/c"} <= files_of(run)
    assert not any(name.startswith("remove_this") for name in files_of(run))


def test_purge_file_list(tmp_path):
    run = run_slug("cf-purge-file-list", tmp_path)
    assert [entry["file"] for entry in run.result.output["sample"]] == ["but_not_this", "and_not_this"]
    assert {"but_not_this", "and_not_this"} <= files_of(run)
    assert "remove_this" not in files_of(run)


def test_purge_complex_refs(tmp_path):
    run = run_slug("cf-purge-complex", tmp_path)
    assert run.result.errors == []
    files = files_of(run)
    for present in [
        "this_file_should_stay",
        "stay/directory/file1",
        "stay/directory/file2",
        "entry1",
        "entry2",
        "entry3",
        "dir1/a",
        "dir2/b",
        "dir3/c",
        "dir3/d",
        "ref1",
        "ref2",
        "ref3",
        "ref4",
        "refs/a",
        "refs/b",
        "should_stay/file",
    ]:
        assert present in files, present
    for absent in [
        "these",
        "files",
        "should",
        "be",
        "removed",
        "directory/should/be/removed",
        "directory/should/be/removed2",
    ]:
        assert absent not in files, absent
    assert not (run.data_dir / "directory").exists()

    def shape(value):
        if isinstance(value, list):
            return [shape(v) for v in value]
        return {k: v for k, v in value.items() if k not in ("size", "total_size")}

    assert {k: shape(v) for k, v in run.result.output.items()} == {
        "another_sample_file": {"file": "should_stay/file"},
        "sample_file": {"file": "this_file_should_stay", "refs": ["ref3"]},
        "sample_dir": {"dir": "stay", "refs": ["ref4"]},
        "sample_file_list": [
            {"file": "entry1"},
            {"file": "entry2", "refs": ["ref1"]},
            {"file": "entry3", "refs": ["refs"]},
        ],
        "sample_dir_list": [{"dir": "dir1", "refs": ["ref2"]}, {"dir": "dir2"}, {"dir": "dir3"}],
    }


def test_sizes(tmp_path):
    program = (
        "printf 12345 > a\nprintf 123 > r\nmkdir d\nprintf 1234567 > d/x\nprintf 12 > d/y\n"
        "re-save-file f a r d\nre-save-dir dd d a\nre-save-file self d/x d\n"
    )
    schema = [{"name": n, "type": t} for n, t in [("f", "basic:file:"), ("dd", "basic:dir:"), ("self", "basic:file:")]]
    run = run_program(program, tmp_path, schema)
    out = run.result.output
    assert (out["f"]["size"], out["f"]["total_size"]) == (5, 5 + 3 + 9)
    assert (out["dd"]["size"], out["dd"]["total_size"]) == (9, 14)
    assert (out["self"]["size"], out["self"]["total_size"]) == (7, 9)  # d/x counted once
    jsonout = json.loads((run.data_dir / "jsonout.txt").read_text())
    assert jsonout == out
    on_disk = sum(p.stat().st_size for p in run.data_dir.rglob("*") if p.is_file())
    assert run.result.size == on_disk


def test_file_deleted_after_save_and_unknown_field(tmp_path):
    run = run_program("touch a b\nre-save-file f a b\nrm a b\n", tmp_path, [{"name": "f", "type": "basic:file:"}])
    assert run.result.errors == ["Output 'f' set to a missing file: 'a'."]
    second = tmp_path / "second"
    second.mkdir()
    run = run_program(
        "touch a b\nre-save-file f a b\nrm b\nre-save nope 1\n", second, [{"name": "f", "type": "basic:file:"}]
    )
    assert run.result.errors == [
        "Field definition (nope) missing in schema",
        "Output 'f' set to missing references: 'b'.",
    ]


def test_escaping_paths_are_missing(tmp_path):
    outside = tmp_path / "outside.txt"
    outside.write_text("secret")
    report = ProcessReport(output={"f": {"file": "../outside.txt"}})
    data_dir = tmp_path / "data"
    data_dir.mkdir()
    result = collect_outputs(
        report, output_schema=[{"name": "f", "type": "basic:file:"}], data_dir=data_dir, return_code=0
    )
    assert result.errors == ["Output 'f' set to a missing file: '../outside.txt'."]
    assert outside.exists()


def test_group_file_field(tmp_path):
    schema = [{"name": "g", "group": [{"name": "f", "type": "basic:file:"}]}]
    run = run_program("echo hi > x\ntouch junk\nre-save-file g.f x\n", tmp_path, schema)
    assert run.result.errors == []
    assert run.result.output == {"g": {"f": {"file": "x", "size": 3, "total_size": 3}}}
    assert "junk" not in files_of(run)


def _upload_dir(tmp_path, upload: Path):
    temp = tmp_path / "upload-tmp"
    shutil.copy(upload, temp)
    return run_slug("upload-dir", tmp_path, src={"file": upload.name, "file_temp": str(temp)})


def test_upload_dir_structure(tmp_path):
    archive = CORPUS / "files" / "compressed dir.tar.gz"
    if not archive.exists():
        pytest.skip("conformance corpus not available")
    run = _upload_dir(tmp_path, archive)
    assert run.result.errors == []
    assert run.result.output["dir"]["dir"] == "data"
    data = run.data_dir / "data"
    tree = sorted(str(p.relative_to(data)) + ("/" if p.is_dir() else "") for p in data.rglob("*"))
    assert tree == [
        "file binary",
        "root dir/",
        "root dir/file binary",
        "root dir/nested dir.ext/",
        "root dir/nested dir.ext/empty dir/",
        "root dir/text file.txt",
        "text file.txt",
    ]
    with tarfile.open(archive) as tar:
        for member in tar.getmembers():
            if member.isfile():
                assert (data / member.name).read_bytes() == tar.extractfile(member).read()
    assert "data/root dir/nested dir.ext/empty dir/" in files_of(run)


def test_upload_dir_bad_format(tmp_path):
    archive = CORPUS / "files" / "dir bad format.tar.gz"
    if not archive.exists():
        pytest.skip("conformance corpus not available")
    run = _upload_dir(tmp_path, archive)
    assert run.result.errors == ["Compressed directory is not in tar.gz format"]
    assert run.report.rc not in (None, 0)


def test_file_input_upload(tmp_path):
    upload = tmp_path / "uploaded-temp"
    upload.write_text("foobar\n")
    run = run_slug("test-file-upload", tmp_path, src={"file": "example_file.txt", "file_temp": str(upload)})
    assert run.result.errors == []
    assert run.result.output["file"] == "example_file.txt"
    assert [e["file"] for e in run.result.output["files"]] == ["example_file.txt"]
    assert (run.data_dir / "example_file.txt").read_text() == "foobar\n"


@pytest.mark.parametrize("name", ["file binary", "notes.txt.gz", "data.txt.zip", "many.zip", "dir.tar.gz"])
def test_builtin_upload_file(tmp_path, name):
    src = tmp_path / "upload-tmp"
    payload = (CORPUS / "files" / "file binary").read_bytes() if (CORPUS / "files").exists() else b"\x89PNG..."
    if name.endswith(".gz") and not name.endswith(".tar.gz"):
        src.write_bytes(gzip.compress(payload))
    elif name.endswith(".zip"):
        import zipfile

        with zipfile.ZipFile(src, "w") as handle:
            handle.writestr("member", payload)
            if name == "many.zip":
                handle.writestr("other", b"x")
    elif name.endswith(".tar.gz"):
        with tarfile.open(src, "w:gz") as tar:
            info = tarfile.TarInfo("member")
            info.size = len(payload)
            import io

            tar.addfile(info, io.BytesIO(payload))
    else:
        src.write_bytes(payload)
    run = run_slug("upload-file", tmp_path, src={"file": name, "file_temp": str(src)})
    assert run.result.errors == [], run.stderr[-2000:]
    expected_name = {
        "file binary": "file binary",
        "notes.txt.gz": "notes.txt.gz",
        "data.txt.zip": "data.txt.gz",
        "many.zip": "many.tar.gz",
        "dir.tar.gz": "dir.tar.gz",
    }[name]
    out = run.result.output["file"]
    assert out["file"] == expected_name
    stored = (run.data_dir / expected_name).read_bytes()
    if name in ("file binary",):
        assert stored == payload
    elif name in ("notes.txt.gz", "data.txt.zip"):
        assert gzip.decompress(stored) == payload
    assert src.exists()
    assert sorted(files_of(run)) == sorted([expected_name, "stdout.txt", "jsonout.txt"])


# --------------------------------------------------------------------- spawn
def test_spawn_new(tmp_path):
    run = run_program(process("test-spawn-new")["run"]["program"], tmp_path, collect=False)
    assert run.report.exports == ["foo.bar"]
    assert run.report.spawned == [{"process": "test-save-file", "input": {"input_file": "foo.bar"}}]
    mapper = stage_exports(run.report, run.data_dir, tmp_path / "staged")
    result = collect_outputs(run.report, output_schema=[], data_dir=run.data_dir, return_code=0)
    assert result.errors == []
    assert "foo.bar" not in result.files
    assert Path(mapper["foo.bar"]).read_text() == "foo.bar\n"

    # The child gets {"file": "foo.bar", "file_temp": <staged>} and runs test-save-file.
    child_dir = tmp_path / "child"
    child_dir.mkdir()
    child = run_slug("test-save-file", child_dir, input_file={"file": "foo.bar", "file_temp": mapper["foo.bar"]})
    assert child.result.errors == []
    assert child.result.output["saved_file"]["file"] == "foo.bar"
    assert (child.data_dir / "foo.bar").read_text() == "foo.bar\n"


def test_spawn_missing_export(tmp_path):
    run = run_program(process("test-spawn-missing-file")["run"]["program"], tmp_path, collect=False)
    assert run.report.exports == []
    assert run.report.spawned == [{"process": "test-save-file", "input": {"input_file": "foo.bar"}}]
    mapper = stage_exports(run.report, run.data_dir, tmp_path / "staged")
    assert "foo.bar" not in mapper  # the runner fails the spawn: "Error while preparing spawned ..."


# --------------------------------------------------------------- annotations
@pytest.mark.parametrize(
    "slug, expected",
    [
        ("test-annotate", {"general.species": "Valid"}),
        ("test-annotate-wrong-option", {"general.species": "Invalid"}),
        ("test-annotate-no-entity", {"general.description": "description"}),
    ],
)
def test_annotations(tmp_path, slug, expected):
    run = run_slug(slug, tmp_path)
    assert run.report.annotations == expected
    assert run.result.errors == []  # validation against fields/entity is the runner's job


def test_annotate_value_is_json_parsed(tmp_path):
    run = run_program("re-annotate-entity general.age 15\n", tmp_path)
    assert run.report.annotations == {"general.age": 15}


def test_preamble_has_no_errexit_and_no_brace_expansion(tmp_path):
    run = run_program(
        'echo {a,b} > out\nfalse\nre-save x "$(cat out)"\n', tmp_path, [{"name": "x", "type": "basic:string:"}]
    )
    assert run.result.output == {"x": "{a,b}"}
    assert "+ false" in run.stderr  # set -x
