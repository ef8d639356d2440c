"""Loading, normalizing and validating process and descriptor-schema definitions (no database)."""

import copy
from pathlib import Path

import pytest

from resolwe_prefect.processes.definitions import (
    DefinitionError,
    load_definitions,
    normalize_descriptor_schema,
    normalize_process,
    validate_descriptor_schema,
    validate_process,
)

CONFORMANCE = Path("/work/shared/conformance")


def process(**extra):
    base = {
        "slug": "test-proc",
        "name": "Test Processor",
        "version": "1.0.0",
        "type": "data:test:",
        "run": {"program": "true"},
    }
    base.update(extra)
    return base


def one_error(definition):
    errors = validate_process(definition)
    assert len(errors) == 1, errors
    return errors[0]


# --- loading ------------------------------------------------------------------------------------


def test_load_definitions(tmp_path):
    path = tmp_path / "p.yml"
    path.write_text("- slug: a\n  version: 1.0.0\n  input:\n    - name: d\n      default: 2000-01-01\n")
    (entry,) = load_definitions(path)
    assert entry["slug"] == "a" and entry["version"] == "1.0.0"
    assert entry["input"][0]["default"] == "2000-01-01"  # unquoted YAML dates become strings


def test_load_empty_file(tmp_path):
    path = tmp_path / "empty.yml"
    path.write_text("")
    assert load_definitions(path) == []


@pytest.mark.parametrize(
    ("content", "reason"),
    [("slug: a\n", "YAML list"), ("- a\n", "entry 0 is not a mapping"), ("- slug: [a\n", "invalid YAML")],
)
def test_load_errors(tmp_path, content, reason):
    path = tmp_path / "bad.yml"
    path.write_text(content)
    with pytest.raises(DefinitionError) as info:
        load_definitions(path)
    assert info.value.file == str(path) and reason in info.value.reason
    assert str(info.value).startswith(f"{path}: ")


def test_load_missing_file(tmp_path):
    with pytest.raises(DefinitionError, match="cannot read file"):
        load_definitions(tmp_path / "missing.yml")


def test_definition_error_str():
    assert str(DefinitionError("bad", file="f.yml", slug="s")) == "f.yml: s: bad"
    assert str(DefinitionError("bad", slug="s")) == "s: bad"


# --- normalization ------------------------------------------------------------------------------


def test_normalize_process():
    raw = process(
        type="data:test:annotate",
        category="Other",
        flow_collection="sample",
        version=1.0,
        persistence="CACHED",
        scheduling_class="interactive",
        input=[
            {"name": "a", "label": "A", "type": "basic:string"},
            {"name": "g", "label": "G", "group": [{"name": "b", "label": "B", "type": "list:data:reads"}]},
        ],
    )
    original = copy.deepcopy(raw)
    result = normalize_process(raw)
    assert raw == original  # not mutated
    assert result["type"] == "data:test:annotate:"
    assert result["category"] == "Other:"
    assert result["entity"] == {"type": "sample"} and "flow_collection" not in result
    assert result["version"] == "1.0.0"
    assert result["persistence"] == "CAC" and result["scheduling_class"] == "IN"
    assert result["run"] == {"program": "true", "language": "bash"}
    assert result["input"][0]["type"] == "basic:string:"
    assert result["input"][1]["group"][0]["type"] == "list:data:reads:"
    assert "type" not in result["input"][1]
    assert normalize_process(result) == result  # idempotent
    assert validate_process(result) == []


@pytest.mark.parametrize(("raw", "code"), [("RAW", "RAW"), ("TEMP", "TMP")])
def test_persistence_codes(raw, code):
    assert normalize_process(process(persistence=raw))["persistence"] == code


def test_normalize_keeps_explicit_language_and_bad_values():
    result = normalize_process(process(run={"language": "workflow", "program": []}, version="abc"))
    assert result["run"]["language"] == "workflow"
    assert result["version"] == "abc"


def test_workflow_gets_steps_output():
    result = normalize_process(process(run={"language": "workflow", "program": []}))
    assert result["output"] == [{"name": "steps", "label": "Steps", "type": "list:data:"}]
    assert normalize_process(result)["output"] == result["output"]


