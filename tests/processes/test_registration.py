"""Registration against the database: the cases of Resolwe's ProcessRegisterTest and the corpus."""

import json
from io import StringIO
from pathlib import Path

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command

from resolwe_prefect.data.models import Data
from resolwe_prefect.descriptors.models import DescriptorSchema
from resolwe_prefect.processes.models import Process
from resolwe_prefect.processes.registration import (
    find_process_files,
    register_descriptor_schemas,
    register_processes,
    retire_processes,
)

pytestmark = pytest.mark.django_db

TEST_MIN = """
- slug: test-min
  name: Minimalistic Process
  version: 1.0.0
  type: data:test:min
  run:
    program: echo 1.0.0
- slug: test-min
  name: Minimalistic Process
  version: 1.0.1
  type: data:test:min
  run:
    program: echo 1.0.1
- slug: test-min
  name: Minimalistic Process
  version: 0.0.9
  type: data:test:min
  run:
    program: echo 0.0.9
"""
ANNOTATE = """
- slug: test-annotate
  name: Annotate
  requirements:
    expression-engine: jinja
  version: 1.0.0
  type: data:test:annotate
  flow_collection: sample
  persistence: CACHED
  scheduling_class: interactive
  category: Test
  input:
    - name: options
      label: Options
      group:
        - name: threads
          label: Threads
          type: basic:integer
          default: 2
  run:
    language: bash
    program: echo
"""
FIRST = """
- slug: test-proc
  name: Test Processor
  version: 1.0.0
  type: "data:test:"
  run:
    language: bash
    program: echo old
"""
SECOND = FIRST.replace("1.0.0", "2.0.0").replace("old", "new")
WRONG_DEFAULT = """
- slug: test-wrong-type
  name: Test Process Wrong Type
  version: 1.0.0
  type: "data:test:"
  output:
    - name: result
      label: Result
      type: basic:integer
      default: "42"
  run:
    language: bash
    program: re-save result 12
"""
INVALID_NAME = """
- slug: cf-invalid-field-name
  name: Invalid field name
  version: 1.0.0
  type: "data:test:"
  input:
    - name: 1value
      label: Value
      type: basic:integer
  run:
    program: "true"
"""
DESCRIPTORS = """
- slug: sample
  name: Sample
  description: Test descriptor schema
  schema:
    - name: general
      label: General
      group:
        - name: species
          label: Species
          type: basic:string
"""


PYTHON = '''"""Python processes: read statically by register."""

from resolwe.process import *

LABEL = "Source"


class First(Process):
    """First process."""

    slug = "py-first"
    name = "First"
    version = "1.0.0"
    process_type = "data:py:first"
    category = "Python"
    persistence = Persistence.CACHED
    scheduling_class = SchedulingClass.INTERACTIVE
    entity = {"type": "sample", "input": "src"}

    class Input:
        src = DataField("py", label=LABEL, required=False)

        class Options:
            n = IntegerField(label="N", default=2)

        options = GroupField(Options, label="Options")

    class Output:
        n = IntegerField(label="N")

    def run(self, inputs, outputs):
        outputs.n = inputs.options.n


class Broken(Process):
    slug = "py-broken"
    name = "Broken"
    version = "1.0.0"
    process_type = "data:py"
    category = some_function()


class Invalid(Process):
    slug = "py-invalid"
    name = "Invalid"
    version = "1.0.0"
    process_type = "data:py"

    class Input:
        x = StringField()
'''
BROKEN_LINE = 35


@pytest.fixture
def admin(django_user_model):
    return django_user_model.objects.create_superuser("admin", "admin@example.com", "pw")


@pytest.fixture
def files(tmp_path):
    def write(name, content):
        path = tmp_path / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(content)
        return path

    return write


def outcomes(results):
    return {f"{o.slug}@{o.version}": o.outcome for o in results}


def versions(slug, active=None):
    qs = Process.objects.filter(slug=slug)
    if active is not None:
        qs = qs.filter(is_active=active)
    return sorted(qs.values_list("version", flat=True))


