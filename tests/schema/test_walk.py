"""The walk over a field schema and its values: groups, lists, missing values, unknown keys."""

import copy

from resolwe_prefect.schema.walk import is_group, iterate_fields, iterate_schema, join_path, map_fields

SCHEMA = [
    {"name": "reads", "type": "list:data:reads:"},
    {
        "name": "options",
        "group": [
            {"name": "threads", "type": "basic:integer:", "default": 2},
            {"name": "advanced", "group": [{"name": "seed", "type": "basic:integer:"}]},
        ],
    },
    {"name": "genome", "type": "data:genome:"},
]


def paths(visits):
    return [(visit.kind, visit.path) for visit in visits]


def test_join_path_and_is_group():
    assert join_path("", "a") == "a"
    assert join_path("a.b", "c") == "a.b.c"
    assert is_group({"name": "g", "group": []})
    assert not is_group({"name": "f", "type": "basic:string:"})
    assert not is_group("group")


def test_present_leaves_in_schema_order_with_groups_flattened():
    values = {"genome": 7, "options": {"advanced": {"seed": 1}, "threads": 4}, "reads": [1, 2]}
    visits = list(iterate_fields(values, SCHEMA))
    assert paths(visits) == [
        ("leaf", "reads"),
        ("leaf", "options.threads"),
        ("leaf", "options.advanced.seed"),
        ("leaf", "genome"),
    ]
    assert [visit.value for visit in visits] == [[1, 2], 4, 1, 7]
    seed = visits[2]
    assert seed.name == "seed" and seed.values is values["options"]["advanced"]
    assert seed.type == "basic:integer:" and seed.present


def test_visits_write_in_place_at_any_depth():
    values = {"options": {"advanced": {"seed": 1}}}
    for visit in iterate_fields(values, SCHEMA):
        visit.values[visit.name] = visit.value + 1
    assert values == {"options": {"advanced": {"seed": 2}}}


def test_absent_values_and_groups_are_skipped_unless_missing():
    assert paths(iterate_fields({"options": {}}, SCHEMA)) == []
    assert paths(iterate_fields({}, SCHEMA, missing=True)) == [
        ("leaf", "reads"),
        ("leaf", "options.threads"),
        ("leaf", "options.advanced.seed"),
        ("leaf", "genome"),
    ]
    visits = list(iterate_fields({"reads": None}, SCHEMA, missing=True))
    assert [(visit.path, visit.present) for visit in visits] == [
        ("reads", True),  # a None value is present
        ("options.threads", False),
        ("options.advanced.seed", False),
        ("genome", False),
    ]


def test_missing_descends_into_null_groups_without_touching_the_values():
    values = {"options": None}
    assert [visit.path for visit in iterate_fields(values, SCHEMA, missing=True)][1:3] == [
        "options.threads",
        "options.advanced.seed",
    ]
    assert list(iterate_fields(values, SCHEMA)) == []
    assert values == {"options": None}


def test_group_values_that_are_not_objects_are_not_descended():
    values = {"options": [1, 2], "reads": "x"}
    assert paths(iterate_fields(values, SCHEMA, missing=True, groups=True)) == [
        ("leaf", "reads"),
        ("group", "options"),
        ("leaf", "genome"),
    ]


def test_groups_are_visited_before_their_fields_and_may_be_put_in_place():
    values: dict = {}
    visited = []
    for visit in iterate_fields(values, SCHEMA, missing=True, groups=True):
        visited.append((visit.kind, visit.path))
        if visit.kind == "group" and not visit.present:
            visit.values[visit.name] = {}
        elif visit.kind == "leaf" and "default" in visit.field:
            visit.values[visit.name] = visit.field["default"]
    assert visited == [
        ("leaf", "reads"),
        ("group", "options"),
        ("leaf", "options.threads"),
        ("group", "options.advanced"),
        ("leaf", "options.advanced.seed"),
        ("leaf", "genome"),
    ]
    assert values == {"options": {"threads": 2, "advanced": {}}}


def test_unknown_keys_follow_their_level():
    values = {"bogus": 1, "options": {"extra": 2, "threads": 3}, "genome": 1}
    assert paths(iterate_fields(values, SCHEMA, unknown=True)) == [
        ("leaf", "options.threads"),
        ("unknown", "options.extra"),
        ("leaf", "genome"),
        ("unknown", "bogus"),
    ]
    assert paths(iterate_fields(values, SCHEMA)) == [("leaf", "options.threads"), ("leaf", "genome")]


def test_value_order_walks_keys_as_given_with_unknown_keys_in_place():
    values = {"bogus": 1, "genome": 1, "options": {"threads": 3, "extra": 2}, "reads": []}
    assert paths(iterate_fields(values, SCHEMA, unknown=True, value_order=True)) == [
        ("unknown", "bogus"),
        ("leaf", "genome"),
        ("leaf", "options.threads"),
        ("unknown", "options.extra"),
        ("leaf", "reads"),
    ]


def test_malformed_schemas_and_values_are_tolerated():
    schema = [
        "not a field",
        {"type": "basic:string:"},  # no name
        {"name": "broken", "group": "not a list"},
        {"name": "plain", "type": "basic:string:"},
    ]
    assert paths(iterate_fields({"broken": {"x": 1}, "plain": "a"}, schema)) == [("leaf", "plain")]
    assert paths(iterate_fields({"broken": {"x": 1}}, schema, unknown=True)) == [("unknown", "broken.x")]
    for values in (None, [], "text"):
        assert list(iterate_fields(values, schema)) == []
    assert list(iterate_fields({"a": 1}, None)) == []


def test_path_prefix():
    assert [visit.path for visit in iterate_fields({"genome": 1}, SCHEMA, "input")] == ["input.genome"]


def test_iterate_schema_yields_every_leaf():
    assert [(field["name"], path) for field, path in iterate_schema(SCHEMA)] == [
        ("reads", "reads"),
        ("threads", "options.threads"),
        ("seed", "options.advanced.seed"),
        ("genome", "genome"),
    ]
    assert list(iterate_schema(None)) == []
    assert [path for _, path in iterate_schema([{"name": "g", "group": None}, {"name": "a", "type": "x:"}])] == ["a"]


def test_map_fields_copies_containers_and_replaces_present_leaves():
    values = {"reads": [1, 2], "options": {"threads": 4, "advanced": {"seed": 5}}, "other": "kept"}
    original = copy.deepcopy(values)
    seen = []

    def double(visit):
        seen.append(visit.path)
        return [2 * v for v in visit.value] if isinstance(visit.value, list) else 2 * visit.value

    result = map_fields(values, SCHEMA, double)
    assert result == {"reads": [2, 4], "options": {"threads": 8, "advanced": {"seed": 10}}, "other": "kept"}
    assert seen == ["reads", "options.threads", "options.advanced.seed"]
    assert values == original  # nothing of the input changed
    assert result["options"] is not values["options"]
    assert result["options"]["advanced"] is not values["options"]["advanced"]


def test_map_fields_leaves_absent_and_odd_groups_alone():
    values = {"options": "not an object"}
    result = map_fields(values, SCHEMA, lambda visit: 0)
    assert result == {"options": "not an object"}
    assert map_fields({}, SCHEMA, lambda visit: 0) == {}
