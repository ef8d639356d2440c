"""Input access and output saving for every field type."""

from __future__ import annotations

import json

import pytest

from resolwe_prefect.runtime.collect import collect_outputs

from .conftest import PYTHONS
from .fake_channel import FakeChannel

INPUTS_PROCESS = """
import json
from resolwe.process import *
from resolwe.process import DateField, DateTimeField, SecretField, TextField, UrlField


class AllInputs(Process):
    slug = "all-inputs"
    name = "All inputs"
    version = "1.0.0"
    process_type = "data:test:inputs"

    class Input:
        s = StringField(label="s")
        t = TextField(label="t")
        b = BooleanField(label="b")
        i = IntegerField(label="i")
        f = FloatField(label="f")
        d = DateField(label="d")
        dt = DateTimeField(label="dt")
        u = UrlField(UrlField.DOWNLOAD, label="u")
        secret = SecretField(label="secret")
        src = FileField(label="src")
        html = FileHtmlField(label="html")
        folder = DirField(label="folder")
        js = JsonField(label="js")
        js_value = JsonField(label="js value")
        strings = ListField(StringField(), label="strings")
        files = ListField(FileField(), label="files")
        datas = ListField(DataField("test:"), label="datas")
        d1 = DataField("test:", label="d1")
        optional = StringField(label="optional", required=False)
        with_default = IntegerField(label="with default", default=7, required=False)

        class Options:
            depth = IntegerField(label="depth", default=3)
            name = StringField(label="name", required=False)

            class Inner:
                flag = BooleanField(label="flag", default=True)

            inner = GroupField(Inner, label="inner")

        options = GroupField(Options, label="options")

    class Output:
        report = StringField(label="report")

    def run(self, inputs, outputs):
        seen = {
            "s": inputs.s, "t": inputs.t, "b": inputs.b, "i": inputs.i, "f": inputs.f,
            "types": [type(inputs.i).__name__, type(inputs.f).__name__],
            "d": inputs.d, "dt": inputs.dt,
            "u": [inputs.u, inputs.u.url, inputs.u.name, inputs.u.refs, isinstance(inputs.u, str)],
            "secret": [inputs.secret.handle, inputs.secret.value, inputs.secret["handle"]],
            "src": [inputs.src.path, inputs.src.file_temp, inputs.src.size, inputs.src.refs],
            "html": inputs.html.path,
            "folder": [inputs.folder.path, inputs.folder.refs],
            "js": [inputs.js.id, inputs.js.json, inputs.js["a"], list(inputs.js)],
            "js_value": inputs.js_value,
            "strings": inputs.strings,
            "files": [f.path for f in inputs.files],
            "datas": [d.id for d in inputs.datas],
            "d1": [inputs.d1.id, inputs.d1.name, inputs.d1.slug, inputs.d1.type,
                   inputs.d1.entity.id, inputs.d1.entity.name, inputs.d1.descriptor,
                   [s.id for s in inputs.d1.storages], inputs.d1.process.slug,
                   inputs.d1.output.reads.path, [r.path for r in inputs.d1.output.more],
                   inputs.d1.output.number, inputs.d1.output.missing, inputs.d1.output.js.json,
                   inputs.d1.output.grp.x],
            "optional": inputs.optional,
            "with_default": inputs.with_default,
            "options": [inputs.options.depth, inputs.options.name, inputs.options.inner.flag,
                        inputs["options"].depth],
            "contains": ["s" in inputs, "nope" in inputs],
        }
        outputs.report = json.dumps(seen)
"""

