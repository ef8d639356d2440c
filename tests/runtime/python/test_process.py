"""The runner and the Process API: reports, errors, Cmd, self.data, run_process."""

from __future__ import annotations

import json

import pytest

from .conftest import PYTHONS
from .fake_channel import FakeChannel

HEADER = """
import json, os, sys
from resolwe.process import *
from plumbum import TEE, ProcessExecutionError


class P(Process):
    slug = "p"
    name = "P"
    version = "1.0.0"
    process_type = "data:test"
    requirements = {"resources": {"cores": 99}}

    class Input:
        which = StringField(label="which", required=False)

    class Output:
        out = StringField(label="out", required=False)
        n = IntegerField(label="n", required=False)

    def run(self, inputs, outputs):
"""


def body(code: str) -> str:
    return HEADER + "".join(f"        {line}\n" for line in code.strip("\n").splitlines())


@pytest.mark.parametrize("python", PYTHONS)
def test_uncaught_exception_ends_in_error_with_its_message(run_process, python):
    run = run_process(body("outputs.out = 'before'\nraise ValueError('Value error in P')"), "p", python=python)
    assert run.returncode == 1
    assert run.names() == ["save", "error"]
    assert run.errors == ["Value error in P"]
    assert "Traceback" in run.stderr and "ValueError: Value error in P" in run.stderr


def test_exception_without_message_reports_its_type(run_process):
    run = run_process(body("assert False"), "p")
    assert run.returncode == 1
    assert run.errors == ["AssertionError"]


def test_self_error_reports_and_ends_the_program(run_process):
    code = """
try:
    self.error("Bad", "input:", 3)
except Exception:
    outputs.out = "caught"  # an error ends the program, it is not an Exception
outputs.out = "after"
"""
    run = run_process(body(code), "p")
    assert run.returncode == 1
    assert run.names() == ["error"]
    assert run.errors == ["Bad input: 3"]


def test_error_called_on_the_class_reports_its_message(run_process):
    """resolwe-bio's ``validate_filename_suffix`` calls ``Process.error("...")`` without an instance."""
    run = run_process(body('Process.error("Unsupported file name extension.")\noutputs.out = "after"'), "p")
    assert run.returncode == 1
    assert run.errors == ["Unsupported file name extension."]
    assert "out" not in run.output


def test_program_exit_code_is_kept(run_process):
    run = run_process(body("outputs.n = 1\nsys.exit(3)"), "p")
    assert run.returncode == 3
    assert run.names() == ["save"]
    run = run_process(body("sys.exit(0)"), "p")
    assert run.returncode == 0


def test_unknown_slug(run_process):
    run = run_process(body("pass"), "nope")
    assert run.returncode == 1
    assert run.errors == ["Unable to find process 'nope'."]
    assert "p (P)" in run.stderr


def test_program_that_fails_to_load(run_process):
    run = run_process("import json\nraise RuntimeError('broken module')\n", "p")
    assert run.returncode == 1
    assert run.errors == ["broken module"]
    run = run_process("def broken(:\n    pass\n", "p")
    assert run.returncode == 1
    assert run.errors and "invalid syntax" in run.errors[0]


def test_progress_info_warning(run_process):
    code = """
self.progress(0.1)
self.progress(1)
self.info("one", 2)
self.warning("careful")
try:
    self.progress(1.5)
except AssertionError as err:
    outputs.out = str(err)
"""
    run = run_process(body(code), "p")
    assert run.returncode == 0, run.stderr
    assert run.records[:4] == [
        type(run.records[0])("progress", ("0.1",)),
        type(run.records[0])("progress", ("1.0",)),
        type(run.records[0])("info", ("one 2",)),
        type(run.records[0])("warning", ("careful",)),
    ]
    assert run.report.progress == 100.0
    assert run.report.info == ["one 2"]
    assert run.report.warning == ["careful"]
    assert run.output == {"out": "Progress must be a float between 0 and 1."}


