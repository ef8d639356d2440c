"""The conformance corpus's Python processes (verbatim Resolwe code) under the runtime.

Each test gives the process the inputs and server objects of the Resolwe test
it comes from (resolwe/process/tests/test_python_process.py) through a fake
channel, and checks the records, the collected outputs and the requests.
"""

from __future__ import annotations

import gzip
import os
import zipfile
from pathlib import Path

import pytest

from resolwe_prefect.runtime.collect import collect_outputs

from .conftest import CORPUS, FILES, PYTHONS
from .fake_channel import NO_OBJECT, FakeChannel

pytestmark = pytest.mark.skipif(not CORPUS.is_dir(), reason="the conformance corpus (../shared) is not present")

PYTHON_TEST = CORPUS / "python_test.py"


def _serve(objects=None, annotations=None, **kwargs) -> FakeChannel:
    return FakeChannel(objects or {}, annotations or {}, **kwargs).start()


@pytest.fixture
def stub_ls(tmp_path: Path) -> list[str]:
    """``ls -l -a /`` that lists an entry named like Python's runtime.

    test-python-process pipes ``ls -l -a /`` into ``grep python``; in Resolwe's
    container ``/`` holds ``/bootstrap_python_runtime.py``, here it does not.
    """
    directory = tmp_path / "stub-bin"
    directory.mkdir()
    real_ls = "/bin/ls" if os.path.exists("/bin/ls") else "/usr/bin/ls"
    script = directory / "ls"
    script.write_text(f'#!/bin/sh\n{real_ls} "$@"\necho "-r--r--r-- 1 root root 0 bootstrap_python_runtime.py"\n')
    script.chmod(0o755)
    return [str(directory)]


@pytest.mark.parametrize("python", PYTHONS)
def test_full_feature_process(run_process, stub_ls, python):
    channel = _serve(
        {
            "Data": {
                100: {
                    "name": "bar",
                    "process": 2,
                    "descriptor": {},
                    "entity": None,
                    "output": {"saved_file": {"file": "/inputs/100/testfile.txt", "size": 15}},
                },
                101: {
                    "name": "Data with entity",
                    "process": 3,
                    "entity": 7,
                    "output": {"list_string": ["foo", "bar"]},
                },
            },
            "Process": {
                2: {
                    "slug": "test-save-file",
                    "type": "data:test:save:",
                    "output_schema": [{"name": "saved_file", "type": "basic:file:"}],
                },
                3: {
                    "slug": "entity-process",
                    "type": "data:entity:",
                    "output_schema": [
                        {"name": "list_string", "type": "list:basic:string:"},
                        {"name": "optional", "type": "basic:string:", "required": False},
                    ],
                },
            },
            "Entity": {7: {"name": "Data with entity"}},
            "Storage": {20: {"json": {"value": 42}}},
        }
    )
    inputs = {
        "my_field": "bar",
        "my_list": ["one", "two", "three"],
        "bar": 100,
        "url": {"url": "https://www.genialis.com"},
        "input_data": 100,
        "input_entity_data": 101,
        "integer": 42,
        "my_float": 0.42,
        "my_json": 20,
        "my_optional": "default value",
        "my_group": {"bar": "my string", "foo": 21, "subgroup": {"foo": 2}},
    }
    requirements = {
        "expression-engine": "jinja",
        "executor": {"docker": {"image": "public.ecr.aws/s4q6j6e8/resolwe/base:ubuntu-20.04"}},
        "resources": {"cores": 1, "memory": 4096, "storage": 10},
    }
    try:
        run = run_process(
            PYTHON_TEST,
            "test-python-process",
            inputs,
            channel=channel,
            python=python,
            requirements=requirements,
            data={"id": 42, "name": "Foo: bar", "entity_id": 8, "collection_id": None, "contributor_id": 1},
            path_prefix=stub_ls,
        )
    finally:
        channel.stop()
    assert run.returncode == 0, run.stderr
    assert run.report.error == []
    assert run.output == {
        "file_output": {"file": "test/testfile.txt"},
        "list_file_output": [{"file": "test/testfile.txt"}, {"file": "testfile2.txt"}],
        "dir_output": {"dir": "test/"},
        "input_data_name": "bar",
        "input_entity_name": "Data with entity",
        "docker_image": "public.ecr.aws/s4q6j6e8/resolwe/base:ubuntu-20.04",
        "string_output": "OK",
        "list_string_output": ["foo", "bar"],
    }
    assert "Input data file output: /inputs/100/testfile.txt" in run.stdout
    assert "Input data type: data:test:save:" in run.stdout
    assert "Group subgroup foo:  2" in run.stdout
    schema = [
        {"name": "string_output", "type": "basic:string:"},
        {"name": "list_string_output", "type": "list:basic:string:"},
        {"name": "file_output", "type": "basic:file:"},
        {"name": "list_file_output", "type": "list:basic:file:"},
        {"name": "dir_output", "type": "basic:dir:"},
        {"name": "input_data_name", "type": "basic:string:"},
        {"name": "input_entity_name", "type": "basic:string:"},
        {"name": "docker_image", "type": "basic:string:"},
    ]
    result = collect_outputs(run.report, output_schema=schema, data_dir=run.data_dir, return_code=0)
    assert result.errors == []
    assert (run.data_dir / "test" / "testfile.txt").read_text() == '"Some content"\n'