def test_version_ordering(admin, files):
    results = register_processes([files("flow.yml", TEST_MIN)], user=admin)
    assert outcomes(results) == {
        "test-min@1.0.0": "inserted",
        "test-min@1.0.1": "inserted",
        "test-min@0.0.9": "skipped-newer",
    }
    assert [o.message for o in results] == [
        "Inserted test-min",
        "Inserted test-min",
        "Skip processor test-min: newer version installed",
    ]
    assert versions("test-min") == ["1.0.0", "1.0.1"]
    assert Process.objects.filter(slug="test-min").order_by("-version").first().version == "1.0.1"
    assert all(p.contributor == admin for p in Process.objects.all())


def test_same_version_and_force(admin, files):
    path = files("flow.yml", TEST_MIN)
    register_processes([path], user=admin)
    second = register_processes([path], user=admin)
    assert outcomes(second) == {
        "test-min@1.0.0": "skipped-newer",
        "test-min@1.0.1": "skipped-same",
        "test-min@0.0.9": "skipped-newer",
    }
    assert second[1].message == "Skip processor test-min: same version installed"
    Process.objects.filter(slug="test-min", version="1.0.1").update(name="Changed")
    forced = register_processes([path], user=admin, force=True)
    assert outcomes(forced)["test-min@1.0.1"] == "updated"
    assert forced[1].message == "Updated test-min"
    assert Process.objects.get(slug="test-min", version="1.0.1").name == "Minimalistic Process"
    assert versions("test-min", active=True) == ["1.0.0", "1.0.1"]


def test_invalid_default_is_rejected(admin, files):
    path = files("registration/wrong_defaults.yml", WRONG_DEFAULT)
    (result,) = register_processes([path], user=admin)
    assert result.outcome == "rejected"
    assert result.message.startswith("VALIDATION ERROR: Test Process Wrong Type")
    assert result.file == str(path)
    assert result.errors and "output.result.default" in result.errors[0]
    assert not Process.objects.filter(slug="test-wrong-type").exists()


def test_invalid_field_name_is_rejected(admin, files):
    (result,) = register_processes([files("invalid.yml", INVALID_NAME)], user=admin)
    assert (result.slug, result.version, result.outcome) == ("cf-invalid-field-name", "1.0.0", "rejected")
    assert "VALIDATION ERROR: Invalid field name" in result.message
    assert not Process.objects.filter(slug="cf-invalid-field-name").exists()


def test_stored_normalisation(admin, files):
    register_processes([files("flow.yml", TEST_MIN + ANNOTATE)], user=admin)
    test_min = Process.objects.get(slug="test-min", version="1.0.1")
    assert test_min.type == "data:test:min:"
    assert test_min.run == {"program": "echo 1.0.1", "language": "bash"}
    assert (test_min.persistence, test_min.scheduling_class, test_min.category) == ("RAW", "BA", "Other:")
    annotate = Process.objects.get(slug="test-annotate")
    assert annotate.type == "data:test:annotate:"
    assert (annotate.entity_type, annotate.entity_descriptor_schema) == ("sample", "sample")
    assert annotate.entity_input is None and annotate.entity_always_create is False
    assert (annotate.persistence, annotate.scheduling_class, annotate.category) == ("CAC", "IN", "Test:")
    assert annotate.input_schema[0]["group"][0]["type"] == "basic:integer:"
    assert annotate.requirements == {"expression-engine": "jinja"}


def test_workflow_gets_steps_output(admin):
    workflow = {
        "slug": "wf",
        "name": "WF",
        "version": "1.0.0",
        "type": "data:workflow:",
        "run": {"language": "workflow", "program": [{"id": "s", "run": "test-min"}]},
    }
    (result,) = register_processes([], user=admin, definitions=[(Path("wf.yml"), workflow)])
    assert result.outcome == "inserted"
    assert Process.objects.get(slug="wf").output_schema == [{"name": "steps", "label": "Steps", "type": "list:data:"}]


def test_retire(admin, files):
    first, second = files("first/tests.yml", FIRST), files("second/tests.yml", SECOND)
    test_min = files("flow.yml", TEST_MIN)
    assert outcomes(register_processes([first], user=admin)) == {"test-proc@1.0.0": "inserted"}
    register_processes([first, second, test_min], user=admin)
    assert versions("test-proc", active=True) == ["1.0.0", "2.0.0"]
    process = Process.objects.get(slug="test-min", version="1.0.1")
    Data.objects.create(process=process, contributor=admin, name="Test min")

    register_processes([second], user=admin)  # without retire nothing changes
    assert versions("test-proc", active=True) == ["1.0.0", "2.0.0"]
    assert versions("test-min", active=True) == ["1.0.0", "1.0.1"]

    register_processes([first, second], user=admin, retire=True)
    assert versions("test-proc") == ["2.0.0"] and versions("test-proc", active=True) == ["2.0.0"]
    assert versions("test-min") == ["1.0.1"] and versions("test-min", active=True) == []