def test_requirements_name_and_module(run_process):
    code = """
outputs.out = json.dumps([
    self.requirements.resources.cores,
    self.requirements["resources"]["memory"],
    self.requirements["resources"].storage,
    self.requirements.executor,
    self.name,
    __name__,
    type(self).__module__,
    hasattr(type(self), "slug"),
])
"""
    run = run_process(body(code), "p")
    assert run.returncode == 0, run.stderr
    assert json.loads(run.output["out"]) == [2, 4096, 200, None, "Data 42", "python_program", "python_program", False]


def test_cmd_tee_retcode_pipes_and_redirects(run_process):
    code = """
rc, out, err = Cmd["sh"]["-c", "echo out; echo err >&2; exit 3"] & TEE(retcode=None)
piped = (Cmd["printf"]["a\\\\nb\\\\npython\\\\n"] | Cmd["grep"]["python"])()
(Cmd["echo"]["some content"] > "test.txt")()
try:
    Cmd["false"]()
    failed = None
except ProcessExecutionError as error:
    failed = error.retcode
with Cmd.env(LC_ALL="C"):
    env_value = Cmd["sh"]["-c", "echo $LC_ALL"]().strip()
outputs.out = json.dumps([rc, out, err, piped, open("test.txt").read(), failed, env_value])
Cmd["sh"]["-c", "exit 4"]()
"""
    run = run_process(body(code), "p")
    assert run.returncode == 1
    assert json.loads(run.output["out"]) == [3, "out\n", "err\n", "python\n", "some content\n", 1, "C"]
    # TEE copies the command's output to the program's own stdout/stderr.
    assert "out\n" in run.stdout and "err\n" in run.stderr
    # An uncaught non-zero exit of a command ends the run with plumbum's message.
    assert len(run.errors) == 1 and "Unexpected exit code: 4" in run.errors[0]


def test_re_utilities_through_cmd_share_the_commands_file(run_process):
    code = """
Cmd["re-progress"]["0.5"]()
self.info("from python")
Cmd["re-save"]["n", "7"]()
"""
    run = run_process(body(code), "p")
    assert run.returncode == 0, run.stderr
    assert run.names() == ["progress", "info", "save"]
    assert run.output == {"n": 7}


def test_run_process_creates_the_child_now_with_its_exported_files(run_process):
    code = """
open("reads.fq", "w").write("@r")
result = self.run_process("upload-fastq", {"src": "reads.fq", "name": "not-a-file", "nested": {"more": ["reads.fq"]}, "d": Data(10)})
outputs.out = repr(result)
self.update_entity_descriptor({"general.species": "Homo sapiens", "general.age": 3})
self.export_files(["reads.fq", "missing.fq"])
"""
    channel = FakeChannel({"Data": {10: {"name": "input"}}}).start()
    try:
        run = run_process(body(code), "p", channel=channel)
    finally:
        channel.stop()
    assert run.returncode == 0, run.stderr
    # Created over the channel while the program runs, as Resolwe's listener does.
    assert [request for request in channel.requests if request["command"] == "run"] == [
        {
            "command": "run",
            "process": "upload-fastq",
            "input": {"src": "reads.fq", "name": "not-a-file", "nested": {"more": ["reads.fq"]}, "d": 10},
            "export": ["reads.fq", "reads.fq"],
        }
    ]
    assert run.args("run") == [] and run.report.spawned == []
    assert run.args("export") == [("reads.fq",)]  # export_files() itself, for a bash re-run
    assert run.report.annotations == {"general.species": "Homo sapiens", "general.age": 3}
    assert run.output == {"out": "None"}


