"""Hostile request bodies and query strings: every one is a 4xx naming the field, never a 500 (issue 14, finding 8).

Before the fix each of these either answered 500 (RecursionError, a lone
surrogate or a NUL reaching PostgreSQL, ``int("abc")``, ids past ``bigint``)
or stored a value of the wrong type that resdk then failed to load.
"""

from __future__ import annotations

import json

import pytest
from django.db import DataError
from rest_framework.test import APIClient

from resolwe_prefect.api.exceptions import exception_handler
from resolwe_prefect.data.models import Data
from resolwe_prefect.entities.models import Collection, Entity
from resolwe_prefect.permissions import services as permissions
from resolwe_prefect.permissions.models import Permission

pytestmark = pytest.mark.django_db

HUGE = 2**70
HUGE_TEXT = "99999999999999999999"


@pytest.fixture
def client(user_client) -> APIClient:
    user_client.raise_request_exception = False  # a 500 must show as a 500, not as the test's exception
    return user_client


@pytest.fixture
def runnable(process, monkeypatch):
    """``test-min``, visible to everyone; processing is not requested."""
    from resolwe_prefect.data import lifecycle

    monkeypatch.setattr(lifecycle, "request_processing", lambda ids: None)
    permissions.set_permission(process, permissions.PUBLIC, Permission.VIEW)
    return process


@pytest.fixture
def mine(make_collection, make_entity):
    collection = make_collection()
    return collection, make_entity(collection=collection)


def raw_post(client, url: str, text: str):
    return client.post(url, text, content_type="application/json")


@pytest.mark.parametrize(
    "text, problem",
    [
        ("[" * 100_000 + "]" * 100_000, "nested deeper"),
        ("[" * 101 + "]" * 101, "nested deeper"),
        ('{"name": "\\ud800", "process": {"slug": "test-min"}}', "lone surrogates"),
        ('{"name": "a\\u0000b", "process": {"slug": "test-min"}}', "NUL"),
        ('{"settings": {"\\u0000": 1}, "name": "x"}', "NUL"),
        ('{"name": NaN}', "NaN"),
        ('{"name": 1' + "0" * 5000 + "}", "JSON parse error"),
    ],
)
@pytest.mark.parametrize("url", ["/api/data", "/api/collection"])
def test_unparsable_json_is_400_at_parse_time(client, runnable, url, text, problem):
    response = raw_post(client, url, text)
    assert response.status_code == 400
    detail = response.json()["detail"]
    assert detail.startswith("JSON parse error - ") and problem in detail
    assert not Data.objects.exists() and not Collection.objects.exists()


def test_nesting_within_the_limit_still_parses(client, runnable):
    descriptor = json.loads("[" * 90 + "]" * 90)
    response = client.post("/api/collection", {"name": "deep", "settings": {"a": descriptor}}, format="json")
    assert response.status_code == 201


@pytest.mark.parametrize(
    "body, field",
    [
        ({"process": {"id": "abc"}}, "process"),
        ({"process": {"id": HUGE}}, "process"),
        ({"process": {"id": int(HUGE_TEXT)}}, "process"),
        ({"process": {"slug": {"a": 1}}}, "process"),
        ({"process": {"slug": "test-min"}, "descriptor_schema": {"id": "x"}}, "descriptor_schema"),
        ({"process": {"slug": "test-min"}, "descriptor_schema": {"id": HUGE}}, "descriptor_schema"),
        ({"process": {"slug": "test-min"}, "descriptor_schema": ["x"]}, "descriptor_schema"),
        ({"process": {"slug": "test-min"}, "collection": {"id": HUGE}}, "collection"),
        ({"process": {"slug": "test-min"}, "collection": {"id": "²"}}, "collection"),
        ({"process": {"slug": "test-min"}, "collection": {"slug": ["x"]}}, "collection"),
        ({"process": {"slug": "test-min"}, "entity": int(HUGE_TEXT)}, "entity"),
        ({"process": {"slug": "test-min"}, "name": 12345}, "name"),
        ({"process": {"slug": "test-min"}, "name": {"a": 1}}, "name"),
        ({"process": {"slug": "test-min"}, "tags": 123}, "tags"),
        ({"process": {"slug": "test-min"}, "tags": "abc"}, "tags"),
        ({"process": {"slug": "test-min"}, "tags": [{"a": 1}]}, "tags"),
        ({"process": {"slug": "test-min"}, "descriptor": "abc"}, "descriptor"),
    ],
)
def test_data_creation_refuses_wrong_types(client, runnable, body, field):
    response = client.post("/api/data", body, format="json")
    assert response.status_code == 400, response.content
    assert field in response.json()
    assert not Data.objects.exists()


