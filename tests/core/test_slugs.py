"""Slugs: Resolwe's ``-N`` suffixes, found with one query, and safe when two writers race."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from resolwe_prefect.core import models as core_models
from resolwe_prefect.entities.models import Collection

pytestmark = pytest.mark.django_db


def test_same_names_get_increasing_suffixes(contributor):
    slugs = [Collection.objects.create(name="Reads", contributor=contributor).slug for _ in range(4)]
    assert slugs == ["reads", "reads-2", "reads-3", "reads-4"]


def test_suffix_follows_the_highest_in_use(contributor):
    """Like Resolwe: one more than the highest suffix, so a deleted sibling's slug is not handed out again."""
    for _ in range(3):
        Collection.objects.create(name="Reads", contributor=contributor)
    Collection.objects.get(slug="reads-2").delete()
    Collection.objects.create(name="Reads 12", contributor=contributor)  # "reads-12" is a different name's slug
    assert Collection.objects.create(name="Reads", contributor=contributor).slug == "reads-13"


def test_cost_does_not_grow_with_siblings(contributor):
    """Two queries to pick a slug whether there are 2 or 200 same-named objects."""
    counts = []
    for total in (2, 200):
        Collection.objects.bulk_create(
            [
                Collection(name="Many", slug=f"many-{i}" if i > 1 else "many", contributor=contributor)
                for i in range(1, total + 1)
            ]
        )
        with CaptureQueriesContext(connection) as queries:
            core_models.unique_slug(Collection, "Many")
        counts.append(len(queries))
        Collection.objects.filter(name="Many").delete()
    assert counts[0] == counts[1] == 2


def test_a_lost_race_takes_the_next_slug(contributor, monkeypatch):
    """A concurrent writer took the slug between our lookup and our insert: retry instead of a 409."""
    Collection.objects.create(name="Race", contributor=contributor)
    calls = []
    real = core_models.unique_slug

    def stale_first(model, base, **kwargs):
        calls.append(base)
        return "race" if len(calls) == 1 else real(model, base, **kwargs)

    monkeypatch.setattr(core_models, "unique_slug", stale_first)
    created = Collection.objects.create(name="Race", contributor=contributor)
    assert created.slug == "race-2" and len(calls) == 2
