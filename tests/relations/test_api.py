"""``/api/relation`` as resdk 22.2.3 drives it: create, read, update, delete (contract §1.4, §2.2)."""

from __future__ import annotations

from unittest import mock

import pytest
from resdk.resources import Relation as ResdkRelation
from resdk.resources.fields import DataSource

from resolwe_prefect.relations.models import Relation, RelationPartition, RelationType

pytestmark = pytest.mark.django_db

RELATION_FIELDS = {
    "id", "created", "modified", "contributor", "collection", "type", "category", "unit", "partitions",
    "descriptor_schema", "descriptor", "descriptor_dirty",
}  # fmt: skip


def _group_payload(collection, samples, category="Replicates", **extra) -> dict:
    """The body ``collection.create_group_relation(category, samples, labels)`` sends."""
    return {
        "type": "group",
        "collection": {"id": collection.pk},
        "category": category,
        "partitions": [{"entity": sample.pk, "label": f"rep{n}"} for n, sample in enumerate(samples, 1)],
        **extra,
    }


def test_relation_types_are_seeded():
    assert {(t.name, t.ordered) for t in RelationType.objects.all()} >= {
        ("group", False), ("series", True), ("compare", False), ("background", False),
    }  # fmt: skip


def test_create_group_relation(user_client, contributor, collection, samples):
    response = user_client.post("/api/relation", _group_payload(collection, samples[:2]), format="json")
    assert response.status_code == 201, response.json()
    body = response.json()
    assert set(body) == RELATION_FIELDS
    assert body["type"] == "group"
    assert body["category"] == "replicates"  # lower-cased on save
    assert body["unit"] is None
    assert body["contributor"]["username"] == "contributor"
    assert body["collection"]["id"] == collection.pk
    assert body["collection"]["name"] == "Time course"
    assert body["collection"]["entity_count"] == 3
    assert body["descriptor_schema"] is None and body["descriptor"] == {} and body["descriptor_dirty"] is False
    partitions = RelationPartition.objects.filter(relation_id=body["id"]).order_by("id")
    assert body["partitions"] == [
        {"id": p.pk, "entity": p.entity_id, "label": p.label, "position": None} for p in partitions
    ]
    assert [p["entity"] for p in body["partitions"]] == [samples[0].pk, samples[1].pk]
    assert [p["label"] for p in body["partitions"]] == ["rep1", "rep2"]
    assert "." in body["created"] and body["created"].endswith("+00:00")  # microseconds and an offset


def test_create_series_relation_with_positions_and_unit(user_client, collection, samples):
    payload = {
        "type": "series",
        "collection": {"id": collection.pk},
        "category": "Time",
        "unit": "hr",
        "partitions": [{"entity": s.pk, "position": 10 * n, "label": f"t{n}"} for n, s in enumerate(samples)],
    }
    body = user_client.post("/api/relation", payload, format="json").json()
    assert (body["type"], body["unit"]) == ("series", "hr")
    assert [(p["position"], p["label"]) for p in body["partitions"]] == [(0, "t0"), (10, "t1"), (20, "t2")]


def test_list_and_detail(viewer_client, collection, samples, make_relation):
    relation = make_relation(collection, "replicates", [(samples[0], None, None), (samples[1], "b", 2)])
    body = viewer_client.get("/api/relation").json()
    assert [r["id"] for r in body] == [relation.pk]
    detail = viewer_client.get(f"/api/relation/{relation.pk}").json()
    assert detail == body[0]
    assert detail["partitions"][1]["entity"] == samples[1].pk
    assert (detail["partitions"][1]["label"], detail["partitions"][1]["position"]) == ("b", 2)
    page = viewer_client.get("/api/relation?limit=1&fields=id,modified").json()
    assert page["count"] == 1
    assert list(page["results"][0]) == ["id", "modified"]


def test_resdk_parses_the_payload(user_client, collection, samples):
    """resdk builds its Relation (nested Collection and User included) from the server's JSON unchanged."""
    body = user_client.post("/api/relation", _group_payload(collection, samples[:2]), format="json").json()
    resolwe = mock.MagicMock()
    relation = ResdkRelation(resolwe, initial_data_source=DataSource.SERVER, **body)
    assert relation.id == body["id"]
    assert relation.type == "group"
    assert relation.category == "replicates"
    assert relation.collection.id == collection.pk
    assert relation.collection.name == "Time course"
    assert relation.contributor.username == "contributor"
    assert [p["entity"] for p in relation.partitions] == [samples[0].pk, samples[1].pk]
    assert relation.descriptor_dirty is False
    assert relation.created.year >= 2024


def test_duplicate_category_is_409(user_client, collection, samples):
    assert user_client.post("/api/relation", _group_payload(collection, samples[:1]), format="json").status_code == 201
    response = user_client.post(
        "/api/relation", _group_payload(collection, samples[1:], category="REPLICATES"), format="json"
    )
    assert response.status_code == 409
    assert list(response.json()) == ["error"]
    assert "relation_collection_category" in response.json()["error"]
    assert Relation.objects.count() == 1
    assert RelationPartition.objects.count() == 1  # the failed create left no partitions behind


