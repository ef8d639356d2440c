"""Relation filters, the positional ``entity``/``label``/``position`` triples, and ``relation_id`` elsewhere."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from resolwe_prefect.entities.models import Collection
from resolwe_prefect.permissions import services as permissions
from resolwe_prefect.permissions.models import Permission

pytestmark = pytest.mark.django_db


def _ids(client, query: str) -> list[int]:
    response = client.get(f"/api/relation?{query}")
    assert response.status_code == 200, response.json()
    return [relation["id"] for relation in response.json()]


@pytest.fixture
def background(collection, samples, make_relation):
    """samples[0] is the background of the cases samples[1] and samples[2]."""
    partitions = [(samples[0], "background", None), (samples[1], "case", None), (samples[2], "case", None)]
    return make_relation(collection, "background", partitions, "background")


@pytest.fixture
def series(collection, samples, make_relation):
    partitions = [(samples[0], "t", 0), (samples[1], "t", 10)]
    return make_relation(collection, "time", partitions, "series")


def test_simple_filters(viewer_client, collection, background, series, make_relation, make_entity, admin):
    other = Collection.objects.create(name="Other", contributor=admin, tags=["lab:two"])
    permissions.on_created(other)
    permissions.set_permission(other, permissions.PUBLIC, Permission.VIEW)
    elsewhere = make_relation(other, "replicates", [(make_entity("Other sample", other), None, None)])
    assert _ids(viewer_client, "") == [background.pk, series.pk, elsewhere.pk]
    assert _ids(viewer_client, "category=TIME") == [series.pk]
    assert _ids(viewer_client, "type=series") == [series.pk]
    assert _ids(viewer_client, "type=background") == [background.pk]
    assert _ids(viewer_client, f"collection={collection.pk}") == [background.pk, series.pk]
    assert _ids(viewer_client, f"collection__in={other.pk}") == [elsewhere.pk]
    assert _ids(viewer_client, "tags=rna") == [background.pk, series.pk]
    assert _ids(viewer_client, "tags=lab:two") == [elsewhere.pk]
    assert _ids(viewer_client, f"id={series.pk}") == [series.pk]
    assert _ids(viewer_client, f"id__gt={background.pk}&ordering=id") == [series.pk, elsewhere.pk]
    assert _ids(viewer_client, "descriptor_schema=1") == []
    assert _ids(viewer_client, "ordering=-id") == [elsewhere.pk, series.pk, background.pk]
    assert _ids(viewer_client, "ordering=-created") == [elsewhere.pk, series.pk, background.pk]


def test_unknown_parameter_and_ordering(viewer_client, background):
    response = viewer_client.get("/api/relation?sample=1")
    assert response.status_code == 400
    assert response.json()["__all__"][0].startswith("Unsupported parameter(s): sample.")
    response = viewer_client.get("/api/relation?ordering=category")
    assert (response.status_code, response.json()) == (400, {"error": "Ordering by field 'category' is not supported."})


def test_entity_label_and_position_pair_up(viewer_client, samples, background, series):
    bg, case, other_case = samples
    # ``sample.relations`` and ``sample.background`` as resdk queries them.
    assert _ids(viewer_client, f"entity={case.pk}") == [background.pk, series.pk]
    assert _ids(viewer_client, f"entity={other_case.pk}") == [background.pk]
    assert _ids(viewer_client, f"type=background&entity={case.pk}&label=case") == [background.pk]
    assert _ids(viewer_client, f"type=background&entity={bg.pk}&label=case") == []
    # ``case`` is in the relation and so is the label ``background``, but not on the same partition.
    assert _ids(viewer_client, f"entity={case.pk}&label=background") == []
    assert _ids(viewer_client, f"entity={bg.pk}&label=background&entity={case.pk}&label=case") == [background.pk]
    assert _ids(viewer_client, f"entity={bg.pk}&label=case&entity={case.pk}&label=background") == []
    # An empty value leaves that part of the pair open.
    assert _ids(viewer_client, f"entity={bg.pk}&label=&entity={case.pk}&label=case") == [background.pk]
    assert _ids(viewer_client, f"entity={case.pk}&position=10") == [series.pk]
    assert _ids(viewer_client, f"entity={case.pk}&position=0") == []
    assert _ids(viewer_client, f"entity={bg.pk}&label=t&position=0") == [series.pk]


@pytest.mark.parametrize(
    ("query", "parameter"),
    [
        ("entity=1&entity=2&label=case", "label"),
        ("label=case", "label"),
        ("entity=1&position=1&position=2", "position"),
    ],
)
def test_unpaired_values_are_400(viewer_client, background, query, parameter):
    response = viewer_client.get(f"/api/relation?{query}")
    assert response.status_code == 400
    assert response.json() == {
        "detail": f"If `{parameter}` query parameter is given, also `entity` must be given "
        "and they must be of the same length."
    }


def test_non_integer_entity_or_position_is_400(viewer_client, background):
    response = viewer_client.get("/api/relation?entity=abc")
    assert response.status_code == 400
    assert response.json() == {"detail": "Query parameter `entity` must be an integer, got 'abc'."}
    response = viewer_client.get("/api/relation?entity=1&position=x")
    assert response.json() == {"detail": "Query parameter `position` must be an integer, got 'x'."}


@pytest.mark.parametrize("endpoint", ["entity", "sample"])
def test_relation_id_on_entities(endpoint, viewer_client, samples, background, series):
    response = viewer_client.get(f"/api/{endpoint}?relation_id={series.pk}")
    assert response.status_code == 200
    assert [e["id"] for e in response.json()] == [samples[0].pk, samples[1].pk]
    assert len(viewer_client.get(f"/api/{endpoint}?relation_id={background.pk}").json()) == 3


def test_relation_id_on_data(viewer_client, admin, collection, samples, series, make_data):
    first = make_data(entity=samples[0], collection=collection)
    second = make_data(entity=samples[1], collection=collection)
    make_data(entity=samples[2], collection=collection)
    make_data(collection=collection)  # no entity, so in no relation
    for data in (first, second):
        permissions.on_created(data)
    response = viewer_client.get(f"/api/data?relation_id={series.pk}&ordering=id")
    assert response.status_code == 200
    assert [d["id"] for d in response.json()] == [first.pk, second.pk]


def _queries(client, url: str, expected: int) -> int:
    with CaptureQueriesContext(connection) as captured:
        response = client.get(url)
    assert response.status_code == 200
    assert len(response.json()["results"]) == expected
    return len(captured)


def test_list_query_count_does_not_grow_with_page_size(viewer_client, collection, make_entity, make_relation):
    for index in range(12):
        members = [make_entity(f"S{index}-{n}", collection) for n in range(2)]
        make_relation(collection, f"cat-{index}", [(members[0], "a", None), (members[1], "b", 1)])
    assert _queries(viewer_client, "/api/relation?limit=2", 2) == _queries(viewer_client, "/api/relation?limit=50", 12)
