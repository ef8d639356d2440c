"""The launch form: a process's input schema as a Prefect deployment parameter schema."""

from __future__ import annotations

import jsonschema
import pytest

from resolwe_prefect.execution.prefect_api.parameters import launch_parameter_schema, value_schema

INPUTS = [
    {"name": "reads", "label": "Reads", "type": "data:reads:fastq:"},
    {"name": "mode", "label": "Mode", "type": "basic:string", "default": "fast",
     "choices": [{"label": "Fast", "value": "fast"}, {"label": "Exact", "value": "exact"}]},
    {"name": "tags", "label": "Tags", "type": "list:basic:string", "required": False,
     "choices": [{"label": "A", "value": "a"}], "allow_custom_choice": True},
    {"name": "advanced", "label": "Advanced", "group": [
        {"name": "threads", "label": "Threads", "type": "basic:integer", "default": 1},
        {"name": "ratio", "label": "Ratio", "type": "basic:decimal"},
    ]},
    {"name": "sheet", "label": "Sheet", "type": "basic:file", "required": False},
]  # fmt: skip


@pytest.fixture
def schema() -> dict:
    return launch_parameter_schema("Align", INPUTS)


def test_fields_keep_their_order_labels_and_types(schema):
    fields = schema["properties"]["inputs"]["properties"]
    assert [fields[name]["position"] for name in ("reads", "mode", "tags", "advanced", "sheet")] == [0, 1, 2, 3, 4]
    assert fields["reads"]["type"] == "integer" and "data:reads:fastq:" in fields["reads"]["description"]
    assert fields["mode"] == {
        "type": "string",
        "enum": ["fast", "exact"],
        "default": "fast",
        "title": "Mode",
        "position": 1,
    }
    assert fields["tags"]["type"] == "array" and fields["tags"]["examples"] == ["a"]  # custom values allowed
    assert fields["advanced"]["properties"]["threads"]["default"] == 1
    assert fields["advanced"]["required"] == ["ratio"]


def test_required_follows_resolwe(schema):
    """Required unless ``required: false`` or a default; a group when one of its fields is."""
    assert schema["properties"]["inputs"]["required"] == ["reads", "advanced"]
    assert schema["required"] == ["inputs"]


def test_schema_accepts_what_resolwe_accepts_and_refuses_the_rest(schema):
    good = {"inputs": {"reads": 3, "mode": "exact", "advanced": {"ratio": 0.5}, "sheet": {"file": "s.csv"}}}
    jsonschema.validate(good, schema)
    for bad in (
        {"inputs": {"reads": 3, "mode": "slow", "advanced": {"ratio": 0.5}}},  # not a choice
        {"inputs": {"reads": "three", "advanced": {"ratio": 0.5}}},  # wrong type
        {"inputs": {"reads": 3, "advanced": {}}},  # required field of a group
        {"inputs": {"reads": 3, "advanced": {"ratio": 1}, "typo": 1}},  # unknown field
    ):
        with pytest.raises(jsonschema.ValidationError):
            jsonschema.validate(bad, schema)


def test_a_process_without_required_inputs_needs_no_parameters():
    schema = launch_parameter_schema("Nothing", [{"name": "n", "type": "basic:integer", "default": 1}])
    assert schema["required"] == [] and schema["properties"]["inputs"]["default"] == {}
    jsonschema.validate({}, schema)


@pytest.mark.parametrize(
    "type_, expected",
    [
        ("basic:boolean:", "boolean"),
        ("basic:date", "string"),
        ("basic:url:download:", "object"),
        ("list:data:reads:", "array"),
        ("basic:dir:", "object"),
    ],
)
def test_value_types(type_, expected):
    assert value_schema(type_)["type"] == expected