OBJECTS = {
    "Data": {
        10: {
            "name": "Reads",
            "slug": "reads",
            "process": 3,
            "entity": 7,
            "descriptor": {"description": "x"},
            "storages": [20],
            "output": {
                "reads": {"file": "/inputs/10/reads.fq", "size": 5},
                "more": [{"file": "/inputs/10/a.fq"}, {"file": "/inputs/10/b.fq"}],
                "number": 3,
                "js": 20,
                "grp": {"x": 1},
            },
        },
        11: {"name": "Other"},
    },
    "Process": {
        3: {
            "slug": "upload-reads",
            "version": "1.0.0",
            "type": "data:reads:fastq:",
            "output_schema": [
                {"name": "reads", "type": "basic:file:"},
                {"name": "more", "type": "list:basic:file:"},
                {"name": "number", "type": "basic:integer:"},
                {"name": "missing", "type": "basic:string:", "required": False},
                {"name": "js", "type": "basic:json:"},
                {"name": "grp", "type": "basic:group:", "group": [{"name": "x", "type": "basic:integer:"}]},
            ],
        }
    },
    "Entity": {7: {"name": "Sample 7"}},
    "Storage": {20: {"name": "storage", "json": {"a": 1, "b": [2]}}, 21: {"json": {"a": 1}}},
}

INPUTS = {
    "s": "text",
    "t": "long text",
    "b": True,
    "i": 3,
    "f": 0.5,
    "d": "2024-01-02",
    "dt": "2024-01-02T03:04:05",
    "u": {"url": "https://example.org/x", "name": "X", "refs": ["r"]},
    "secret": {"handle": "abc"},
    "src": {"file": "reads.fq", "file_temp": "/runtime/uploads/ab12", "size": 12},
    "html": {"file": "report.html"},
    "folder": {"dir": "/inputs/10/dir", "refs": ["/inputs/10/x"]},
    "js": 21,
    "js_value": {"inline": True},
    "strings": ["a", "b"],
    "files": [{"file": "/inputs/10/a.fq"}, {"file": "/inputs/10/b.fq"}],
    "datas": [10, 11],
    "d1": 10,
    "options": {"name": "n", "inner": {}},
}


@pytest.mark.parametrize("python", PYTHONS)
def test_every_input_type(run_process, tmp_path, python):
    channel = FakeChannel(OBJECTS).start()
    secrets = tmp_path / "secrets"
    secrets.mkdir()
    (secrets / "abc").write_text("s3cret")
    try:
        run = run_process(
            INPUTS_PROCESS,
            "all-inputs",
            INPUTS,
            channel=channel,
            python=python,
            env={"RESOLWE_SECRETS_DIR": str(secrets)},
        )
    finally:
        channel.stop()
    assert run.returncode == 0, run.stderr
    seen = json.loads(run.output["report"])
    assert seen == {
        "s": "text",
        "t": "long text",
        "b": True,
        "i": 3,
        "f": 0.5,
        "types": ["int", "float"],
        "d": "2024-01-02",
        "dt": "2024-01-02T03:04:05",
        "u": ["https://example.org/x", "https://example.org/x", "X", ["r"], True],
        "secret": ["abc", "s3cret", "abc"],
        "src": ["reads.fq", "/runtime/uploads/ab12", 12, []],
        "html": "report.html",
        "folder": ["/inputs/10/dir", ["/inputs/10/x"]],
        "js": [21, {"a": 1}, 1, ["a"]],
        "js_value": {"inline": True},
        "strings": ["a", "b"],
        "files": ["/inputs/10/a.fq", "/inputs/10/b.fq"],
        "datas": [10, 11],
        "d1": [
            10,
            "Reads",
            "reads",
            "data:reads:fastq:",
            7,
            "Sample 7",
            {"description": "x"},
            [20],
            "upload-reads",
            "/inputs/10/reads.fq",
            ["/inputs/10/a.fq", "/inputs/10/b.fq"],
            3,
            None,
            {"a": 1, "b": [2]},
            1,
        ],
        "optional": None,
        "with_default": 7,
        "options": [3, "n", True, 3],
        "contains": [True, False],
    }
    # Data attributes are fetched lazily, one field at a time, and cached.
    fields = [(r["model"], r["id"], tuple(r["names"])) for r in channel.commands("fields")]
    assert ("Data", 10, ("name",)) in fields
    assert ("Data", 10, ("output",)) in fields
    assert ("Process", 3, ("output_schema",)) in fields
    assert ("Entity", 7, ("name",)) in fields
    assert len(fields) == len(set(fields))
    assert {r["id"] for r in channel.commands("storage")} == {20, 21}
    # Data 11's fields were never needed.
    assert not [r for r in channel.requests if r.get("id") == 11]


