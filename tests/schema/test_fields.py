"""Value validation and defaults: the cases of Resolwe's test_validation.py, without a database."""

import copy

import pytest

from resolwe_prefect.schema.errors import FieldError, format_errors
from resolwe_prefect.schema.fields import fill_defaults, validate_values

UUID = "0c8a6f3e-5b1d-4e2a-9f3c-1d2e3f4a5b6c"


def field(name, type_, **extra):
    return {"name": name, "label": name, "type": type_, **extra}


def messages(schema, values, **kwargs):
    return [error.message for error in validate_values(schema, values, **kwargs)]


def is_type_error(errors):
    return len(errors) == 1 and "is not valid under any of the given schemas" in errors[0]


# --- required / optional ------------------------------------------------------------------------

REQUIRED_SCHEMA = [
    field("value", "basic:integer:"),
    field("description", "basic:string:"),
    field("comment", "basic:string:", required=False),
]


def test_required_fields_missing():
    assert messages(REQUIRED_SCHEMA, {"description": "test"}) == ['Required fields "value" not given.']
    assert messages(REQUIRED_SCHEMA, {"value": 42}) == ['Required fields "description" not given.']


def test_required_errors_carry_path_and_code():
    (error,) = validate_values(REQUIRED_SCHEMA, {"value": 42})
    assert (error.path, error.code) == ("description", "required")
    assert str(error) == 'description: Required fields "description" not given.'


def test_optional_may_be_missing_or_null():
    assert messages(REQUIRED_SCHEMA, {"value": 42, "description": "x"}) == []
    assert messages(REQUIRED_SCHEMA, {"value": 42, "description": "x", "comment": None}) == []
    assert messages(REQUIRED_SCHEMA, {"value": 42, "description": "x", "comment": "Lorem"}) == []


def test_required_null_is_a_type_error():
    assert is_type_error(messages(REQUIRED_SCHEMA, {"value": None, "description": "x"}))


def test_check_required_off():
    assert messages(REQUIRED_SCHEMA, {}, check_required=False) == []


def test_format_errors_merges_required_like_resolwe():
    errors = validate_values(REQUIRED_SCHEMA, {})
    assert format_errors(errors) == 'Required fields "value", "description" not given.'


# --- choices and range ----------------------------------------------------------------------------

CHOICES = [{"value": 7, "label": "7"}, {"value": 13, "label": "13"}]


def test_choices():
    schema = [field("value", "basic:integer:", choices=CHOICES)]
    assert messages(schema, {"value": 7}) == []
    assert messages(schema, {"value": 8}) == [
        "Value of field 'value' must match one of predefined choices. Current value: 8"
    ]


def test_custom_choice_allowed():
    schema = [field("value", "basic:integer:", choices=CHOICES, allow_custom_choice=True)]
    assert messages(schema, {"value": 8}) == []


def test_list_choices_accept_each_element_or_whole_value():
    schema = [
        field("value", "list:basic:string:", choices=[{"value": "a", "label": "A"}, {"value": "b", "label": "B"}])
    ]
    assert messages(schema, {"value": ["a", "b"]}) == []
    assert len(messages(schema, {"value": ["a", "c"]})) == 1


def test_integer_range_is_inclusive():
    schema = [field("value", "basic:integer:", range=[0, 5])]
    for value in (0, 3, 5):
        assert messages(schema, {"value": value}) == []
    assert messages(schema, {"value": 7}) == ["Value of field 'value' is out of range. It should be between 0 and 5."]


def test_list_range_marks_the_element():
    schema = [field("values", "list:basic:decimal:", range=[0.0, 1.0])]
    (error,) = validate_values(schema, {"values": [0.5, 1.5]})
    assert error.path == "values[1]"
    assert error.message == "Value of field 'values' is out of range. It should be between 0.0 and 1.0."


# --- basic types ------------------------------------------------------------------------------------


def test_string_and_text():
    schema = [field("string", "basic:string:"), field("text", "basic:text:")]
    assert messages(schema, {"string": "Test string", "text": "Test text"}) == []
    errors = validate_values(schema, {"string": 42, "text": 42})
    assert [e.path for e in errors] == ["string", "text"]
    assert all(e.code == "type" and "is not valid under any of the given schemas" in e.message for e in errors)


