"""The annotation endpoints as resdk calls them (resolwe-api-contract.md §1.4, §2.2)."""

from __future__ import annotations

import pytest

from resolwe_prefect.annotations import services
from resolwe_prefect.annotations.models import AnnotationPreset, AnnotationValue

pytestmark = pytest.mark.django_db


def test_field_lookup_by_path(user_client, fields):
    response = user_client.get("/api/annotation_field?name=species&group__name=general&limit=1")
    assert response.status_code == 200
    page = response.json()
    assert page["count"] == 1
    field = page["results"][0]
    assert field["id"] == fields["general.species"].pk
    assert field["group"] == {
        "id": fields["general.species"].group_id,
        "name": "general",
        "label": "general",
        "sort_order": 1,
    }
    assert set(field) == {
        "id", "name", "label", "description", "type", "group", "sort_order", "validator_regex",
        "vocabulary", "required", "version",
    }  # fmt: skip
    assert field["vocabulary"] == {"Valid": "Valid", "hs": "Homo sapiens"}


def test_field_default_ordering_and_filters(anon_client, fields):
    names = [f"{f['group']['name']}.{f['name']}" for f in anon_client.get("/api/annotation_field").json()]
    assert names == [
        "general.species", "general.description", "general.age",
        "biospecimen.weight", "biospecimen.collected", "biospecimen.code",
    ]  # fmt: skip
    ids = sorted(f.pk for f in fields.values())
    body = anon_client.get(f"/api/annotation_field?id__gt={ids[2]}&ordering=id").json()
    assert [f["id"] for f in body] == ids[3:]
    body = anon_client.get(f"/api/annotation_field?id__in={ids[0]},{ids[1]}").json()
    assert {f["id"] for f in body} == set(ids[:2])
    assert [f["name"] for f in anon_client.get("/api/annotation_field?type=DATE").json()] == ["collected"]
    assert [f["name"] for f in anon_client.get("/api/annotation_field?ordering=-name&group__name=general").json()] == [
        "species",
        "description",
        "age",
    ]


def test_field_unknown_parameter_and_ordering(anon_client, fields):
    response = anon_client.get("/api/annotation_field?foo=1")
    assert response.status_code == 400
    assert response.json()["__all__"][0].startswith("Unsupported parameter(s): foo.")
    response = anon_client.get("/api/annotation_field?ordering=type")
    assert response.status_code == 400
    assert response.json() == {"error": "Ordering by field 'type' is not supported."}


def test_fields_are_read_only(admin_client, fields):
    assert admin_client.post("/api/annotation_field", {"name": "x"}, format="json").status_code == 405
    assert admin_client.delete(f"/api/annotation_field/{fields['general.age'].pk}").status_code == 405


def test_groups(anon_client, fields):
    body = anon_client.get("/api/annotation_group").json()
    assert [g["name"] for g in body] == ["general", "biospecimen"]


def test_set_annotation_fields_and_collection_filter(user_client, anon_client, collection, fields):
    url = f"/api/collection/{collection.pk}/set_annotation_fields"
    chosen = [fields["general.species"].pk, fields["biospecimen.weight"].pk]
    response = user_client.post(url, {"annotation_fields": [{"id": pk} for pk in chosen]}, format="json")
    assert response.status_code == 204
    body = user_client.get(f"/api/annotation_field?collection={collection.pk}").json()
    assert [f["id"] for f in body] == chosen
    # Setting again replaces the set.
    assert user_client.post(url, {"annotation_fields": [chosen[1]]}, format="json").status_code == 204
    assert [f["id"] for f in user_client.get(f"/api/annotation_field?collection={collection.pk}").json()] == chosen[1:]

    assert anon_client.post(url, {"annotation_fields": []}, format="json").status_code == 403
    assert (
        user_client.post(
            "/api/collection/999999/set_annotation_fields", {"annotation_fields": []}, format="json"
        ).status_code
        == 404
    )
    response = user_client.post(url, {"annotation_fields": [{"id": 999999}]}, format="json")
    assert response.status_code == 400


def test_post_value_is_an_upsert(user_client, contributor, entity, fields):
    field = fields["general.species"]
    body = {"field": field.pk, "entity": entity.pk, "value": "hs"}
    response = user_client.post("/api/annotation_value", body, format="json")
    assert response.status_code == 201, response.json()
    first = response.json()
    assert (first["entity"], first["field"], first["value"], first["label"]) == (
        entity.pk,
        field.pk,
        "hs",
        "Homo sapiens",
    )
    assert first["contributor"]["username"] == "contributor"
    assert set(first) == {"id", "entity", "field", "value", "label", "created", "contributor"}

    response = user_client.post("/api/annotation_value", {**body, "value": "Valid"}, format="json")
    assert response.status_code == 201
    assert response.json()["id"] == first["id"] and response.json()["label"] == "Valid"
    assert AnnotationValue.objects.count() == 1


def test_post_value_validation(user_client, entity, fields):
    body = {"field": fields["general.species"].pk, "entity": entity.pk, "value": "Invalid"}
    response = user_client.post("/api/annotation_value", body, format="json")
    assert response.status_code == 400
    assert response.json() == {"value": ["The value 'Invalid' is not valid for the field general.species."]}
    body = {"field": {"id": fields["general.age"].pk}, "entity": {"id": entity.pk}, "value": "old"}
    assert user_client.post("/api/annotation_value", body, format="json").json() == {
        "value": ["The value 'old' is not of the expected type 'int'."]
    }
    response = user_client.post("/api/annotation_value", {**body, "entity": 999999, "value": 3}, format="json")
    assert response.status_code == 400 and "entity" in response.json()
    assert AnnotationValue.objects.count() == 0