def test_retire_keeps_non_latest_with_data(admin, files):
    register_processes([files("a.yml", FIRST), files("b.yml", SECOND)], user=admin)
    old = Process.objects.get(slug="test-proc", version="1.0.0")
    Data.objects.create(process=old, contributor=admin, name="Old")
    messages = retire_processes({"test-proc"})
    assert messages == []
    assert versions("test-proc", active=True) == ["1.0.0", "2.0.0"]


def test_retire_skipped_when_a_file_is_unreadable(admin, files):
    register_processes([files("flow.yml", TEST_MIN)], user=admin)
    results = register_processes([files("broken.yml", "- slug: [x\n")], user=admin, retire=True)
    assert [o.outcome for o in results] == ["rejected"]
    assert "invalid YAML" in results[0].errors[0]
    assert versions("test-min") == ["1.0.0", "1.0.1"]


def test_reactivate_after_retire(admin, files):
    test_min, first = files("flow.yml", TEST_MIN), files("first.yml", FIRST)
    register_processes([test_min, first], user=admin)
    Data.objects.create(process=Process.objects.get(slug="test-min", version="1.0.1"), contributor=admin, name="d1")
    register_processes([first], user=admin, retire=True)
    assert versions("test-min") == ["1.0.1"] and versions("test-min", active=True) == []

    again = register_processes([test_min], user=admin)
    assert outcomes(again) == {
        "test-min@1.0.0": "skipped-newer",
        "test-min@1.0.1": "reactivated",
        "test-min@0.0.9": "skipped-newer",
    }
    assert "Processor test-min: setting is_active to True" in again[1].message.splitlines()
    # Like Resolwe, the row is only written when the registration is forced.
    assert versions("test-min", active=True) == []

    forced = register_processes([test_min], user=admin, force=True)
    assert outcomes(forced)["test-min@1.0.1"] == "updated"
    assert versions("test-min", active=True) == ["1.0.1"]
    # 1.0.0 was deleted by retire; it is older than 1.0.1, so it stays out.
    assert versions("test-min") == ["1.0.1"]


def test_definitions_argument_and_file_order(admin, files):
    extra = {
        "slug": "test-min",
        "name": "Minimalistic Process",
        "version": "2.0.0",
        "type": "data:test:min:",
        "run": {"program": "x"},
    }
    results = register_processes([files("flow.yml", TEST_MIN)], user=admin, definitions=[(Path("extra.py"), extra)])
    assert [o.outcome for o in results] == ["inserted", "inserted", "skipped-newer", "inserted"]
    assert results[-1].file == "extra.py"


def test_directories_are_searched_and_descriptors_ignored(admin, files, tmp_path):
    files("procs/b.yaml", FIRST)
    files("procs/a/flow.yml", TEST_MIN)
    files("procs/descriptors/sample.yml", DESCRIPTORS)
    files("procs/notes.txt", "not yaml")
    found = find_process_files([tmp_path / "procs", tmp_path / "missing"])
    assert [p.relative_to(tmp_path).as_posix() for p in found] == [
        "procs/a/flow.yml",
        "procs/b.yaml",
        "procs/descriptors/sample.yml",
    ]
    results = register_processes([tmp_path / "procs"], user=admin)
    assert sorted({o.slug for o in results}) == ["test-min", "test-proc"]