@pytest.mark.parametrize(
    "body, field",
    [
        ({"name": 12345}, "name"),
        ({"name": {"a": 1}}, "name"),
        ({"slug": 5}, "slug"),
        ({"description": 7}, "description"),
        ({"tags": "abc"}, "tags"),
        ({"tags": 123}, "tags"),
        ({"tags": [1, 2]}, "tags"),
        ({"settings": "x"}, "settings"),
        ({"settings": [1]}, "settings"),
        ({"descriptor": "x"}, "descriptor"),
        ({"descriptor_schema": {"id": "x"}}, "descriptor_schema"),
        ({"descriptor_schema": {"id": HUGE}}, "descriptor_schema"),
        ({"descriptor_schema": "²"}, "descriptor_schema"),
        ({"descriptor_schema": {"slug": 5}}, "descriptor_schema"),
    ],
)
@pytest.mark.parametrize("resource", ["collection", "entity"])
def test_collections_and_entities_refuse_wrong_types(client, mine, resource, body, field):
    collection, entity = mine
    target = collection if resource == "collection" else entity
    before = {"name": target.name, "tags": target.tags, "settings": target.settings, "descriptor": target.descriptor}
    patched = client.patch(f"/api/{resource}/{target.pk}", body, format="json")
    assert patched.status_code == 400 and field in patched.json(), patched.content
    target.refresh_from_db()
    assert {
        "name": target.name,
        "tags": target.tags,
        "settings": target.settings,
        "descriptor": target.descriptor,
    } == before
    created = client.post(f"/api/{resource}", {"name": "new", **body}, format="json")
    assert created.status_code == 400 and field in created.json(), created.content


def test_entity_collection_beyond_bigint(client, mine):
    _, entity = mine
    for value in ({"id": HUGE}, HUGE, {"id": "²"}):
        response = client.patch(f"/api/entity/{entity.pk}", {"collection": value}, format="json")
        assert response.status_code == 400 and "collection" in response.json()


def test_data_patch_refuses_wrong_types(client, make_data, contributor):
    data = make_data(contributor=contributor, tags=["a"])
    permissions.on_created(data)
    for body, field in [({"name": 1}, "name"), ({"tags": "abc"}, "tags"), ({"descriptor": "x"}, "descriptor"),
                        ({"process_resources": "x"}, "process_resources"), ({"collection": {"id": HUGE}}, "collection")]:  # fmt: skip
        response = client.patch(f"/api/data/{data.pk}", body, format="json")
        assert response.status_code == 400 and field in response.json(), (body, response.content)
    data.refresh_from_db()
    assert (data.name, data.tags) == ("Data", ["a"])


def test_relations_refuse_wrong_types(client, mine):
    collection, entity = mine
    base = {
        "type": "group",
        "collection": {"id": collection.pk},
        "category": "reps",
        "partitions": [{"entity": entity.pk}],
    }
    from resolwe_prefect.relations.models import RelationType

    RelationType.objects.get_or_create(name="group")
    for change, field in [({"category": 5}, "category"), ({"partitions": [{"entity": entity.pk, "label": 3}]}, "partitions"),
                          ({"partitions": [{"entity": HUGE}]}, "partitions"), ({"partitions": [{"entity": "²"}]}, "partitions"),
                          ({"partitions": [{"entity": entity.pk, "position": HUGE}]}, "partitions"),
                          ({"collection": {"id": HUGE}}, "collection"), ({"descriptor": "x"}, "descriptor")]:  # fmt: skip
        response = client.post("/api/relation", {**base, **change}, format="json")
        assert response.status_code == 400 and field in response.json(), (change, response.content)