@pytest.mark.parametrize("python", PYTHONS)
def test_group_fields_explicit_and_defaults(run_process, python):
    explicit = run_process(
        PYTHON_TEST,
        "test-python-process-group-field",
        {"my_group": {"foo": 123, "bar": "foobar"}, "my_group2": {"foo": 124}, "my_subgroup": {"subgroup": {"foo": 3}}},
        python=python,
    )
    assert explicit.returncode == 0, explicit.stderr
    assert explicit.output == {"out_foo": 123, "out_bar": "foobar", "out_foo2": 124, "out_subgroup": 3}
    # No inputs at all: the defaults of the fields apply.
    defaults = run_process(PYTHON_TEST, "test-python-process-group-field", {}, python=python)
    assert defaults.returncode == 0, defaults.stderr
    assert defaults.output == {"out_foo": 42, "out_subgroup": 2}


@pytest.mark.parametrize("python", PYTHONS)
def test_error_process(run_process, python):
    run = run_process(PYTHON_TEST, "test-python-process-error", python=python)
    assert run.returncode == 1
    assert run.report.error == ["Value error in ErrorProcess"]


def test_simple_processes(run_process):
    assert run_process(PYTHON_TEST, "test-python-process-2").returncode == 0
    run = run_process(PYTHON_TEST, "entity-process")
    assert (run.returncode, run.output) == (0, {"list_string": ["foo", "bar"]})
    run = run_process(PYTHON_TEST, "process-with-choices-input", {"string_input": "baz"})
    assert (run.returncode, run.output) == (0, {"string_output": "baz"})
    run = run_process(PYTHON_TEST, "process-with-workflow-input", {"data": 5})
    assert (run.returncode, run.records) == (0, [])
    run = run_process(PYTHON_TEST, "data-name-process", {"data_input": 5}, data={"id": 42, "name": "Data with entity"})
    assert (run.returncode, run.output) == (0, {"name": "Data with entity"})


@pytest.mark.parametrize("slug", ["test-python-process-requirements", "test-python-process-requirements2"])
def test_requirements(run_process, slug):
    run = run_process(
        PYTHON_TEST,
        slug,
        requirements={"resources": {"cores": 3, "memory": 50000, "storage": 500, "network": False}},
    )
    assert run.returncode == 0, run.stderr
    assert run.output == {"cores": 3, "memory": 50000, "storage": 500}