@pytest.mark.parametrize("bad", [("true", "false"), (1, 0), ("foo", "bar")])
def test_boolean(bad):
    schema = [field("true", "basic:boolean:"), field("false", "basic:boolean:")]
    assert messages(schema, {"true": True, "false": False}) == []
    assert len(messages(schema, {"true": bad[0], "false": bad[1]})) == 2


@pytest.mark.parametrize(("value", "ok"), [(42, True), (42.0, False), ("forty-two", False), (True, False)])
def test_integer(value, ok):
    errors = messages([field("value", "basic:integer:")], {"value": value})
    assert (errors == []) is ok
    if not ok:
        assert is_type_error(errors)


def test_integer_type_error_has_detail():
    (error,) = validate_values([field("value", "basic:integer:")], {"value": 42.0})
    assert error.message == "{'type': 'basic:integer:', 'value': 42.0} is not valid under any of the given schemas"
    assert error.detail == "42.0 is not of type 'integer'"


@pytest.mark.parametrize(("value", "ok"), [(42, True), (42.0, True), ("forty-two", False)])
def test_decimal(value, ok):
    assert (messages([field("value", "basic:decimal:")], {"value": value}) == []) is ok


@pytest.mark.parametrize(
    ("value", "ok"),
    [
        ("2000-12-31", True),
        ("2000/01/01", False),
        ("31 04 2000", False),
        ("21.06.2000", False),
        ("2000-1-1", False),
        ("2000 apr 8", False),
    ],
)
def test_date(value, ok):
    assert (messages([field("date", "basic:date:")], {"date": value}) == []) is ok


@pytest.mark.parametrize(
    ("value", "ok"),
    [
        ("2000-06-21 00:00", True),
        ("2000-06-21 2:3", True),
        ("2013-12-31 23:59:59", True),
        ("2000 06 21 24:00", False),
        ("2000/06/21 2:03", False),
        ("2000-06-21", False),
        ("2000-06-21 12pm", False),
    ],
)
def test_datetime(value, ok):
    assert (messages([field("date", "basic:datetime:")], {"date": value}) == []) is ok


@pytest.mark.parametrize("type_", ["basic:url:download:", "basic:url:view:", "basic:url:link:"])
def test_url(type_):
    schema = [field("url", type_)]
    assert messages(schema, {"url": {"url": "http://example.com", "name": "Example"}}) == []
    assert is_type_error(messages(schema, {"url": "http://example.com"}))
    assert is_type_error(messages(schema, {"url": {"name": "no url"}}))


def test_secret():
    schema = [field("token", "basic:secret:")]
    assert messages(schema, {"token": {"handle": UUID}}) == []
    assert is_type_error(messages(schema, {"token": {"handle": "not-a-uuid"}}))
    assert is_type_error(messages(schema, {"token": UUID}))


def test_dir():
    schema = [field("dir", "basic:dir:")]
    assert messages(schema, {"dir": {"dir": "out", "size": 10, "refs": ["a"]}}) == []
    assert is_type_error(messages(schema, {"dir": {"file": "out"}}))


# --- files ------------------------------------------------------------------------------------------


def test_file_regex_matches_the_file_name():
    schema = [field("result", "basic:file:", validate_regex=r"^.*\.txt$")]
    assert messages(schema, {"result": {"file_temp": "12345", "file": "result_file.txt"}}) == []
    assert messages(schema, {"result": {"file": "result_file.tar.gz"}}) == [
        r"File name result_file.tar.gz does not match regex ^.*\.txt$"
    ]


def test_file_needs_file_key_and_known_keys():
    schema = [field("result", "basic:file:")]
    assert is_type_error(messages(schema, {"result": {"file_temp": "12345"}}))
    assert is_type_error(messages(schema, {"result": {"file": "a", "unknown": 1}}))
    full = {"file": "a.txt", "file_temp": "x", "size": 3, "total_size": 3, "refs": ["b"], "is_remote": False}
    assert messages(schema, {"result": full}) == []


