"""Duplicating Data (Resolwe's ``bulk_duplicate``), run as a background task, alone or with its containers.

A copy follows every copy's rules (``entities.duplication``: its
original's name, content and ``created``, a new slug, the caller as
contributor, ``duplicated = now``) and gets its own files and storages.
Inputs that point to Data copied in the same operation are rewired to the
copies, and each copy gets a ``duplicate`` dependency on its original so
its source stays known. When collections or entities are duplicated, their
Data is copied into the copies (``connect``).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.contrib.auth import get_user_model
from django.utils import timezone

from resolwe_prefect.entities.duplication import DuplicateError, fresh_copy, place_copy, require_edit
from resolwe_prefect.entities.models import Collection, Entity
from resolwe_prefect.entities.signals import containers_duplicated
from resolwe_prefect.schema.walk import FieldVisit, Schema, map_fields

from .files import copy_data_dir, remove_data_dirs
from .models import Data, DataDependency, DataStatus, Storage

DUPLICABLE_STATUSES = (DataStatus.DONE, DataStatus.ERROR)


def _rewire(values: Any, schema: Schema, mapping: dict[int, int], prefixes: tuple[str, str]) -> Any:
    """Replace the ids in fields whose type starts with ``prefixes`` (single, list) by their copies."""
    if not isinstance(values, dict):
        return values
    single, many = prefixes

    def rewired(visit: FieldVisit) -> Any:
        value = visit.value
        if visit.type.startswith(single) and isinstance(value, int):
            return mapping.get(value, value)
        if visit.type.startswith(many) and isinstance(value, list):
            return [mapping.get(v, v) if isinstance(v, int) else v for v in value]
        return value

    return map_fields(values, schema, rewired)


#: ``(original id, copy id)`` callables that give a copy the files its original keeps other than on the
#: local disk (the storage app's object storage); they raise :class:`DuplicateError` when they cannot.
FILES_ELSEWHERE_COPIERS: list[Callable[[int, int], None]] = []


def _copy_storages(pairs: list[tuple[Data, Data]], user) -> None:
    """Each copy gets its own Storage rows, and its ``basic:json:`` outputs point to them."""
    copied: dict[int, Storage] = {}
    for old, new in pairs:
        mapping: dict[int, int] = {}
        for storage in old.storages.all():
            if storage.pk not in copied:
                copied[storage.pk] = Storage.objects.create(name=storage.name, contributor=user, json=storage.json)
            copied[storage.pk].data.add(new)
            mapping[storage.pk] = copied[storage.pk].pk
        if mapping:
            new.output = _rewire(new.output, new.process.output_schema, mapping, ("basic:json:", "list:basic:json:"))
            Data.objects.filter(pk=new.pk).update(output=new.output)


def _copy_data(
    originals: list[Data],
    user,
    now,
    *,
    collections: dict[int, Collection],
    entities: dict[int, Entity],
    keep_collection: bool,
    keep_entity: bool,
) -> list[Data]:
    """Copy Data rows, their files, storages and dependencies; containers are mapped or kept as asked."""
    not_final = [d.pk for d in originals if d.status not in DUPLICABLE_STATUSES]
    if not_final:
        ids = ", ".join(map(str, sorted(not_final)))
        raise DuplicateError(f"Data object must have done or error status to be duplicated (ids: {ids}).")
    kept = [
        d.collection for d in originals if keep_collection and d.collection_id and d.collection_id not in collections
    ]
    kept += [d.entity for d in originals if keep_entity and d.entity_id and d.entity_id not in entities]
    require_edit(user, kept)

    pairs: list[tuple[Data, Data]] = []
    try:
        for old in originals:
            collection = collections.get(old.collection_id, old.collection if keep_collection else None)
            entity = entities.get(old.entity_id, old.entity if keep_entity else None)
            if entity is not None and entity.collection_id is not None:
                collection = entity.collection  # an entity's Data live in the entity's collection
            new = fresh_copy(old, user, now, collection=collection, entity=entity, flow_run_id=None)
            pairs.append((old, new))
            if not copy_data_dir(old.pk, new.pk):
                for copy_elsewhere in FILES_ELSEWHERE_COPIERS:
                    copy_elsewhere(old.pk, new.pk)
        mapping = {old.pk: new.pk for old, new in pairs}
        for old, new in pairs:
            new.input = _rewire(old.input, old.process.input_schema, mapping, ("data:", "list:data:"))
            Data.objects.filter(pk=new.pk).update(input=new.input)
            place_copy(new, old, user)
        _copy_storages(pairs, user)
        _copy_dependencies(mapping)
    except Exception:
        remove_data_dirs(new.pk for _, new in pairs)  # the rows roll back with the task; the files must go too
        raise
    return [new for _, new in pairs]


def _copy_dependencies(mapping: dict[int, int]) -> None:
    """Copy the originals' input and spawn links (rewired to copies), and link each copy to its original."""
    links = DataDependency.objects.filter(
        child_id__in=list(mapping), kind__in=[DataDependency.KIND_IO, DataDependency.KIND_SUBPROCESS]
    )
    DataDependency.objects.bulk_create(
        [
            DataDependency(
                parent_id=mapping.get(link.parent_id, link.parent_id), child_id=mapping[link.child_id], kind=link.kind
            )
            for link in links
        ]
        + [
            DataDependency(parent_id=old, child_id=new, kind=DataDependency.KIND_DUPLICATE)
            for old, new in mapping.items()
        ]
    )


def _data_queryset():
    return Data.objects.select_related("process", "collection", "entity", "entity__collection").order_by("id")


def duplicate_data(
    data_ids: list[int], user_id: int, *, inherit_collection: bool = False, inherit_entity: bool = False
) -> list[int]:
    """Copy Data objects; the copies are top-level unless they should stay in the originals' containers."""
    user = get_user_model().objects.get(pk=user_id)
    originals = list(_data_queryset().filter(pk__in=data_ids))
    copies = _copy_data(
        originals, user, timezone.now(), collections={}, entities={},
        keep_collection=inherit_collection, keep_entity=inherit_entity,
    )  # fmt: skip
    return [new.pk for new in copies]


def _copy_data_of_entities(sender, *, user, now, entities: dict[int, Entity], **kwargs) -> None:
    """An entity's Data goes into the entity's copy (and the copy's collection, if any)."""
    data = list(_data_queryset().filter(entity_id__in=list(entities)))
    _copy_data(data, user, now, collections={}, entities=entities, keep_collection=False, keep_entity=True)


def _copy_data_of_collections(
    sender, *, user, now, collections: dict[int, Collection], entities: dict[int, Entity], **kwargs
) -> None:
    """A collection's Data goes into the collection's copy, and into the copies of its entities."""
    data = list(_data_queryset().filter(collection_id__in=list(collections)))
    _copy_data(data, user, now, collections=collections, entities=entities, keep_collection=True, keep_entity=True)


def connect() -> None:
    """Copy the Data of collections and entities that are duplicated (``DataConfig.ready``)."""
    containers_duplicated.connect(_copy_data_of_entities, sender=Entity, dispatch_uid=f"{__name__}.entities")
    containers_duplicated.connect(_copy_data_of_collections, sender=Collection, dispatch_uid=f"{__name__}.collections")