def test_annotate_entity_v2(run_process):
    channel = _serve({"Entity": {7: {"name": "S"}}})
    data = {"id": 42, "name": "d", "entity_id": 7}
    try:
        single = run_process(PYTHON_TEST, "test-python-process-annotate-entity-v2", channel=channel, data=data)
        after_single = dict(channel.annotations[7])
        bulk_update = run_process(
            PYTHON_TEST, "test-python-process-annotate-entity-v2-bulk-update", channel=channel, data=data
        )
        after_update = dict(channel.annotations[7])
        bulk_set = run_process(
            PYTHON_TEST, "test-python-process-annotate-entity-v2-bulk-set", channel=channel, data=data
        )
    finally:
        channel.stop()
    assert [single.returncode, bulk_update.returncode, bulk_set.returncode] == [0, 0, 0]
    assert after_single == {"general.species": "Human", "general.age": 42}
    assert after_update == {"general.species": "Human Bulk", "general.age": 84}
    assert channel.annotations[7] == {"general.species": "Human Bulk Set"}
    assert channel.commands("annotate")[-1] == {
        "command": "annotate",
        "entity": 7,
        "values": {"general.species": "Human Bulk Set"},
        "replace": True,
    }


def test_update_entity_annotations_v2(run_process):
    channel = _serve({"Entity": {5: {"name": "Entity"}}}, {5: {"general.age": 42}})
    try:
        run = run_process(
            PYTHON_TEST, "test-python-process-update-entity-annotations-v2", {"entity_id": 5}, channel=channel
        )
    finally:
        channel.stop()
    assert run.returncode == 0, run.stderr
    assert run.output == {"existing_annotations": "{'general.age': 42}"}
    assert channel.annotations[5] == {"general.age": 21, "general.species": "Human"}


def test_import_file_process(run_process, tmp_path):
    upload = tmp_path / "upload-abc"
    upload.write_bytes((FILES / "testfile.txt").read_bytes())
    run = run_process(
        PYTHON_TEST, "test-python-process-file", {"src": {"file": "testfile.txt", "file_temp": str(upload)}}
    )
    assert run.returncode == 0, run.stderr
    result = collect_outputs(
        run.report, output_schema=[{"name": "dst", "type": "basic:file:"}], data_dir=run.data_dir, return_code=0
    )
    assert result.output["dst"] == {"file": "testfile.txt", "size": 15, "total_size": 15}


def test_iterate(run_process):
    channel = _serve({"Process": {1: {"slug": "b"}, 2: {"slug": "a"}, 3: {"slug": "c"}}})
    try:
        run = run_process(PYTHON_TEST, "test-python-process-iterate", channel=channel)
    finally:
        channel.stop()
    assert run.returncode == 0, run.stderr
    assert run.output == {"process_slugs": ["b", "a", "c"]}


def test_relations(run_process):
    channel = _serve(
        {
            "Data": {
                1: {"entity": 11, "collection": 3},
                2: {"entity": 12, "collection": 3},
                3: {"entity": None, "collection": 4},
            },
            "Collection": {3: {"name": "collection"}, 4: {"name": "Collection 2"}},
            "Relation": {
                9: {
                    "collection": 3,
                    "type": "series",
                    "ordered": True,
                    "category": "time-series",
                    "unit": "hr",
                    "partitions": [
                        {"entity": 11, "label": "start", "position": 1},
                        {"entity": 12, "label": "end", "position": 2},
                    ],
                }
            },
        }
    )
    try:
        run = run_process(PYTHON_TEST, "test-process-relations", {"data": [1, 2, 3]}, channel=channel)
    finally:
        channel.stop()
    assert run.returncode == 0, run.stderr
    assert run.output == {
        "relation_id": 9,
        "relation_type": "series",
        "relation_ordered": "True",
        "relation_category": "time-series",
        "relation_unit": "hr",
        "relation_partition_label": "start",
        "relation_partition_position": 1,
    }