def test_python_processes(admin, files):
    path = files("procs/python.py", PYTHON)
    results = register_processes([path], user=admin)
    assert [(o.slug, o.version, o.outcome) for o in results] == [
        ("py-broken", "1.0.0", "rejected"),
        ("py-first", "1.0.0", "inserted"),
        ("py-invalid", "1.0.0", "rejected"),
    ]
    broken, first, invalid = results
    assert broken.file == str(path)
    assert broken.message == f"Could not read Python process Broken (line {BROKEN_LINE}) in {path}"
    assert broken.errors == [
        "category: cannot read some_function(): only literals, lists, tuples, dicts, +, constants assigned at "
        "module level in this file and members of SchedulingClass, Persistence and UrlField can be used"
    ]
    assert first.message == "Inserted py-first" and first.file == str(path)
    assert (broken.python_class, first.python_class, invalid.python_class) == (
        f"Broken (line {BROKEN_LINE})",
        "First (line 8)",
        f"Invalid (line {BROKEN_LINE + 8})",
    )
    assert invalid.message.startswith("VALIDATION ERROR: Invalid")
    assert any("input.x" in e and "'label' is a required property" in e for e in invalid.errors), invalid.errors

    process = Process.objects.get(slug="py-first")
    assert (process.name, process.type, process.category, process.description) == (
        "First",
        "data:py:first:",
        "Python:",
        "First process.",
    )
    assert (process.persistence, process.scheduling_class, process.data_name) == ("CAC", "IN", "")
    assert (process.entity_type, process.entity_descriptor_schema, process.entity_input) == ("sample", "sample", "src")
    assert process.entity_always_create is False
    assert process.run == {"language": "python", "program": PYTHON}
    assert process.requirements == {
        "executor": {"docker": {"image": "public.ecr.aws/s4q6j6e8/resolwe/base:ubuntu-18.04"}}
    }
    src, options = process.input_schema
    assert (src["type"], src["label"], src["required"]) == ("data:py:", "Source", False)
    assert (options["type"], options["group"][0]["type"], options["group"][0]["default"]) == (
        "basic:group",
        "basic:integer:",
        2,
    )
    assert process.output_schema == [
        {"name": "n", "type": "basic:integer:", "required": True, "label": "N", "hidden": False, "disabled": False}
    ]
    assert process.contributor == admin


def test_python_versions_follow_the_yaml_rules(admin, files):
    first = files("v1/python.py", PYTHON)
    second = files("v2/python.py", PYTHON.replace('version = "1.0.0"', 'version = "1.1.0"'))
    assert outcomes(register_processes([first], user=admin))["py-first@1.0.0"] == "inserted"
    assert outcomes(register_processes([second], user=admin))["py-first@1.1.0"] == "inserted"
    again = {o.slug: o for o in register_processes([first, second], user=admin)}
    assert (again["py-first"].outcome, again["py-first"].message) == (
        "skipped-same",
        "Skip processor py-first: same version installed",
    )
    older = [o for o in register_processes([first], user=admin) if o.slug == "py-first"]
    assert [(o.outcome, o.message) for o in older] == [
        ("skipped-newer", "Skip processor py-first: newer version installed")
    ]
    forced = [o for o in register_processes([second], user=admin, force=True) if o.slug == "py-first"]
    assert [(o.outcome, o.message) for o in forced] == [("updated", "Updated py-first")]
    assert versions("py-first") == ["1.0.0", "1.1.0"]


def test_unparsable_python_file(admin, files):
    path = files("bad.py", "class (:\n")
    (result,) = register_processes([path, files("flow.yml", FIRST)], user=admin)[:1]
    assert (result.slug, result.outcome, result.file) == ("", "rejected", str(path))
    assert result.message == f"Could not read Python file {path}: invalid Python: line 1: invalid syntax"
    assert Process.objects.filter(slug="test-proc").exists()  # the other files are still registered


def test_python_and_yaml_in_one_tree(admin, files, tmp_path):
    files("procs/b/python.py", PYTHON)
    files("procs/a.yml", FIRST)
    files("procs/c/__init__.py", "")
    files("procs/descriptors/sample.yml", DESCRIPTORS)
    found = find_process_files([tmp_path / "procs"])
    assert [p.relative_to(tmp_path).as_posix() for p in found] == [
        "procs/a.yml",
        "procs/b/python.py",
        "procs/c/__init__.py",
        "procs/descriptors/sample.yml",
    ]
    results = register_processes([tmp_path / "procs"], user=admin)
    assert [o.slug for o in results if o.outcome == "inserted"] == ["test-proc", "py-first"]
    descriptors = register_descriptor_schemas([tmp_path / "procs"], user=admin)  # Python files hold no schemas
    assert [(o.slug, o.outcome) for o in descriptors] == [("sample", "inserted")]