def test_file_html_and_list_file():
    assert messages([field("report", "basic:file:html:")], {"report": {"file": "index.html"}}) == []
    schema = [field("files", "list:basic:file:", validate_regex=r"\.txt$")]
    (error,) = validate_values(schema, {"files": [{"file": "a.txt"}, {"file": "b.txt"}, {"file": "c.gz"}]})
    assert error.path == "files[2]" and error.code == "regex"


# --- lists ------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "ok"), [([42, 43], True), (42, False), ([42, 43.0], False), ([42, "43"], False), ([], True)]
)
def test_list_integer(value, ok):
    assert (messages([field("value", "list:basic:integer:")], {"value": value}) == []) is ok


@pytest.mark.parametrize(
    ("type_", "good", "bad"),
    [
        ("list:basic:string:", ["a"], [1]),
        ("list:basic:text:", ["a"], [True]),
        ("list:basic:boolean:", [True, False], ["true"]),
        ("list:basic:decimal:", [1, 2.5], ["1"]),
        ("list:basic:date:", ["2000-01-01"], ["01.01.2000"]),
        ("list:basic:datetime:", ["2000-01-01 10:00"], ["2000-01-01"]),
        ("list:basic:url:view:", [{"url": "x"}], ["x"]),
        ("list:basic:dir:", [{"dir": "x"}], [{"file": "x"}]),
        ("list:basic:secret:", [{"handle": UUID}], [UUID]),
        ("list:basic:file:html:", [{"file": "x.html"}], ["x.html"]),
    ],
)
def test_list_variants(type_, good, bad):
    schema = [field("value", type_)]
    assert messages(schema, {"value": good}) == []
    assert is_type_error(messages(schema, {"value": bad}))


# --- references -------------------------------------------------------------------------------------

DATA_TYPES = {1: "data:test:upload:", 2: "data:test:upload:subtype:", 3: "data:test:wrong:"}


def resolve(data_id):
    return DATA_TYPES.get(data_id)


def test_data_type_hierarchy():
    schema = [field("data_list", "data:test:upload:")]
    assert messages(schema, {"data_list": 1}, resolve_data=resolve) == []
    assert messages(schema, {"data_list": 2}, resolve_data=resolve) == []
    assert messages(schema, {"data_list": 3}, resolve_data=resolve) == [
        "Data object of type `data:test:upload:` is required, but type `data:test:wrong:` is given. (id:3)"
    ]
    assert messages(schema, {"data_list": 99}, resolve_data=resolve) == [
        "Referenced `Data` object does not exist (id:99)"
    ]


def test_data_values_must_be_integers():
    schema = [field("data", "data:test:")]
    assert is_type_error(messages(schema, {"data": "1"}, resolve_data=resolve))
    assert is_type_error(messages(schema, {"data": {"id": 1}}, resolve_data=resolve))


def test_data_without_resolver_checks_only_the_type():
    assert messages([field("data", "data:test:")], {"data": 99}) == []


def test_list_data_reports_each_bad_element():
    schema = [field("inputs", "list:data:test:upload:")]
    errors = validate_values(schema, {"inputs": [1, 3, 99]}, resolve_data=resolve)
    assert [(e.path, e.code) for e in errors] == [("inputs[1]", "data_type"), ("inputs[2]", "missing_data")]


def test_any_data_type():
    assert messages([field("data", "data:")], {"data": 3}, resolve_data=resolve) == []


def test_json_is_a_storage_id():
    schema = [field("big_dict", "basic:json:")]
    exists = {5}.__contains__
    assert is_type_error(messages(schema, {"big_dict": {"foo": "bar"}}, resolve_storage=exists))
    assert messages(schema, {"big_dict": 6}, resolve_storage=exists) == [
        "Referenced `Storage` object does not exist (id:6)"
    ]
    assert messages(schema, {"big_dict": 5}, resolve_storage=exists) == []


# --- groups and unknown keys ------------------------------------------------------------------------

