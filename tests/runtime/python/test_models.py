"""The object API of ``resolwe.process.models`` over the channel."""

from __future__ import annotations

import json

import pytest

from .conftest import PYTHONS
from .fake_channel import NO_OBJECT, FakeChannel

HEADER = """
import json
from resolwe.process import *
from resolwe.process.models import Collection, Data, DescriptorSchema, Entity, Process as ProcessM, Relation, Storage


class P(Process):
    slug = "p"
    name = "P"
    version = "1.0.0"
    process_type = "data:test"

    class Output:
        out = StringField(label="out", required=False)

    def run(self, inputs, outputs):
"""


def body(code: str) -> str:
    return HEADER + "".join(f"        {line}\n" for line in code.strip("\n").splitlines())


def objects():
    return {
        "Data": {
            10: {"name": "A", "slug": "a", "entity": 7, "collection": 3, "process": 2},
            11: {"name": "B", "slug": "b", "entity": 8, "collection": 3, "process": 2},
            12: {"name": "C", "slug": "c", "entity": None, "collection": None, "process": 2},
        },
        "Entity": {
            7: {"name": "S1", "collection": 3, "tags": []},
            8: {"name": "S2", "collection": 3, "tags": []},
            9: {"name": "S3", "collection": None, "tags": []},
        },
        "Collection": {3: {"name": "Col", "slug": "col", "data": [10, 11]}},
        "Process": {
            1: {"slug": "align", "version": "1.2.0", "type": "data:alignment:"},
            2: {"slug": "align", "version": "1.10.0", "type": "data:alignment:"},
            4: {"slug": "upload", "version": "2.0.0", "type": "data:reads:"},
        },
        "Storage": {20: {"name": "st", "json": {"k": [1, 2]}}},
        "Relation": {
            30: {
                "collection": 3,
                "type": "series",
                "ordered": True,
                "category": "time-series",
                "unit": "hr",
                "partitions": [
                    {"entity": 7, "position": 1, "label": "start"},
                    {"entity": 8, "position": 2, "label": "end"},
                ],
            },
            31: {
                "collection": 3,
                "type": {"name": "group", "ordered": False},
                "ordered": None,
                "category": "replicates",
                "unit": None,
                "partitions": [{"entity_id": 8, "position": None, "label": "r"}],
            },
        },
    }


def run_with(run_process, code: str, fake: FakeChannel | None = None, python: str | None = None):
    fake = fake or FakeChannel(objects(), {7: {"general.species": "Mouse", "general.age": 3}})
    fake.start()
    try:
        kwargs = {"python": python} if python else {}
        run = run_process(body(code), "p", channel=fake, **kwargs)
    finally:
        fake.stop()
    return run, fake


@pytest.mark.parametrize("python", PYTHONS)
def test_filter_get_create(run_process, python):
    code = """
by_entity = Data.filter(entity__name="S1")
in_collection = Data.filter(collection_id=3)
with_fields = Data.filter(id__in=[10, 11], __fields=["name"])
one = Data.get(slug="b")
collections = Collection.filter(data__id=10)
samples = Entity.filter(collection_id=collections[0].id)
latest = ProcessM.get_latest(slug="align")
child = Data.create(process=latest, input={"reads": one, "many": [Data(10)]}, name="Child")
collection = Collection.create(name="New")
entity = Entity.create(name="Sample", collection=collection)
entity.tags = ["first", "second"]
outputs.out = json.dumps({
    "by_entity": [d.id for d in by_entity],
    "in_collection": [d.id for d in in_collection],
    "with_fields": [[d.id, d.name] for d in with_fields],
    "one": [one.id, one.name, str(one), one == Data(11), one in {Data(11)}],
    "collections": [c.slug for c in collections],
    "samples": sorted(s.name for s in samples),
    "latest": [latest.id, latest.version],
    "child": child.id,
    "collection": collection.id,
    "entity": [entity.id, entity.name, entity.tags],
    "exists": [Data.exists(name="A"), Data.exists(name="none")],
    "iterate": [p.slug + "@" + p.version for p in ProcessM.iterate(sort=["-version"], slug="align")],
    "iterate_all": [p.id for p in ProcessM.iterate()],
})
"""
    run, fake = run_with(run_process, code, python=python)
    assert run.returncode == 0, run.stderr
    assert json.loads(run.output["out"]) == {
        "by_entity": [10],
        "in_collection": [10, 11],
        "with_fields": [[10, "A"], [11, "B"]],
        "one": [11, "B", "Data(pk=11)", True, True],
        "collections": ["col"],
        "samples": ["S1", "S2"],
        "latest": [2, "1.10.0"],
        "child": 1001,
        "collection": 1001,
        "entity": [1001, "Sample", ["first", "second"]],
        "exists": [[10], []],
        "iterate": ["align@1.10.0", "align@1.2.0"],
        "iterate_all": [1, 2, 4],
    }
    creates = [(r["model"], r["fields"]) for r in fake.commands("create")]
    assert creates == [
        ("Data", {"process": 2, "input": {"reads": 11, "many": [10]}, "name": "Child"}),
        ("Collection", {"name": "New"}),
        ("Entity", {"name": "Sample", "collection": 1001}),
    ]
    assert fake.commands("filter")[2] == {
        "command": "filter",
        "model": "Data",
        "filters": {"id__in": [10, 11]},
        "fields": ["name"],
    }
    assert fake.commands("process_latest") == [{"command": "process_latest", "slug": "align"}]
    assert [(r["model"], r["fields"]) for r in fake.commands("update")] == [("Entity", {"tags": ["first", "second"]})]
    # Names given with filter(__fields=...) are not asked for again.
    assert ("Data", 10, ["name"]) not in [(r["model"], r["id"], r["names"]) for r in fake.commands("fields")]


