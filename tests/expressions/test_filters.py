"""Tests of the built-in filters, directly and through the engine."""

import json

import pytest

from resolwe_prefect.expressions import HydratedPath, get_engine
from resolwe_prefect.expressions import filters as f


def _ref(data_id, **extra):
    ref = {
        "__id": data_id,
        "__type": "data:test:inputobject:",
        "__name": f"Data {data_id}",
        "__slug": f"data-{data_id}",
        "__descriptor": {"descriptions": {"text": "hi", "tags": ["a"]}},
        "__entity_id": 7,
        "__entity_name": "Sample",
        "__output_schema": [],
    }
    ref.update(extra)
    return ref


@pytest.fixture
def engine():
    return get_engine()


def test_data_attribute_filters_single_and_list():
    one, two = _ref(1), _ref(2)
    assert f.name(one) == "Data 1"
    assert f.slug(one) == "data-1"
    assert f.id_(one) == 1
    assert f.type_(one) == "data:test:inputobject:"
    assert f.name([one, two]) == ["Data 1", "Data 2"]
    assert f.id_((one, two)) == [1, 2]


def test_data_attribute_filters_render_lists_as_python_repr(engine):
    context = {"d": _ref(3), "dl": [_ref(3)]}
    assert engine.evaluate_block("{{ d | name }}|{{ dl | name }}", context) == "Data 3|['Data 3']"
    assert engine.evaluate_block("{{ dl | id }} {{ dl | type }}", context) == "[3] ['data:test:inputobject:']"


def test_value_filters():
    assert f.basename("/foo/bar/moo") == "moo"
    assert f.dirname("/foo/bar/moo") == "/foo/bar"
    assert f.subtype("data:test:inputobject:", "data:") is True
    assert f.subtype(["data:a:", "other:"], "data:") == [True, False]
    assert f.yesno(1, "y", "n") == "y"
    assert f.yesno([], "y", "n") == "n"
    assert f.all_([]) is True and f.all_([1, 0]) is False
    assert f.any_([]) is False and f.any_([0, 1]) is True


def test_value_filters_through_engine(engine):
    # The cf-tt-basic program of the corpus (expression-filters/value-filters).
    template = (
        "{{ '/foo/bar/moo' | basename }} {{ '/foo/bar/moo' | dirname }} "
        "{{ 'data:test:inputobject:' | subtype('data:') }} "
        "{{ ['data:test:inputobject:'] | subtype('data:') }} "
        "{{ true | yesno('yes', 'no') }} {{ [true, false] | all }} {{ [true, false] | any }}"
    )
    assert engine.evaluate_block(template, {}) == "moo /foo/bar True [True] yes False True"


def test_descriptor():
    ref = _ref(1)
    assert f.descriptor(ref, "descriptions.text") == "hi"
    assert json.loads(f.descriptor(ref, "descriptions")) == {"text": "hi", "tags": ["a"]}
    assert f.descriptor(ref, "descriptions.tags") == '["a"]'
    assert json.loads(f.descriptor(ref)) == ref["__descriptor"]
    with pytest.raises(KeyError):
        f.descriptor(ref, "nope")


def test_descriptor_missing_path_gives_default(engine):
    ctx = {"d": _ref(1)}
    assert engine.evaluate_inline("d | descriptor('descriptions.text')", ctx) == "hi"
    assert engine.evaluate_inline("d | descriptor('x.y') | default('none')", ctx) == "none"


def test_input_filter():
    ref = _ref(1, __input={"src": 4, "group": {"value": 3}})
    assert f.input_(ref, "group.value") == 3
    assert f.input_(ref, "src") == 4
    with pytest.raises(KeyError):
        f.input_(_ref(1), "src")


def test_dict_dot_lists():
    assert f.dict_dot({"a": [{"b": 1}]}, "a.0.b") == 1
    assert f.dict_dot({"a": 1}, "") == {"a": 1}


def test_relative_path_and_get_url(engine, monkeypatch):
    path = HydratedPath("/data/5/out/reads.fq", 5, "out/reads.fq")
    field = {"file": path, "refs": []}
    assert f.relative_path(field) == "out/reads.fq"
    assert f.relative_path(path) == "out/reads.fq"
    assert f.relative_path({"dir": HydratedPath("/d/5/x", 5, "x")}) == "x"
    assert f.get_url(field) == "localhost/data/5/out/reads.fq"
    monkeypatch.setenv("RESOLWE_HOST_URL", "https://example.org")
    assert f.get_url(field) == "https://example.org/data/5/out/reads.fq"
    with pytest.raises(TypeError):
        f.relative_path({"file": "plain/str"})
    assert engine.evaluate_inline("x | relative_path | default('?')", {"x": {"file": "a"}}) == "?"
    assert engine.evaluate_block("{{ x.file }}", {"x": field}) == "/data/5/out/reads.fq"


def test_filters_registry_names():
    assert {
        "name",
        "slug",
        "id",
        "type",
        "basename",
        "dirname",
        "subtype",
        "yesno",
        "get_url",
        "relative_path",
        "descriptor",
        "input",
        "all",
        "any",
    } <= set(f.filters)