MISSING = """
from resolwe.process import *

class Missing(Process):
    slug = "missing"
    name = "Missing"
    version = "1.0.0"
    process_type = "data:test"

    class Input:
        d = DataField("", label="d")
        which = StringField(label="which")

    class Output:
        out = StringField(label="out")

    def run(self, inputs, outputs):
        if inputs.which == "input":
            inputs.invalid_input
        elif inputs.which == "output":
            outputs.invalid_output = 1
        elif inputs.which == "read-output":
            outputs.invalid_output
        elif inputs.which == "data":
            inputs.d.output.invalid_field
        elif inputs.which == "caught":
            try:
                inputs.invalid_input
            except AttributeError as err:
                outputs.out = str(err)
"""


@pytest.mark.parametrize(
    ("which", "message"),
    [
        ("input", "Inputs have no field invalid_input"),
        ("output", "Outputs have no field invalid_output"),
        ("read-output", "Outputs have no field invalid_output"),
        ("data", "DataField has no member invalid_field"),
    ],
)
def test_missing_field_errors(run_process, which, message):
    channel = FakeChannel(
        {
            "Data": {10: {"output": {"x": 1}, "process": 3}},
            "Process": {3: {"output_schema": [{"name": "x", "type": "basic:integer:"}]}},
        }
    ).start()
    try:
        run = run_process(MISSING, "missing", {"d": 10, "which": which}, channel=channel)
    finally:
        channel.stop()
    assert run.returncode == 1
    assert run.errors == [message]
    assert run.report.error == [message]
    assert "AttributeError" in run.stderr


def test_missing_field_is_attribute_error(run_process):
    run = run_process(MISSING, "missing", {"d": 10, "which": "caught"})
    assert run.returncode == 0, run.stderr
    assert run.output == {"out": "Inputs have no field invalid_input"}


OUTPUTS_PROCESS = """
import json
from pathlib import Path
from resolwe.process import *
from resolwe.process import DateField, UrlField
from resolwe.process.models import Data


class AllOutputs(Process):
    slug = "all-outputs"
    name = "All outputs"
    version = "1.0.0"
    process_type = "data:test:outputs"

    class Output:
        s = StringField(label="s")
        b = BooleanField(label="b")
        i = IntegerField(label="i")
        f = FloatField(label="f")
        numeric_text = StringField(label="numeric text")
        multiline = StringField(label="multiline")
        d = DateField(label="d")
        u = UrlField(UrlField.VIEW, label="u")
        file = FileField(label="file")
        file_refs = FileField(label="file with refs")
        html = FileHtmlField(label="html")
        folder = DirField(label="folder")
        strings = ListField(StringField(), label="strings")
        ints = ListField(IntegerField(), label="ints")
        files = ListField(FileField(), label="files")
        dirs = ListField(DirField(), label="dirs")
        colon_files = ListField(FileField(), label="colon files")
        js = JsonField(label="js")
        js_file = JsonField(label="js file")
        js_text = JsonField(label="js text")
        data = DataField("test:", label="data")
        datas = ListField(DataField("test:"), label="datas")

        class Stats:
            count = IntegerField(label="count")
            table = FileField(label="table")

        stats = GroupField(Stats, label="stats")
        stats2 = GroupField(Stats, label="stats2")

    def run(self, inputs, outputs):
        Path("a.txt").write_text("a")
        Path("b.txt").write_text("b")
        Path("ref.txt").write_text("r")
        Path("r.html").write_text("<html/>")
        Path("dir1").mkdir()
        Path("dir2").mkdir()
        Path("c:d.txt").write_text("c")
        Path("j.json").write_text(json.dumps({"from": "file"}))
        outputs.s = "first"
        outputs.s = "hello"
        outputs.b = False
        outputs.i = "42"
        outputs.f = 1
        outputs.numeric_text = "42"
        outputs.multiline = "line 1\\nline 2"
        outputs.d = "2024-05-06"
        outputs.u = "https://example.org"
        outputs.file = "a.txt"
        outputs.file_refs = Path("b.txt")
        outputs.file_refs = FileField().to_python({"file": "b.txt", "refs": ["ref.txt", "dir1"]})
        outputs.html = "r.html"
        outputs.folder = "dir1"
        outputs.strings = ["x", "42", "y z"]
        outputs.ints = [1, 2]
        outputs.files = ["a.txt", FileField().to_python({"file": "b.txt", "refs": ["ref.txt"]})]
        outputs.dirs = ["dir1", "dir2"]
        outputs.colon_files = ["c:d.txt"]
        outputs.js = {"k": [1, 2]}
        outputs.js_file = "j.json"
        outputs.js_text = "not a file"
        outputs.data = Data(10)
        outputs.datas = [10, Data(11)]
        outputs.stats.count = 3
        outputs.stats.table = "a.txt"
        outputs.stats2 = {"count": 4}
        assert outputs.s == "hello"
        assert outputs.i == 42
        assert outputs.stats.count == 3
        assert outputs["b"] is False
"""