def test_self_data_reads_and_writes_through_the_channel(run_process):
    channel = FakeChannel(
        {
            "Data": {42: {"name": "Data 42", "descriptor": {}, "entity": None, "descriptor_schema": None}},
            "Entity": {7: {"name": "E"}},
            "DescriptorSchema": {
                1: {"slug": "geneset", "version": "1.0.0"},
                2: {"slug": "geneset", "version": "1.10.0"},
                3: {"slug": "geneset", "version": "1.9.0"},
            },
        }
    ).start()
    code = """
from resolwe.process.models import DescriptorSchema, Entity
before = [self.data.id, self.data.name, self.data.slug, self.data.entity, self.data.collection, self.data.contributor.id,
          self.data.process.slug, self.data.type, self.process.version]
self.data.name = "Renamed"
ds = DescriptorSchema.get_latest(slug="geneset")
self.data.descriptor_schema = ds.id
self.data.descriptor = {"description": "d"}
self.data.entity = Entity.get(id=7)
outputs.out = json.dumps(before + [self.name, self.data.entity.name, ds.id, self.data.output is outputs])
"""
    try:
        run = run_process(
            body(code),
            "p",
            channel=channel,
            data={
                "id": 42,
                "name": "Data 42",
                "slug": "data-42",
                "entity_id": None,
                "collection_id": None,
                "contributor_id": 1,
            },
            process={"id": 5, "slug": "p", "version": "1.0.0", "type": "data:test:"},
        )
    finally:
        channel.stop()
    assert run.returncode == 0, run.stderr
    assert json.loads(run.output["out"]) == [
        42,
        "Data 42",
        "data-42",
        None,
        None,
        1,
        "p",
        "data:test:",
        "1.0.0",
        "Renamed",
        "E",
        2,
        True,
    ]
    updates = [(r["model"], r["id"], r["fields"]) for r in channel.commands("update")]
    assert updates == [
        ("Data", 42, {"name": "Renamed"}),
        ("Data", 42, {"descriptor_schema": 2}),
        ("Data", 42, {"descriptor": {"description": "d"}}),
        ("Data", 42, {"entity": 7}),
    ]
    # What run.json gave is not asked for again.
    assert [(r["model"], r["id"], r["names"]) for r in channel.commands("fields")] == [("Entity", 7, ["name"])]
    assert channel.objects["Data"][42]["entity"] == 7


def test_no_channel_configured(run_process):
    code = """
from resolwe.process.models import Collection
try:
    Collection.filter(name="x")
except RuntimeError as error:
    outputs.out = str(error)
"""
    run = run_process(body(code), "p")
    assert run.returncode == 0, run.stderr
    assert run.output == {"out": "The object API is not available: RESOLWE_CHANNEL is not set."}


def test_channel_over_tcp_sends_the_token_first(run_process):
    channel = FakeChannel({"Collection": {3: {"name": "c", "slug": "c-slug"}}}, token="s3cr3t").start(tcp=True)
    code = """
from resolwe.process.models import Collection
outputs.out = Collection.get(name="c").slug
"""
    try:
        run = run_process(body(code), "p", channel=channel, env={"RESOLWE_CHANNEL_TOKEN": "s3cr3t"})
    finally:
        channel.stop()
    assert run.returncode == 0, run.stderr
    assert run.output == {"out": "c-slug"}
    assert channel.tokens_seen == ["s3cr3t"]


def test_records_are_not_interleaved_with_concurrent_writers(run_process):
    code = """
import threading
Cmd["sh"]["-c", "for i in 1 2 3 4 5 6 7 8 9 10; do re-info \\"shell $i\\" & done; wait"] & BG
def writer(n):
    for i in range(20):
        self.info("thread %d %d %s" % (n, i, "x" * 3000))
threads = [threading.Thread(target=writer, args=(n,)) for n in range(4)]
[t.start() for t in threads]
[t.join() for t in threads]
Cmd["sh"]["-c", "for i in 1 2 3 4 5 6 7 8 9 10; do re-info \\"shell b$i\\" & done; wait"]()
"""
    run = run_process(body(code).replace("from plumbum import TEE", "from plumbum import BG, TEE"), "p")
    assert run.returncode == 0, run.stderr
    infos = run.args_of("info")
    assert len([i for i in infos if i.startswith("thread")]) == 80
    assert len([i for i in infos if i.startswith("shell b")]) == 10


def test_files_in_the_data_directory_do_not_shadow_modules(run_process):
    def prepare(data_dir):
        (data_dir / "colorsys.py").write_text("raise ImportError('shadowed')\n")

    code = """
import colorsys
outputs.out = colorsys.__name__ + ":" + str(colorsys.__file__ != os.path.abspath("colorsys.py"))
"""
    run = run_process(body(code), "p", prepare=prepare)
    assert run.returncode == 0, run.stderr
    assert run.output == {"out": "colorsys:True"}
