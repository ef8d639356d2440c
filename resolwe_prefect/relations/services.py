"""Writing partitions and matching relations by their partitions.

resdk finds a sample's background with ``entity=<id>&label=case``: each
(entity, label, position) triple must hold for *one* partition, so the
triples are matched with one ``EXISTS`` each instead of independent joins.
"""

from __future__ import annotations

from itertools import zip_longest

from django.db import transaction
from django.db.models import Exists, OuterRef, QuerySet
from rest_framework.exceptions import ParseError

from resolwe_prefect.api.fields import parse_pk

from .models import Relation, RelationPartition

#: The repeatable query parameters that pair up with ``entity`` by position.
PAIRED_PARAMETERS = ("label", "position")


@transaction.atomic
def replace_partitions(relation: Relation, partitions: list[dict]) -> None:
    """Resolwe replaces a relation's partitions wholesale: the request lists every member."""
    relation.partitions.all().delete()
    RelationPartition.objects.bulk_create(
        [
            RelationPartition(
                relation=relation,
                entity=partition["entity"],
                label=partition.get("label"),
                position=partition.get("position"),
            )
            for partition in partitions
        ]
    )


def _integer(parameter: str, value: str) -> int:
    """A query parameter's integer; ``9999999999999999999999`` overflowed the query, ``"²"`` broke ``int``."""
    number = parse_pk(value) if value != "0" else 0
    if number is None:
        raise ParseError(f"Query parameter `{parameter}` must be an integer, got '{value[:40]}'.")
    return number


def filter_by_partitions(queryset: QuerySet, entities: list[str], labels: list[str], positions: list[str]) -> QuerySet:
    """Relations with, for every ``entity[i]``, a partition that also has ``label[i]`` and ``position[i]``.

    ``label`` and ``position`` pair up with ``entity`` in order, so when given
    they must be repeated as often as ``entity`` (400 otherwise). An empty
    value (``label=``) leaves that part of the triple unconstrained.
    """
    for name, values in zip(PAIRED_PARAMETERS, (labels, positions), strict=True):
        if values and len(values) != len(entities):
            raise ParseError(
                f"If `{name}` query parameter is given, also `entity` must be given "
                f"and they must be of the same length."
            )
    if any("\x00" in label for label in labels):
        raise ParseError("Query parameter `label` must not contain NUL characters.")
    for entity, label, position in zip_longest(entities, labels, positions):
        partitions = RelationPartition.objects.filter(relation=OuterRef("pk"), entity_id=_integer("entity", entity))
        if label:
            partitions = partitions.filter(label=label)
        if position:
            partitions = partitions.filter(position=_integer("position", position))
        queryset = queryset.filter(Exists(partitions))
    return queryset