def test_retire_keeps_an_unreadable_python_class(admin, files):
    good = files("good/python.py", PYTHON.replace("category = some_function()", 'category = "Fixed"'))
    bad = files("bad/python.py", PYTHON)
    register_processes([good, files("flow.yml", TEST_MIN)], user=admin)
    assert versions("py-broken") == ["1.0.0"]
    register_processes([bad], user=admin, retire=True)
    # py-broken could not be read, but its slug is known: it stays; test-min is retired.
    assert versions("py-broken") == ["1.0.0"] and versions("py-first") == ["1.0.0"]
    assert versions("test-min") == []
    register_processes([good, files("broken.py", "x = (")], user=admin, retire=True)
    assert versions("py-broken") == ["1.0.0"]  # retire skipped: a file could not be read


def test_descriptor_schemas(admin, files):
    path = files("descriptors.yml", DESCRIPTORS)
    assert outcomes(register_descriptor_schemas([path], user=admin)) == {"sample@0.0.0": "inserted"}
    schema = DescriptorSchema.objects.get(slug="sample")
    assert schema.schema[0]["group"][0]["type"] == "basic:string:"
    assert schema.contributor == admin and schema.description == "Test descriptor schema"
    (again,) = register_descriptor_schemas([path], user=admin)
    assert (again.outcome, again.message) == ("skipped-same", "Skip descriptor schema sample: same version installed")
    (forced,) = register_descriptor_schemas([path], user=admin, force=True)
    assert forced.outcome == "updated"
    newer = DESCRIPTORS.replace("name: Sample", "name: Sample\n  version: 1.0.0")
    assert outcomes(register_descriptor_schemas([files("d2.yml", newer)], user=admin)) == {"sample@1.0.0": "inserted"}
    (older,) = register_descriptor_schemas([path], user=admin)
    assert older.outcome == "skipped-newer"
    (bad,) = register_descriptor_schemas([], user=admin, definitions=[(path, {"slug": "x", "name": "X", "schema": []})])
    assert bad.outcome == "rejected" and "'description' is a required property" in bad.message


# --- management command -------------------------------------------------------------------------