def test_parent_process_schema(run_process):
    schema = [{"name": "cores", "type": "basic:integer:"}]
    channel = _serve(
        {
            "Data": {1: {"process": 7, "output": {"cores": 2}}, 2: {"process": 7, "output": {"cores": 2}}},
            "Process": {7: {"output_schema": schema}},
        }
    )
    try:
        run = run_process(PYTHON_TEST, "parent-process-schema", {"input1": 1, "input2": 2}, channel=channel)
    finally:
        channel.stop()
    assert run.returncode == 0, run.stderr
    assert [(r["model"], r["id"], r["names"]) for r in channel.commands("fields")] == [
        ("Data", 1, ["output"]),
        ("Data", 1, ["process"]),
        ("Process", 7, ["output_schema"]),
        ("Data", 2, ["output"]),
        ("Data", 2, ["process"]),
        ("Process", 7, ["output_schema"]),
    ]


def test_collections_and_processes(run_process):
    channel = _serve(
        {
            "Collection": {
                1: {"name": "Python process collection", "slug": "python-process-collection"},
                2: {"name": "Other", "slug": "other"},
                3: {"name": "Python process collection", "slug": "python-process-collection-2"},
            },
            "Process": {
                5: {"slug": "multiple-versions", "version": "1.0.0"},
                6: {"slug": "multiple-versions", "version": "1.0.1"},
                7: {"slug": "create-collection", "version": "1.0.0"},
            },
        }
    )
    try:
        created = run_process(PYTHON_TEST, "create-collection", {"collection_name": "New"}, channel=channel)
        latest = run_process(PYTHON_TEST, "get-latest-process", {"process_slug": "multiple-versions"}, channel=channel)
        got = run_process(PYTHON_TEST, "get-collection", {"collection_name": "Other"}, channel=channel)
        ambiguous = run_process(
            PYTHON_TEST, "get-collection", {"collection_name": "Python process collection"}, channel=channel
        )
        filtered = run_process(
            PYTHON_TEST, "filter-collection", {"collection_name": "Python process collection"}, channel=channel
        )
        data = run_process(
            PYTHON_TEST, "create-data", {"data_name": "Data name", "collection_name": "C"}, channel=channel
        )
    finally:
        channel.stop()
    assert created.returncode == 0, created.stderr
    assert channel.commands("create")[0] == {"command": "create", "model": "Collection", "fields": {"name": "New"}}
    assert latest.output == {"process_pk": 6}
    assert got.output == {"collection_slug": "other"}
    assert ambiguous.returncode == 1
    assert ambiguous.report.error == [NO_OBJECT]
    assert filtered.output == {"number_of_collections": 2}
    assert data.returncode == 0, data.stderr
    assert channel.commands("create")[1] == {
        "command": "create",
        "model": "Data",
        "fields": {"process": 7, "name": "Data name", "input": {"collection_name": "C"}},
    }


def test_assign_entity_tags(run_process):
    channel = _serve({"Data": {42: {"name": "d", "entity": None}}})
    try:
        run = run_process(
            PYTHON_TEST,
            "assign-entity-tags",
            {"data_name": "data_name", "sample_name": "sample_name", "tags": ["first", "second"]},
            channel=channel,
        )
    finally:
        channel.stop()
    assert run.returncode == 0, run.stderr
    assert [(r["model"], r["id"], r["fields"]) for r in channel.commands("update")] == [
        ("Entity", 1001, {"tags": ["first", "second"]}),
        ("Data", 42, {"name": "data_name"}),
        ("Data", 42, {"entity": 1001}),
    ]
    assert channel.objects["Entity"][1001] == {"name": "sample_name", "tags": ["first", "second"]}


