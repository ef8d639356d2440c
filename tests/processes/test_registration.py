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
    assert set(result[0]) == {"slug", "version", "outcome", "message", "file", "errors"}


def test_command_force_and_retire(admin, files, tmp_path):
    first, test_min = files("first.yml", FIRST), files("flow.yml", TEST_MIN)
    none = str(tmp_path / "none")
    run_register("--file", str(first), "--file", str(test_min), "--descriptor-path", none)
    out, _ = run_register("--file", str(first), "--force", "--retire", "--descriptor-path", none, "--json")
    assert {o["slug"]: o["outcome"] for o in json.loads(out)} == {"test-proc": "updated"}
    assert not Process.objects.filter(slug="test-min").exists()


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
    results = register_processes(process_files, user=admin)
    assert "rejected" not in {o.outcome for o in results}, [o.message for o in results if o.outcome == "rejected"]
    assert outcomes(results)["test-min@0.0.9"] == "skipped-newer"
    registration = register_processes(sorted((CONFORMANCE / "processes" / "registration").glob("*.yml")), user=admin)
    assert outcomes(registration) == {
        "test-proc@1.0.0": "inserted",
        "cf-invalid-field-name@1.0.0": "rejected",
        "test-proc@2.0.0": "inserted",
        "test-wrong-type@1.0.0": "rejected",
    }