def test_the_same_category_in_another_collection_is_allowed(admin_client, collection, samples, make_entity, admin):
    from resolwe_prefect.entities.models import Collection
    from resolwe_prefect.permissions import services as permissions

    other = Collection.objects.create(name="Other", contributor=admin)
    permissions.on_created(other)
    sample = make_entity("Other sample", other)
    assert admin_client.post("/api/relation", _group_payload(collection, samples[:1]), format="json").status_code == 201
    assert admin_client.post("/api/relation", _group_payload(other, [sample]), format="json").status_code == 201


@pytest.mark.parametrize(
    ("change", "field", "message"),
    [
        ({"partitions": []}, "partitions", "You should define at least one partition."),
        ({"type": "cousins"}, "type", "Object with name=cousins does not exist."),
        ({"unit": "year"}, "unit", '"year" is not a valid choice.'),
    ],
)
def test_invalid_create_is_400(user_client, collection, samples, change, field, message):
    response = user_client.post("/api/relation", {**_group_payload(collection, samples), **change}, format="json")
    assert response.status_code == 400
    assert response.json() == {field: [message]}
    assert not Relation.objects.exists()


def test_required_fields(user_client):
    response = user_client.post("/api/relation", {}, format="json")
    assert response.status_code == 400
    assert set(response.json()) == {"collection", "type", "category", "partitions"}


def test_partition_entities_must_be_in_the_collection_and_unique(user_client, collection, samples, make_entity):
    outsider = make_entity("Loose sample")
    payload = _group_payload(collection, [samples[0], outsider])
    response = user_client.post("/api/relation", payload, format="json")
    assert response.status_code == 400
    assert response.json() == {"partitions": [f"Entities [{outsider.pk}] are not in collection {collection.pk}."]}
    payload = _group_payload(collection, [samples[0], samples[0]])
    response = user_client.post("/api/relation", payload, format="json")
    assert response.status_code == 400
    assert response.json() == {"partitions": [f"Entities appear in more than one partition: [{samples[0].pk}]."]}
    payload["partitions"] = [{"entity": 987654}]
    response = user_client.post("/api/relation", payload, format="json")
    assert response.status_code == 400
    assert response.json() == {"partitions": {"0": {"entity": ['Invalid pk "987654" - object does not exist.']}}}


def test_update_replaces_partitions(user_client, collection, samples, make_relation):
    """resdk's ``add_sample``/``remove_samples`` PATCH the whole list, old partition ids included."""
    relation = make_relation(collection, "replicates", [(samples[0], "a", None), (samples[1], "b", None)])
    old = list(relation.partitions.values_list("pk", flat=True))
    current = user_client.get(f"/api/relation/{relation.pk}").json()["partitions"]
    partitions = [current[1], {"entity": samples[2].pk, "position": 3, "label": None}]
    response = user_client.patch(f"/api/relation/{relation.pk}", {"partitions": partitions}, format="json")
    assert response.status_code == 200, response.json()
    body = response.json()
    assert [(p["entity"], p["label"], p["position"]) for p in body["partitions"]] == [
        (samples[1].pk, "b", None), (samples[2].pk, None, 3),
    ]  # fmt: skip
    assert not RelationPartition.objects.filter(pk__in=old).exists()
    assert RelationPartition.objects.filter(relation=relation).count() == 2


def test_update_category_unit_and_protected_type(user_client, collection, samples, make_relation):
    relation = make_relation(collection, "replicates", [(samples[0], None, None)])
    url = f"/api/relation/{relation.pk}"
    body = user_client.patch(url, {"category": "Clones", "unit": "d", "type": "series"}, format="json").json()
    assert (body["category"], body["unit"], body["type"]) == ("clones", "d", "group")  # ``type`` silently kept
    assert user_client.patch(url, {"type": "series"}, format="json").status_code == 204  # nothing writable
    assert user_client.patch(url, {"partitions": []}, format="json").json() == {
        "partitions": ["You should define at least one partition."]
    }
    make_relation(collection, "time", [(samples[1], None, None)])
    response = user_client.patch(url, {"category": "TIME"}, format="json")
    assert response.status_code == 409
    relation.refresh_from_db()
    assert relation.category == "clones"


def test_delete(user_client, collection, samples, make_relation):
    relation = make_relation(collection, "replicates", [(samples[0], None, None)])
    response = user_client.delete(f"/api/relation/{relation.pk}")
    assert response.status_code == 204
    assert not Relation.objects.exists() and not RelationPartition.objects.exists()
    assert samples[0].__class__.objects.filter(pk=samples[0].pk).exists()  # members stay


def test_deleting_an_entity_or_the_collection_removes_partitions_and_relations(collection, samples, make_relation):
    relation = make_relation(collection, "replicates", [(samples[0], None, None), (samples[1], None, None)])
    samples[0].delete()
    assert list(relation.partitions.values_list("entity_id", flat=True)) == [samples[1].pk]
    collection.delete()
    assert not Relation.objects.exists()


def test_schema_publishes_relation(admin_client):
    response = admin_client.get("/api/schema", HTTP_ACCEPT="application/vnd.oai.openapi+json")
    assert response.status_code == 200
    paths = response.json()["paths"]
    assert {"/api/relation", "/api/relation/{id}"} <= set(paths)
    names = {p["name"] for p in paths["/api/relation"]["get"]["parameters"]}
    assert {"entity", "label", "position", "category", "collection", "type", "tags"} <= names