def run_register(*args):
    out, err = StringIO(), StringIO()
    call_command("register", *args, stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


def test_command_creates_admin_and_prints_resolwe_messages(files, tmp_path):
    path = files("flow.yml", TEST_MIN)
    out, err = run_register("--file", str(path), "--descriptor-path", str(tmp_path / "none"))
    admin = get_user_model().objects.get(username="admin")
    assert admin.is_superuser
    assert Process.objects.filter(contributor=admin).count() == 2
    assert "Processor Updates:\n  Inserted test-min\n  Inserted test-min" in out
    assert "Skip processor test-min: newer version installed" in err
    out, err = run_register("--file", str(path), "--descriptor-path", str(tmp_path / "none"))
    assert "Skip processor test-min: same version installed" in out


def test_command_reports_invalid_files_and_succeeds(admin, files, tmp_path):
    wrong = files("wrong.yml", WRONG_DEFAULT)
    out, err = run_register("--file", str(wrong), "--descriptor-path", str(tmp_path / "none"))
    assert "VALIDATION ERROR: Test Process Wrong Type" in err
    assert f"file:       {wrong}" in err and "slug:       test-wrong-type" in err
    assert "Default value of field 'output.result' is not valid" in err


def test_command_json_and_paths(admin, files, tmp_path):
    files("procs/flow.yml", TEST_MIN)
    files("descs/sample.yml", DESCRIPTORS)
    out, _ = run_register("--path", str(tmp_path / "procs"), "--descriptor-path", str(tmp_path / "descs"), "--json")
    result = json.loads(out)
    assert [(o["slug"], o["version"], o["outcome"]) for o in result] == [
        ("sample", "0.0.0", "inserted"),
        ("test-min", "1.0.0", "inserted"),
        ("test-min", "1.0.1", "inserted"),
        ("test-min", "0.0.9", "skipped-newer"),
    ]
    assert set(result[0]) == {"slug", "version", "outcome", "message", "file", "errors", "python_class"}
    assert result[1]["python_class"] is None


def test_command_force_and_retire(admin, files, tmp_path):
    first, test_min = files("first.yml", FIRST), files("flow.yml", TEST_MIN)
    none = str(tmp_path / "none")
    run_register("--file", str(first), "--file", str(test_min), "--descriptor-path", none)
    out, _ = run_register("--file", str(first), "--force", "--retire", "--descriptor-path", none, "--json")
    assert {o["slug"]: o["outcome"] for o in json.loads(out)} == {"test-proc": "updated"}
    assert not Process.objects.filter(slug="test-min").exists()


def test_command_reports_python_classes_and_filters_slugs(admin, files, tmp_path):
    path = files("python.py", PYTHON)
    none = str(tmp_path / "none")
    out, err = run_register("--file", str(path), "--descriptor-path", none)
    assert "Processor Updates:\n  Inserted py-first" in out
    assert f"    ERROR: Could not read Python process Broken (line {BROKEN_LINE}) in {path}" in err
    assert (
        f"        file:       {path}\n        class:      Broken (line {BROKEN_LINE})\n"
        "        slug:       py-broken\n        reason:     category: cannot read"
    ) in err
    assert "    VALIDATION ERROR: Invalid" in err and f"class:      Invalid (line {BROKEN_LINE + 8})" in err
    Process.objects.all().delete()
    out, _ = run_register(
        "--file",
        str(path),
        "--file",
        str(files("flow.yml", TEST_MIN)),
        "--slug",
        "py-first",
        "--slug",
        "test-min",
        "--descriptor-path",
        none,
        "--json",
    )
    assert [(o["slug"], o["version"], o["outcome"]) for o in json.loads(out)] == [  # in the order given
        ("py-first", "1.0.0", "inserted"),
        ("test-min", "1.0.0", "inserted"),
        ("test-min", "1.0.1", "inserted"),
        ("test-min", "0.0.9", "skipped-newer"),
    ]
    out, _ = run_register(
        "--file", str(files("bad.py", "(")), "--slug", "py-first", "--descriptor-path", none, "--json"
    )
    assert [o["outcome"] for o in json.loads(out)] == ["rejected"]  # an unreadable file is always reported


def test_command_defaults_to_settings_dirs(admin, files, tmp_path, settings):
    files("procs/flow.yml", FIRST)
    settings.FLOW_PROCESSES_DIRS = [tmp_path / "procs", tmp_path / "missing"]
    settings.FLOW_DESCRIPTORS_DIRS = [tmp_path / "missing-descriptors"]
    out, err = run_register()
    assert "Inserted test-proc" in out
    assert Process.objects.filter(slug="test-proc").exists()


CONFORMANCE = Path("/work/shared/conformance")


@pytest.mark.skipif(not CONFORMANCE.is_dir(), reason="conformance corpus not available")
def test_conformance_corpus_registers(admin):
    descriptor_results = register_descriptor_schemas([CONFORMANCE / "descriptors"], user=admin)
    assert {o.outcome for o in descriptor_results} == {"inserted"}
    process_files = sorted((CONFORMANCE / "processes").glob("*.yml"))
    python_files = sorted((CONFORMANCE / "processes" / "python").glob("*.py"))
    results = register_processes(process_files + python_files, user=admin)
    assert "rejected" not in {o.outcome for o in results}, [o.message for o in results if o.outcome == "rejected"]
    assert outcomes(results)["test-min@0.0.9"] == "skipped-newer"
    python = [o for o in results if o.file.endswith(".py")]
    assert len(python) == 29 and {o.outcome for o in python} == {"inserted"}
    process = Process.objects.get(slug="test-python-process")
    assert (process.version, process.type, process.category) == ("0.1.2", "data:python:", "analyses:")
    assert (process.persistence, process.scheduling_class, process.entity_type) == ("CAC", "BA", "sample")
    assert process.run["program"] == (CONFORMANCE / "processes" / "python" / "python_test.py").read_text()
    registration = register_processes(sorted((CONFORMANCE / "processes" / "registration").glob("*.yml")), user=admin)
    assert outcomes(registration) == {
        "test-proc@1.0.0": "inserted",
        "cf-invalid-field-name@1.0.0": "rejected",
        "test-proc@2.0.0": "inserted",
        "test-wrong-type@1.0.0": "rejected",
    }