def test_normalize_descriptor_schema():
    result = normalize_descriptor_schema({"slug": "s", "name": "S", "description": "d"})
    assert result["schema"] == []
    result = normalize_descriptor_schema(
        {
            "slug": "s",
            "name": "S",
            "version": "1",
            "description": "",
            "schema": [{"name": "g", "label": "G", "group": [{"name": "x", "label": "X", "type": "basic:string"}]}],
        }
    )
    assert result["version"] == "1.0.0"
    assert result["schema"][0]["group"][0]["type"] == "basic:string:"


# --- process validation -------------------------------------------------------------------------


def test_minimal_process_is_valid():
    assert validate_process(process()) == []


def test_invalid_field_name():
    raw = process(input=[{"name": "1value", "label": "Value", "type": "basic:integer"}])
    message = one_error(raw)
    assert message.startswith("input[0].name: ") and "does not match '^[a-zA-Z][a-zA-Z0-9_]*$'" in message


def test_invalid_default_type():
    raw = process(output=[{"name": "result", "label": "Result", "type": "basic:integer", "default": "42"}])
    message = one_error(raw)
    assert message.startswith("output.result.default: Default value of field 'output.result' is not valid")


@pytest.mark.parametrize(
    ("field", "fragment"),
    [
        ({"name": "v", "label": "V", "type": "basic:integer", "default": 9, "range": [0, 5]}, "out of range"),
        (
            {
                "name": "v",
                "label": "V",
                "type": "basic:string",
                "default": "c",
                "choices": [{"value": "a", "label": "A"}],
            },
            "predefined choices",
        ),
        ({"name": "v", "label": "V", "type": "basic:date", "default": "01.01.2000"}, "is not valid under any"),
        ({"name": "v", "label": "V", "type": "list:basic:integer", "default": [1, "2"]}, "is not valid under any"),
        ({"name": "v", "label": "V", "type": "basic:boolean", "default": "yes"}, "is not valid under any"),
    ],
)
def test_invalid_defaults(field, fragment):
    message = one_error(process(input=[field]))
    assert message.startswith("input.v.default: ") and fragment in message


def test_valid_defaults():
    fields = [
        {"name": "a", "label": "A", "type": "basic:integer", "default": 3, "range": [0, 5]},
        {"name": "b", "label": "B", "type": "basic:string", "default": "a", "choices": [{"value": "a", "label": "A"}]},
        {"name": "c", "label": "C", "type": "basic:boolean", "default": False},
        {"name": "d", "label": "D", "type": "list:basic:string", "default": []},
        {"name": "g", "label": "G", "group": [{"name": "e", "label": "E", "type": "basic:decimal", "default": 0.5}]},
    ]
    assert validate_process(process(input=fields)) == []


def test_invalid_default_inside_group_names_the_path():
    group = {
        "name": "options",
        "label": "O",
        "group": [{"name": "threads", "label": "T", "type": "basic:integer", "default": "x"}],
    }
    assert one_error(process(input=[group])).startswith("input.options.threads.default: ")


def test_unknown_field_type():
    assert one_error(process(input=[{"name": "a", "label": "A", "type": "basic:strin"}])) == (
        "input.a.type: unknown field type 'basic:strin:'"
    )


def test_unknown_field_key_in_group():
    group = {"name": "g", "label": "G", "group": [{"name": "t", "label": "T", "type": "basic:integer", "foo": 1}]}
    assert (
        one_error(process(input=[group])) == "input.g.t: Additional properties are not allowed ('foo' was unexpected)"
    )


def test_group_cannot_be_required():
    group = {"name": "g", "label": "G", "required": False, "group": []}
    assert "'required' was unexpected" in one_error(process(input=[group]))


def test_field_without_label():
    assert "'label' is a required property" in one_error(process(input=[{"name": "a", "type": "basic:string"}]))


def test_field_without_type_or_group():
    assert "either 'type' or 'group'" in one_error(process(input=[{"name": "a", "label": "A"}]))


@pytest.mark.parametrize("key", ["slug", "name", "version", "type", "run"])
def test_required_process_keys(key):
    raw = process()
    del raw[key]
    assert f"'{key}' is a required property" in one_error(raw)