def test_change_entity_name_permissions(run_process):
    inputs = {"entity_id": 5, "entity_name": "New entity name"}
    objects = {"Entity": {5: {"name": "Entity"}}}
    results = []
    for kwargs in ({"no_view": {("Entity", 5)}}, {"no_edit": {("Entity", 5)}}, {}):
        channel = _serve(objects, **kwargs)
        try:
            run = run_process(PYTHON_TEST, "change-entity-name", inputs, channel=channel)
        finally:
            channel.stop()
        results.append((run.returncode, run.report.error, channel.objects["Entity"][5]["name"]))
    assert results == [
        (1, [NO_OBJECT], "Entity"),
        (1, ["No edit permission for entity with id 5."], "Entity"),
        (0, [], "New entity name"),
    ]


def test_storage_objects(run_process):
    run = run_process(PYTHON_TEST, "storage-objects-test")
    assert run.returncode == 0, run.stderr
    assert run.args("save") == [
        ("output_string", '["first", "valid", "json"]'),
        ("output_string", '["valid", "json"]'),
        ("output_file", "json_file.out"),
    ]
    schema = [
        {"name": "output_string", "type": "basic:json:"},
        {"name": "output_file", "type": "basic:json:"},
    ]
    result = collect_outputs(run.report, output_schema=schema, data_dir=run.data_dir, return_code=0)
    assert result.errors == []
    assert result.output == {"output_string": ["valid", "json"], "output_file": ["valid", "json", "file"]}


def test_nested_directories(run_process):
    run = run_process(PYTHON_TEST, "test-python-nested-dir")
    assert run.returncode == 0, run.stderr
    assert run.records == [
        type(run.records[0])("save-file", ("out1", "a/b/c/file1.out")),
        type(run.records[0])("save-file", ("out2", "a/b/d/file2.out")),
    ]


def test_python_json_process(run_process):
    channel = _serve(
        {
            "Data": {
                9: {"process": 4, "storages": [30], "output": {"storage": 30}},
            },
            "Process": {4: {"output_schema": [{"name": "storage", "type": "basic:json:"}]}},
            "Storage": {30: {"json": {"foo": "bar"}}},
        }
    )
    try:
        run = run_process(CORPUS / "python_json.py", "test-python-process-json", {"data": 9}, channel=channel)
    finally:
        channel.stop()
    assert run.returncode == 0, run.stderr
    assert "Input data: Data(pk=9)" in run.stdout
    assert "Input data: [Storage(pk=30)]" in run.stdout


@pytest.mark.parametrize("python", PYTHONS)
@pytest.mark.parametrize(
    ("name", "kind", "expected", "extracted"),
    [
        ("reads.txt.gz", "gz", "reads.txt.gz", ["reads.txt", "reads.txt.gz"]),
        ("archive.zip", "zip-one", "archive.gz", ["archive", "archive.gz"]),
        ("archive.zip", "zip-many", "archive.tar.gz", ["archive.tar.gz", "x.txt", "y.txt"]),
        ("notes.txt", "plain", "notes.txt", ["notes.txt", "notes.txt.gz"]),
    ],
)
def test_upload_file_process(run_process, tmp_path, name, kind, expected, extracted, python):
    upload = tmp_path / f"upload-{kind}"
    if kind == "gz":
        upload.write_bytes(gzip.compress(b"content\n"))
    elif kind == "plain":
        upload.write_text("content\n")
    else:
        with zipfile.ZipFile(upload, "w") as archive:
            archive.writestr("x.txt", "x\n")
            if kind == "zip-many":
                archive.writestr("y.txt", "y\n")
    run = run_process(
        CORPUS / "files.py", "upload-file", {"src": {"file": name, "file_temp": str(upload)}}, python=python
    )
    assert run.returncode == 0, run.stderr
    assert run.output == {"file": {"file": expected}}
    assert sorted(os.listdir(run.data_dir)) == extracted
    result = collect_outputs(
        run.report, output_schema=[{"name": "file", "type": "basic:file:"}], data_dir=run.data_dir, return_code=0
    )
    assert result.errors == []