OUTPUT_SCHEMA = [
    {"name": "s", "type": "basic:string:"},
    {"name": "b", "type": "basic:boolean:"},
    {"name": "i", "type": "basic:integer:"},
    {"name": "f", "type": "basic:decimal:"},
    {"name": "numeric_text", "type": "basic:string:"},
    {"name": "multiline", "type": "basic:string:"},
    {"name": "d", "type": "basic:date:"},
    {"name": "u", "type": "basic:url:view:"},
    {"name": "file", "type": "basic:file:"},
    {"name": "file_refs", "type": "basic:file:"},
    {"name": "html", "type": "basic:file:html:"},
    {"name": "folder", "type": "basic:dir:"},
    {"name": "strings", "type": "list:basic:string:"},
    {"name": "ints", "type": "list:basic:integer:"},
    {"name": "files", "type": "list:basic:file:"},
    {"name": "dirs", "type": "list:basic:dir:"},
    {"name": "colon_files", "type": "list:basic:file:"},
    {"name": "js", "type": "basic:json:"},
    {"name": "js_file", "type": "basic:json:"},
    {"name": "js_text", "type": "basic:json:"},
    {"name": "data", "type": "data:test:"},
    {"name": "datas", "type": "list:data:test:"},
    {
        "name": "stats",
        "type": "basic:group:",
        "group": [{"name": "count", "type": "basic:integer:"}, {"name": "table", "type": "basic:file:"}],
    },
    {
        "name": "stats2",
        "type": "basic:group:",
        "group": [{"name": "count", "type": "basic:integer:"}, {"name": "table", "type": "basic:file:"}],
    },
]