GROUP_SCHEMA = [
    {
        "name": "test_group",
        "label": "Test group",
        "group": [
            field("result_file", "basic:file:"),
            field("description", "basic:string:"),
            field("threads", "basic:integer:", required=False, default=2),
        ],
    }
]


def test_group_required_field():
    values = {"test_group": {"result_file": {"file": "results.txt", "file_temp": "12345"}, "description": "ok"}}
    assert messages(GROUP_SCHEMA, values) == []
    del values["test_group"]["description"]
    (error,) = validate_values(GROUP_SCHEMA, values)
    assert error.path == "test_group.description"
    assert '"description" not given' in error.message


def test_missing_group_reports_its_required_children():
    assert messages(GROUP_SCHEMA, {}) == [
        'Required fields "result_file" not given.',
        'Required fields "description" not given.',
    ]


def test_group_must_be_an_object():
    (error,) = validate_values(GROUP_SCHEMA, {"test_group": 5})
    assert error.code == "type" and error.path == "test_group"


def test_unknown_field():
    schema = [field("result", "basic:integer:", required=False)]
    (error,) = validate_values(schema, {"res": 42})
    assert error.message == "Field definition (res) missing in schema"
    assert error.code == "unknown"


def test_unknown_field_in_group_has_full_path():
    values = {"test_group": {"result_file": {"file": "a"}, "description": "d", "extra": 1}}
    (error,) = validate_values(GROUP_SCHEMA, values)
    assert error.path == "test_group.extra"


def test_all_errors_are_returned_in_resolwe_order():
    schema = [field("a", "basic:integer:"), field("b", "basic:integer:"), field("c", "basic:string:")]
    errors = validate_values(schema, {"a": "x", "z": 1, "c": 5})
    assert [e.code for e in errors] == ["type", "type", "unknown", "required"]
    assert errors[-1].path == "b"


def test_values_must_be_a_dict():
    (error,) = validate_values(REQUIRED_SCHEMA, [1, 2])
    assert error.path == "" and error.code == "type"


def test_kind_is_checked():
    with pytest.raises(ValueError):
        validate_values(REQUIRED_SCHEMA, {}, kind="bogus")


def test_field_error_equality_and_exception():
    error = FieldError("a", "msg", code="type")
    assert error == FieldError("a", "msg", code="type")
    assert isinstance(error, Exception) and str(error) == "a: msg"


# --- defaults ---------------------------------------------------------------------------------------


def test_fill_defaults_fills_missing_and_keeps_given():
    schema = [field("some_value", "basic:integer:", default=42), field("other", "basic:string:", default="x")]
    assert fill_defaults(schema, {}) == {"some_value": 42, "other": "x"}
    assert fill_defaults(schema, {"some_value": 1, "other": None}) == {"some_value": 1, "other": None}


def test_fill_defaults_in_groups():
    assert fill_defaults(GROUP_SCHEMA, {}) == {"test_group": {"threads": 2}}
    assert fill_defaults(GROUP_SCHEMA, {"test_group": {"threads": 8}}) == {"test_group": {"threads": 8}}
    nested = [
        {
            "name": "outer",
            "label": "O",
            "group": [{"name": "inner", "label": "I", "group": [field("x", "basic:integer:", default=1)]}],
        }
    ]
    assert fill_defaults(nested, {}) == {"outer": {"inner": {"x": 1}}}


def test_fill_defaults_adds_groups_like_resolwe():
    schema = [{"name": "g", "label": "G", "group": [field("x", "basic:integer:")]}]
    assert fill_defaults(schema, {}) == {"g": {}}


def test_fill_defaults_does_not_mutate():
    schema = [field("values", "list:basic:integer:", default=[1, 2])] + copy.deepcopy(GROUP_SCHEMA)
    original_schema = copy.deepcopy(schema)
    values = {"test_group": {"description": "d"}}
    original_values = copy.deepcopy(values)
    result = fill_defaults(schema, values)
    result["values"].append(3)
    result["test_group"]["x"] = 1
    assert schema == original_schema and values == original_values
    assert fill_defaults(schema, values)["values"] == [1, 2]
