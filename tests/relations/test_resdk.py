"""Unmodified resdk 22.2.3 against the API served by a live test server: its relation helpers end to end.

The test is transactional (the live server answers from its own threads),
so it cannot rely on rows seeded by migrations: an earlier transactional
test's flush removes them. It seeds the relation types itself.
"""

from __future__ import annotations

import pytest
from django.contrib.auth import get_user_model

from resolwe_prefect.relations.models import Relation, RelationType

resdk = pytest.importorskip("resdk")

pytestmark = pytest.mark.django_db(transaction=True)

#: What migration relations/0002 seeds.
RELATION_TYPES = {"group": False, "series": True, "compare": False, "background": False}


@pytest.fixture
def res(live_server):
    for name, ordered in RELATION_TYPES.items():
        RelationType.objects.get_or_create(name=name, defaults={"ordered": ordered})
    get_user_model().objects.create_user("resdk-user", "resdk@example.com", "resdk-pw")
    client = resdk.Resolwe("resdk-user", "resdk-pw", live_server.url)
    yield client
    # Ends the server's keep-alive request threads, so their database connections close.
    client.session.close()


def test_resdk_relation_helpers(res):
    collection = res.collection.create(name="Relations")
    bg, case, other = (res.sample.create(name=name, collection=collection) for name in ("bg", "case", "other"))

    group = collection.create_group_relation("Replicates", [case, other], labels=["r1", "r2"])
    assert (group.type, group.category, group.collection.id) == ("group", "replicates", collection.id)
    assert [s.id for s in group.samples] == [case.id, other.id]
    series = collection.create_series_relation("Time", [bg, case], positions=[1, 2])
    assert [p["position"] for p in series.partitions] == [1, 2]
    assert sorted(r.id for r in collection.relations) == [group.id, series.id]
    assert sorted(r.id for r in res.sample.get(case.id).relations) == [group.id, series.id]

    # What ``add_sample``/``remove_samples`` send (both crash in resdk 22.2.3 itself *after* saving,
    # on ``BaseField.reset()`` without an instance): the whole list, old partition ids included.
    group.partitions = [p for p in group.partitions if p["entity"] != other.id] + [
        {"entity": bg.id, "position": None, "label": "r0"}
    ]
    group.save()
    group.update()
    assert [(p["entity"], p["label"]) for p in group.partitions] == [(case.id, "r1"), (bg.id, "r0")]

    # The ``background`` setter reads the getter first, which raises when there is none yet (a resdk
    # bug), so the relation is made the way the setter would make it.
    collection.create_background_relation("Background", bg, [case])
    assert res.sample.get(bg.id).is_background
    assert res.sample.get(case.id).background.id == bg.id
    background = res.relation.get(type="background", entity=case.id, label="case")
    assert {p["entity"]: p["label"] for p in background.partitions} == {bg.id: "background", case.id: "case"}
    assert [s.id for s in res.sample.filter(relation_id=background.id, ordering="id")] == [bg.id, case.id]

    series.delete(force=True)
    assert not Relation.objects.filter(pk=series.id).exists()
    assert len(res.relation.filter(collection=collection.id)) == 2