@pytest.mark.parametrize(
    ("extra", "fragment"),
    [
        ({"type": "basic:string"}, "type: "),
        ({"version": "1.0.0.1"}, "version: "),
        ({"persistence": "cached"}, "persistence: "),
        ({"scheduling_class": "fast"}, "scheduling_class: "),
        ({"unknown_key": 1}, "'unknown_key' was unexpected"),
        ({"run": {"language": "bash", "program": "true", "extra": 1}}, "'extra' was unexpected"),
        ({"requirements": {"resources": {"cores": "many"}}}, "requirements.resources.cores: "),
        ({"entity": {"input": "x"}}, "'type' is a required property"),
        ({"run": {"language": "cobol", "program": "x"}}, "execution engine 'cobol' not supported"),
    ],
)
def test_invalid_process_parts(extra, fragment):
    assert fragment in one_error(process(**extra))


def test_flow_collection_and_entity_together():
    assert "only one of 'flow_collection' and 'entity'" in one_error(process(flow_collection="a", entity={"type": "b"}))


def test_duplicate_field_names():
    fields = [{"name": "a", "label": "A", "type": "basic:string"}, {"name": "a", "label": "B", "type": "basic:integer"}]
    assert one_error(process(input=fields)) == "input.a: duplicate field name 'a'"


def test_invalid_validate_regex():
    field = {"name": "f", "label": "F", "type": "basic:file", "validate_regex": "(", "default": {"file": "x"}}
    assert "invalid regular expression" in one_error(process(input=[field]))


def test_process_features_resolwe_allows():
    raw = process(
        data_name="{{ input.x | name }}",
        category="analyses",
        description="d",
        entity={"type": "sample", "descriptor_schema": "sample", "input": "x", "always_create": True},
        requirements={
            "expression-engine": "jinja",
            "executor": {"docker": {"image": "resolwe/base"}},
            "resources": {"cores": 2, "memory": 1024, "network": True, "secrets": True, "storage": 10},
            "relations": [{"type": "series"}],
        },
        input=[
            {"name": "x", "label": "X", "type": "data:test", "relation": {"type": "group", "npartitions": "none"}},
            {"name": "f", "label": "F", "type": "basic:decimal", "range": [0.0, 1.0], "hidden": "x", "disabled": False},
            {"name": "s", "label": "S", "type": "list:data:test", "required": False},
            {
                "name": "c",
                "label": "C",
                "type": "basic:string",
                "allow_custom_choice": True,
                "placeholder": "p",
                "choices": [{"label": "A", "value": "a"}],
            },
            {"name": "g", "label": "G", "collapsed": True, "group": []},
            {"name": "t", "label": "T", "type": "basic:secret"},
            {"name": "h", "label": "H", "type": "basic:file:html"},
            {"name": "any", "label": "Any", "type": "data:"},
        ],
    )
    assert validate_process(raw) == []


def test_not_a_mapping():
    assert validate_process(["x"]) == ["the definition must be a mapping"]


@pytest.mark.skipif(not CONFORMANCE.is_dir(), reason="conformance corpus not available")
def test_conformance_definitions_validate_except_rejected_ones():
    rejected = set()
    for path in sorted((CONFORMANCE / "processes").rglob("*.yml")):
        for definition in load_definitions(path):
            if validate_process(definition):
                rejected.add(definition["slug"])
    assert rejected == {"cf-invalid-field-name", "test-wrong-type"}
    for path in sorted((CONFORMANCE / "descriptors").glob("*.yml")):
        for definition in load_definitions(path):
            assert validate_descriptor_schema(definition) == [], definition["slug"]


# --- descriptor schemas -------------------------------------------------------------------------


def descriptor(**extra):
    base = {"slug": "sample", "name": "Sample", "description": "Test descriptor schema", "schema": []}
    base.update(extra)
    return base


def test_descriptor_schema_valid():
    schema = [
        {
            "name": "general",
            "label": "General",
            "group": [
                {
                    "name": "species",
                    "label": "Species",
                    "type": "basic:string",
                    "choices": [{"label": "V", "value": "Valid"}],
                }
            ],
        }
    ]
    assert validate_descriptor_schema(descriptor(schema=schema, version="1.0.0")) == []


def test_descriptor_schema_errors():
    assert any(
        "'description' is a required property" in e for e in validate_descriptor_schema({"slug": "s", "name": "S"})
    )
    assert "'run' was unexpected" in validate_descriptor_schema(descriptor(run={}))[0]
    bad_default = [{"name": "x", "label": "X", "type": "basic:integer", "default": "1"}]
    (error,) = validate_descriptor_schema(descriptor(schema=bad_default))
    assert error.startswith("schema.x.default: Default value of field 'schema.x' is not valid")
