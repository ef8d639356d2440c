"""The lookup filters (``data_by_slug``, the sample and relation filters) in a rendered template, with the database."""

from __future__ import annotations

import pytest

from resolwe_prefect.annotations.services import define_fields, set_entity_values
from resolwe_prefect.data.expression_filters import acting_as
from resolwe_prefect.data.models import Data
from resolwe_prefect.expressions.configured import configured_engine
from resolwe_prefect.permissions import services as permissions
from resolwe_prefect.relations.models import Relation, RelationPartition, RelationType

from .conftest import make_process


@pytest.fixture
def reads_process(contributor):
    return make_process(contributor, "reads", type="data:reads:fastq:")


def _data(process, user, entity=None, name="reads") -> Data:
    data = Data.objects.create(name=name, contributor=user, process=process, entity=entity)
    permissions.on_created(data)
    return data


def _ref(data: Data) -> dict:
    """A ``data:`` input as the program context hydrates it."""
    return {"__id": data.pk, "__type": data.process.type, "__name": data.name}


def render(template: str, user, **context) -> str:
    with acting_as(user.pk if user else None):
        return configured_engine().evaluate_block(template, context)


def test_sample_filters_read_the_entity_of_a_data_object(contributor, make_entity, reads_process):
    define_fields([{"group": "general", "name": "species", "type": "STRING"}])
    entity = make_entity(name="Patient 7", descriptor={"general": {"species": "Homo sapiens"}})
    set_entity_values(entity, {"general.species": "Homo sapiens"}, contributor)
    reads = _ref(_data(reads_process, contributor, entity))
    template = (
        "{{ reads|sample_name }}|{{ reads|sample_slug }}|{{ reads|sample_id }}|"
        "{{ reads|sample|descriptor('general.species') }}|{{ reads|sample_annotation('general.species') }}"
    )
    assert (
        render(template, contributor, reads=reads) == f"Patient 7|{entity.slug}|{entity.pk}|Homo sapiens|Homo sapiens"
    )


def test_lookups_find_only_what_the_contributor_may_view(contributor, admin, make_entity, reads_process):
    from django.contrib.auth import get_user_model

    stranger = get_user_model().objects.create_user("stranger", "s@example.com", "pw")
    entity = make_entity(name="Private sample")
    data = _data(reads_process, contributor, entity)
    reads = _ref(data)
    # No sample found renders as Resolwe's does (None); a slug not found is undefined.
    assert render("{{ reads|sample_name }}", stranger, reads=reads) == "None"
    assert render(f"{{{{ '{data.slug}'|data_by_slug }}}}", stranger) == ""
    assert render("{{ reads|sample_name }}", None, reads=reads) == "None", "nobody named: nothing is found"
    assert render("{{ reads|sample_name }}", admin, reads=reads) == "Private sample"
    assert render(f"{{{{ '{data.slug}'|data_by_slug }}}}", contributor) == str(data.pk)


def test_a_sample_is_plain_data_not_a_model(contributor, make_entity, reads_process):
    """The sandboxed template cannot walk from the sample to its contributor's account."""
    reads = _ref(_data(reads_process, contributor, make_entity()))
    assert render("{{ (reads|sample).contributor }}", contributor, reads=reads) == ""
    assert render("{{ reads|sample|name }}", contributor, reads=reads) == "Sample"


def _relation(collection, user, type_name: str, category: str, partitions: list[tuple]) -> Relation:
    relation = Relation.objects.create(
        collection=collection, contributor=user, type=RelationType.objects.get(name=type_name), category=category
    )
    for entity, label in partitions:
        RelationPartition.objects.create(relation=relation, entity=entity, label=label)
    return relation


def test_background_pairs_and_replicate_groups(contributor, make_collection, make_entity, reads_process):
    collection = make_collection()
    samples = [make_entity(name=f"S{i}", collection=collection) for i in range(4)]
    data = [_data(reads_process, contributor, sample, name=f"reads {i}") for i, sample in enumerate(samples)]
    _relation(collection, contributor, "background", "Background", [(samples[0], "case"), (samples[1], "background")])
    _relation(collection, contributor, "group", "Replicate", [(samples[0], "A"), (samples[2], "A"), (samples[3], "B")])
    refs = [_ref(d) for d in data]
    pairs = render(
        "{% for case, bg in reads|background_pairs %}{{ case }}:{{ bg }};{% endfor %}", contributor, reads=refs
    )
    ids = [d.pk for d in data]
    expected = sorted([(ids[0], ids[1]), (ids[2], None), (ids[3], None)])
    assert pairs == "".join(f"{case}:{bg if bg else 'None'};" for case, bg in expected)
    assert render("{{ reads|replicate_groups|join(',') }}", contributor, reads=refs) == "1,2,1,3"
    assert render("{{ reads|replicate_groups|join(',') }}", contributor, reads=refs[:1] * 2) == ""