def test_set_annotations_refuses_wrong_types(client, mine):
    _, entity = mine
    response = client.post(f"/api/entity/{entity.pk}/set_annotations", [{"field_path": 5, "value": 1}], format="json")
    assert response.status_code == 400


@pytest.mark.parametrize(
    "query",
    [
        f"/api/data?id={HUGE_TEXT}", f"/api/data?id__in=1,{HUGE_TEXT}", f"/api/data?id__gt=-{HUGE_TEXT}",
        f"/api/data?entity__in=1,{HUGE_TEXT}", f"/api/data?size__gt={HUGE_TEXT}", f"/api/data?owners={HUGE_TEXT}",
        f"/api/data?relation_id={HUGE_TEXT}", f"/api/collection?id={HUGE_TEXT}", f"/api/collection?entity_count={HUGE_TEXT}",
        f"/api/collection?descriptor_schema={HUGE_TEXT}", f"/api/entity?collection={HUGE_TEXT}",
        f"/api/relation?entity={HUGE_TEXT}", "/api/relation?entity=²", f"/api/annotation_value?entity={HUGE_TEXT}",
        f"/api/annotation_field?collection={HUGE_TEXT}", f"/api/user?id={HUGE_TEXT}", f"/api/user?groups={HUGE_TEXT}",
        f"/api/process?id={HUGE_TEXT}", f"/api/descriptorschema?id={HUGE_TEXT}", f"/api/group?id={HUGE_TEXT}",
        "/api/data?status__in=OK,%00", "/api/data?name=a%00b", "/api/relation?entity=1&label=%00",
    ],
)  # fmt: skip
def test_list_filters_beyond_the_database_range_are_400(client, query):
    response = client.get(query)
    assert response.status_code == 400, response.content
    assert isinstance(response.json(), dict)


@pytest.mark.parametrize("query", [f"limit={HUGE_TEXT}", f"limit=5&offset={HUGE_TEXT}"])
def test_pagination_beyond_the_database_range(client, query):
    response = client.get(f"/api/collection?{query}")
    assert response.status_code == 200 and "results" in response.json()


@pytest.mark.parametrize(
    "exc, status",
    [(RecursionError(), 400), (OverflowError(), 400), (DataError("integer out of range"), 400),
     (ValueError("A string literal cannot contain NUL (0x00) characters."), 400), ("\ud800", 400)],
)  # fmt: skip
def test_exception_handler_safety_net(exc, status):
    if isinstance(exc, str):
        try:
            exc.encode("utf-8")
        except UnicodeEncodeError as error:
            exc = error
    response = exception_handler(exc, {})
    assert response is not None and response.status_code == status and "detail" in response.data
    assert "integer" not in str(response.data)  # no SQL or database wording is echoed


def test_unrelated_errors_stay_server_errors():
    assert exception_handler(KeyError("x"), {}) is None
    assert exception_handler(ValueError("bug"), {}) is None


@pytest.mark.parametrize("model", [Collection, Entity])
def test_stored_shapes_are_what_resdk_loads(client, model):
    """A valid write still stores lists and objects (the fields only refuse, they never reshape)."""
    resource = "collection" if model is Collection else "entity"
    response = client.post(f"/api/{resource}", {"name": "ok", "tags": ["a", "b"], "settings": {"k": 1}}, format="json")
    assert response.status_code == 201
    obj = model.objects.get(pk=response.json()["id"])
    assert (obj.tags, obj.settings) == (["a", "b"], {"k": 1})
