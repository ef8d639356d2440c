"""Template filters that look objects up: Resolwe's ``data_by_slug``, and the sample and relation filters
that resolwe-bio's processes use (``sample``, ``sample_id``, ``sample_name``, ``sample_slug``,
``sample_annotation``, ``background_pairs``, ``replicate_groups``; in Resolwe an Entity is the sample).

Every engine loads this module before a site's own ``FLOW_EXPRESSION_ENGINES`` custom filters
(``expressions.configured``), which may override any name. A filter only finds what the Data
object's contributor may view: whoever renders names the contributor with :func:`acting_as`
(the flow run does, for the program); with no one named, lookups find nothing and the value is
undefined, as a failing filter is in Resolwe. Values are plain data (ids, names, dicts with the
hydrated ``__`` keys the built-in filters read), never model objects, so the sandboxed template
cannot walk from a sample to its contributor's account.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any

from django.contrib.auth import get_user_model
from django.db.models import QuerySet

from resolwe_prefect.annotations.services import entity_annotations
from resolwe_prefect.data.models import Data
from resolwe_prefect.entities.models import Entity
from resolwe_prefect.expressions.filters import id_, type_
from resolwe_prefect.permissions import services as permissions
from resolwe_prefect.relations.models import Relation, RelationPartition

_viewer: ContextVar[int | None] = ContextVar("expression_filter_viewer", default=None)


@contextmanager
def acting_as(user_id: int | None) -> Iterator[None]:
    """Let the filters look up what ``user_id`` may view while the block renders."""
    token = _viewer.set(user_id)
    try:
        yield
    finally:
        _viewer.reset(token)


def _visible(queryset: QuerySet, field: str = "permission_group") -> QuerySet:
    user_id = _viewer.get()
    user = get_user_model().objects.filter(pk=user_id).first() if user_id is not None else None
    if user is None:
        return queryset.none()
    return permissions.filter_for_user(queryset, user, field=field)


def _data_id(data: Any) -> int:
    """The id of a hydrated ``data:`` value (``__id``) or of a plain id."""
    if isinstance(data, dict):
        return int(data["__id"])
    if isinstance(data, int) and not isinstance(data, bool):
        return data
    raise TypeError("Expected a Data object reference.")


def data_by_slug(slug: str) -> int:
    """Resolwe's ``data_by_slug``: the id of the Data object with this slug."""
    found = _visible(Data.objects.filter(slug=slug)).values_list("pk", flat=True).first()
    if found is None:
        raise LookupError(f"No Data object with slug {slug!r}.")
    return found


def _sample(data: Any) -> Entity | None:
    return _visible(Entity.objects.filter(data__pk=_data_id(data))).first()


def sample(data: Any) -> dict[str, Any] | None:
    """The sample (Entity) of a Data object, as a reference the ``name``/``id``/``descriptor`` filters read."""
    entity = _sample(data)
    if entity is None:
        return None
    return {
        "__id": entity.pk,
        "__name": entity.name,
        "__slug": entity.slug,
        "__descriptor": entity.descriptor,
        "__type": entity.type,
    }


def sample_id(data: Any) -> int | None:
    """The id of the sample a Data object belongs to."""
    entity = _sample(data)
    return entity.pk if entity else None


def sample_name(data: Any) -> str | None:
    """The name of the sample a Data object belongs to."""
    entity = _sample(data)
    return entity.name if entity else None


def sample_slug(data: Any) -> str | None:
    """The slug of the sample a Data object belongs to."""
    entity = _sample(data)
    return entity.slug if entity else None


def sample_annotation(data: Any, annotation_path: str) -> Any:
    """The value of annotation ``group.field`` on the sample a Data object belongs to."""
    entity = _sample(data)
    return entity_annotations(entity).get(annotation_path) if entity else None


def _relations() -> QuerySet:
    return _visible(Relation.objects.all(), field="collection__permission_group")


def background_pairs(data: Any) -> list[tuple[int, int | None]]:
    """``(case, background)`` pairs of Data ids from the samples' ``background`` relations.

    Data objects of the same process type whose samples are the case and the background partitions
    of one relation pair up; a case without a background pairs with ``None``.
    """
    if not isinstance(data, list):
        raise ValueError("Argument data must be a list")
    if not data:
        return []
    data_types = {type_(item) for item in data}
    if len(data_types) != 1:
        raise ValueError("All data must be of the same type")
    data_ids = [id_(item) for item in data]
    rows = RelationPartition.objects.filter(
        relation__in=_relations(),
        label="background",
        relation__type__name="background",
        entity__data__process__type=data_types.pop(),
        relation__partitions__label="case",
        relation__partitions__entity__data__in=data_ids,
    ).values_list("relation__partitions__entity__data", "entity__data")
    pairs: list[tuple[int, int | None]] = []
    seen: set[int] = set()
    for case, background in rows:
        pairs.append((case, background))
        seen.update((case, background))
    pairs += [(case, None) for case in set(data_ids) - seen]
    return sorted(pairs, key=lambda pair: (pair[0], pair[1] is not None, pair[1] or 0))


def replicate_groups(data: Any) -> list[int]:
    """Replicate group numbers (1, 2, ...) of the Data objects, in their order, from ``group`` relations
    of category ``replicate``; a sample outside every group is a group of its own."""
    if not isinstance(data, list):
        raise ValueError("List of data must be given")
    data_ids = [id_(item) for item in data]
    if len(data_ids) != len(set(data_ids)):
        raise ValueError("Repeated data objects not allowed")
    samples = _visible(Entity.objects.all())
    sample_of = dict(Data.objects.filter(pk__in=data_ids, entity__in=samples).values_list("pk", "entity_id"))
    if len(sample_of) != len(data_ids):
        raise ValueError("Can not get replicates of data without sample")
    partitions = RelationPartition.objects.filter(
        relation__in=_relations(),
        relation__category__iexact="replicate",
        relation__type__name="group",
        entity__in=set(sample_of.values()),
    ).values_list("entity_id", "label")
    label_of: dict[int, str | None] = {}
    for entity_id, label in partitions:
        if entity_id in label_of:
            raise ValueError(f"More than one replicate relation on sample: {entity_id}")
        label_of[entity_id] = label
    numbers: dict[Any, int] = {}
    groups = []
    for data_id in data_ids:
        entity_id = sample_of[data_id]
        key = ("label", label_of[entity_id]) if entity_id in label_of else ("alone", data_id)
        groups.append(numbers.setdefault(key, len(numbers) + 1))
    return groups


filters = {
    "data_by_slug": data_by_slug,
    "sample": sample,
    "sample_id": sample_id,
    "sample_name": sample_name,
    "sample_slug": sample_slug,
    "sample_annotation": sample_annotation,
    "background_pairs": background_pairs,
    "replicate_groups": replicate_groups,
}