def test_every_output_type(run_process):
    run = run_process(OUTPUTS_PROCESS, "all-outputs")
    assert run.returncode == 0, run.stderr
    assert run.records[:2] == [
        # Each assignment is reported at once; the last one wins at collection.
        type(run.records[0])("save", ("s", '"first"')),
        type(run.records[0])("save", ("s", '"hello"')),
    ]
    by_key = {record.args[0]: record for record in run.records}
    assert by_key["file_refs"].name == "save-file"
    assert by_key["file_refs"].args == ("file_refs", "b.txt", "ref.txt", "dir1")
    assert by_key["folder"] == type(by_key["folder"])("save-dir", ("folder", "dir1"))
    assert by_key["strings"] == type(by_key["strings"])("save-list", ("strings", '"x"', '"42"', '"y z"'))
    assert by_key["files"] == type(by_key["files"])("save-file-list", ("files", "a.txt", "b.txt:ref.txt"))
    assert by_key["dirs"] == type(by_key["dirs"])("save-dir-list", ("dirs", "dir1", "dir2"))
    assert by_key["colon_files"].name == "save"  # "c:d.txt" cannot be said as FILE[:REFS]
    assert by_key["js_file"].args == ("js_file", "j.json")
    assert run.output == {
        "s": "hello",
        "b": False,
        "i": 42,
        "f": 1.0,
        "numeric_text": "42",
        "multiline": "line 1\nline 2",
        "d": "2024-05-06",
        "u": {"url": "https://example.org"},
        "file": {"file": "a.txt"},
        "file_refs": {"file": "b.txt", "refs": ["ref.txt", "dir1"]},
        "html": {"file": "r.html"},
        "folder": {"dir": "dir1"},
        "strings": ["x", "42", "y z"],
        "ints": [1, 2],
        "files": [{"file": "a.txt"}, {"file": "b.txt", "refs": ["ref.txt"]}],
        "dirs": [{"dir": "dir1"}, {"dir": "dir2"}],
        "colon_files": [{"file": "c:d.txt"}],
        "js": {"k": [1, 2]},
        "js_file": "j.json",
        "js_text": "not a file",
        "data": 10,
        "datas": [10, 11],
        "stats": {"count": 3, "table": {"file": "a.txt"}},
        "stats2": {"count": 4},
    }
    # The same collection as for bash: files checked and sized, JSON files read.
    result = collect_outputs(run.report, output_schema=OUTPUT_SCHEMA, data_dir=run.data_dir, return_code=0)
    assert result.errors == []
    assert result.output["js_file"] == {"from": "file"}
    assert result.output["file"] == {"file": "a.txt", "size": 1, "total_size": 1}


BAD_OUTPUT = """
from resolwe.process import *

class Bad(Process):
    slug = "bad"
    name = "Bad"
    version = "1.0.0"
    process_type = "data:test"

    class Input:
        which = StringField(label="which")

    class Output:
        i = IntegerField(label="i")
        s = StringField(label="s")
        b = BooleanField(label="b")
        file = FileField(label="file")
        folder = DirField(label="folder")
        files = ListField(FileField(), label="files")

    def run(self, inputs, outputs):
        open("exists.txt", "w").close()
        if inputs.which == "i":
            outputs.i = "x"
        elif inputs.which == "s":
            outputs.s = 5
        elif inputs.which == "b":
            outputs.b = "yes"
        elif inputs.which == "file":
            outputs.file = "missing.txt"
        elif inputs.which == "folder":
            outputs.folder = "missing"
        elif inputs.which == "refs":
            outputs.file = FileField().to_python({"file": "exists.txt", "refs": ["gone", "also"]})
        elif inputs.which == "files":
            outputs.files = ["exists.txt", "nope.txt"]
        elif inputs.which == "required":
            outputs.s = None
"""


@pytest.mark.parametrize(
    ("which", "message"),
    [
        ("i", "invalid value for i: field must be an integer"),
        ("s", "invalid value for s: field must be a string"),
        ("b", "invalid value for b: field must be a boolean"),
        ("file", "Output 'file' set to a missing file: 'missing.txt'."),
        ("folder", "Output 'folder' set to a missing directory: 'missing'."),
        ("refs", "Output 'file' set to missing references: 'gone, also'."),
        ("files", "Output 'files' set to a missing file: 'nope.txt'."),
        ("required", "invalid value for s: field is required"),
    ],
)
def test_invalid_outputs(run_process, which, message):
    run = run_process(BAD_OUTPUT, "bad", {"which": which})
    assert run.returncode == 1
    assert run.errors == [message]
    assert run.names() == ["error"]