def test_errors_raise_as_resolwe_raises_them(run_process):
    code = """
messages = []
for call in (lambda: Entity.get(pk=999), lambda: Data.get(collection=3), lambda: Entity(9).name,
             lambda: setattr(Entity.get(pk=8), "name", "x"), lambda: ProcessM.get_latest("nope"),
             lambda: DescriptorSchema.get_latest("nope")):
    try:
        call()
    except RuntimeError as error:
        messages.append(str(error))
try:
    Entity(7).no_such_field
except AttributeError as error:
    messages.append(str(error))
outputs.out = json.dumps(messages)
Entity.get(pk=8).name = "renamed"
"""
    fake = FakeChannel(objects(), no_view={("Entity", 9)}, no_edit={("Entity", 8)})
    run, fake = run_with(run_process, code, fake)
    assert json.loads(run.output["out"]) == [
        NO_OBJECT,
        NO_OBJECT,
        NO_OBJECT,
        "No edit permission for entity with id 8.",
        NO_OBJECT,
        NO_OBJECT,
        "'Entity' object has no attribute 'no_such_field'",
    ]
    # Uncaught, the channel's refusal is the Data object's error.
    assert run.returncode == 1
    assert run.errors == ["No edit permission for entity with id 8."]


def test_annotations(run_process):
    code = """
entity = Data(10).entity
before = [entity.annotations["general.species"], entity.annotations["general.missing"]]
entity.annotations["general.species"] = "Human"
entity.annotations.update({"general.age": 42, "qc.status": "PASS"})
copied = entity.annotations.copy()
other = Entity(8)
other.annotations = {"general.species": "Rat"}
outputs.out = json.dumps([before, copied, len(entity.annotations), sorted(entity.annotations), dict(other.annotations)])
"""
    run, fake = run_with(run_process, code)
    assert run.returncode == 0, run.stderr
    assert json.loads(run.output["out"]) == [
        ["Mouse", None],
        {"general.species": "Human", "general.age": 42, "qc.status": "PASS"},
        3,
        ["general.age", "general.species", "qc.status"],
        {"general.species": "Rat"},
    ]
    assert [r for r in fake.requests if r["command"] in ("annotations", "annotate")] == [
        {"command": "annotations", "entity": 7, "paths": ["general.species"]},
        {"command": "annotations", "entity": 7, "paths": ["general.missing"]},
        {"command": "annotate", "entity": 7, "values": {"general.species": "Human"}},
        {"command": "annotate", "entity": 7, "values": {"general.age": 42, "qc.status": "PASS"}},
        {"command": "annotations", "entity": 7},
        {"command": "annotate", "entity": 8, "values": {"general.species": "Rat"}, "replace": True},
    ]
    assert fake.annotations[8] == {"general.species": "Rat"}


def test_storage_and_relations(run_process):
    code = """
storage = Storage.get(id=20)
relations = Data(10).relations
second = Data(11).relations
outputs.out = json.dumps({
    "storage": [storage.id, storage.name, storage.json, storage["k"], list(storage.keys()), storage.get("x", 0)],
    "relations": [[r.id, r.type, r.ordered, r.category, r.unit,
                   [[p.entity_id, p.position, p.label] for p in r.partitions]] for r in relations],
    "second": sorted([r.id, r.type, r.ordered] for r in second),
    "none": Data(12).relations,
    "collection": len(Collection(3).relations),
})
"""
    run, fake = run_with(run_process, code)
    assert run.returncode == 0, run.stderr
    assert json.loads(run.output["out"]) == {
        "storage": [20, "st", {"k": [1, 2]}, [1, 2], ["k"], 0],
        "relations": [[30, "series", True, "time-series", "hr", [[7, 1, "start"], [8, 2, "end"]]]],
        "second": [[30, "series", True], [31, "group", False]],
        "none": [],
        "collection": 2,
    }
    relation_filters = [r for r in fake.commands("filter") if r["model"] == "Relation"]
    assert relation_filters[0] == {
        "command": "filter",
        "model": "Relation",
        "filters": {"collection": 3},
        "fields": ["type", "ordered", "category", "unit", "partitions"],
    }