def test_anonymous_cannot_write_or_see(anon_client, admin, entity, fields):
    services.set_entity_values(entity, {"general.age": 3}, admin)
    body = {"field": fields["general.age"].pk, "entity": entity.pk, "value": 4}
    assert anon_client.post("/api/annotation_value", body, format="json").status_code == 403
    assert anon_client.get("/api/annotation_value").json() == []


def test_value_lookup_as_resdk(user_client, admin, entity, other_entity, fields):
    services.set_entity_values(entity, {"general.species": "hs", "general.age": 5}, admin)
    services.set_entity_values(other_entity, {"general.species": "Valid"}, admin)
    page = user_client.get(
        f"/api/annotation_value?entity={entity.pk}&field__name=species&field__group__name=general&limit=1"
    ).json()
    assert page["count"] == 1 and page["results"][0]["value"] == "hs"
    assert len(user_client.get(f"/api/annotation_value?entity={entity.pk}").json()) == 2
    assert len(user_client.get(f"/api/annotation_value?entity__in={entity.pk},{other_entity.pk}").json()) == 3
    assert [v["value"] for v in user_client.get("/api/annotation_value?label=homo").json()] == ["hs"]
    assert len(user_client.get(f"/api/annotation_value?field={fields['general.species'].pk}").json()) == 2
    ids = [v["id"] for v in user_client.get("/api/annotation_value?ordering=-id").json()]
    assert ids == sorted(ids, reverse=True)
    tail = user_client.get(f"/api/annotation_value?id__gt={min(ids)}&ordering=id&limit=10").json()
    assert [v["id"] for v in tail["results"]] == sorted(ids)[1:]
    assert user_client.get("/api/annotation_value?fields=id,value").json()[0].keys() == {"id", "value"}
    assert user_client.get("/api/annotation_value?bogus=1").status_code == 400
    # Fields can be found through the entities that carry values for them.
    names = [f["name"] for f in user_client.get(f"/api/annotation_field?entity={entity.pk}").json()]
    assert names == ["species", "age"]


def test_bulk_create_update_and_delete(user_client, entity, other_entity, fields):
    species, age = fields["general.species"].pk, fields["general.age"].pk
    items = [
        {"field": species, "entity": entity.pk, "value": "Valid"},
        {"field": age, "entity": entity.pk, "value": 30},
        {"field": species, "entity": other_entity.pk, "value": "hs"},
    ]
    response = user_client.post("/api/annotation_value", items, format="json")
    assert response.status_code == 201, response.json()
    assert [v["value"] for v in response.json()] == ["Valid", 30, "hs"]

    changes = [{"field": age, "entity": entity.pk, "value": 31}, {"field": species, "entity": entity.pk, "value": None}]
    response = user_client.put("/api/annotation_value", changes, format="json")
    assert response.status_code == 201
    assert [v["value"] for v in response.json()] == [31]
    assert services.entity_annotations(entity) == {"general.age": 31}

    duplicate = [changes[0], {**changes[0], "value": 32}]
    response = user_client.put("/api/annotation_value", duplicate, format="json")
    assert response.status_code == 400
    assert response.json() == {"non_field_errors": ["Duplicate annotation values for the same entity and field."]}

    invalid = [
        {"field": age, "entity": entity.pk, "value": 33},
        {"field": species, "entity": entity.pk, "value": "Nope"},
    ]
    assert user_client.post("/api/annotation_value", invalid, format="json").status_code == 400
    assert services.entity_annotations(entity) == {"general.age": 31}


def test_detail_put_patch_delete(user_client, admin, entity, fields):
    services.set_entity_values(entity, {"general.age": 3}, admin)
    value = AnnotationValue.objects.get()
    url = f"/api/annotation_value/{value.pk}"
    response = user_client.put(url, {"value": 4, "entity": 999, "field": 999}, format="json")
    assert response.status_code == 200, response.json()
    assert (response.json()["value"], response.json()["entity"]) == (4, entity.pk)
    response = user_client.patch(url, {"value": 5}, format="json")
    assert response.status_code == 405
    assert response.json() == {"detail": "Partial updates are not supported."}
    assert user_client.get(url).json()["value"] == 4
    assert user_client.delete(url).status_code == 204
    assert AnnotationValue.objects.count() == 0


def test_presets(user_client, anon_client, fields):
    ids = [fields["general.species"].pk, fields["general.age"].pk]
    response = user_client.post("/api/annotation_preset", {"name": "Basic", "fields": ids}, format="json")
    assert response.status_code == 201, response.json()
    preset = response.json()
    assert sorted(preset["fields"]) == sorted(ids) and preset["contributor"]["username"] == "contributor"
    assert set(preset) == {"id", "name", "fields", "contributor", "current_user_permissions"}
    response = user_client.patch(f"/api/annotation_preset/{preset['id']}", {"name": "Renamed"}, format="json")
    assert response.status_code == 200 and response.json()["name"] == "Renamed"
    assert [p["name"] for p in user_client.get("/api/annotation_preset?name__icontains=ren").json()] == ["Renamed"]
    assert anon_client.post("/api/annotation_preset", {"name": "x"}, format="json").status_code == 403
    assert AnnotationPreset.objects.count() == 1
