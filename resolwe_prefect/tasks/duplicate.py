"""Duplicating Data, Entities and Collections (Resolwe's ``bulk_duplicate``), run as a background task.

A copy keeps its original's name, content and ``created``; it gets a new
slug, the caller as contributor, ``duplicated = now`` and its own files.
Copies of containers take copies of their contents; inputs that point to
Data copied in the same operation are rewired to the copies, and each copy
gets a ``duplicate`` dependency on its original so its source stays known.
"""

from __future__ import annotations

import copy
from collections.abc import Iterable
from typing import Any

from django.contrib.auth import get_user_model
from django.db import models
from django.utils import timezone

from resolwe_prefect.annotations.models import AnnotationValue
from resolwe_prefect.data.models import Data, DataDependency, DataStatus, Storage
from resolwe_prefect.entities.models import Collection, Entity
from resolwe_prefect.permissions import services as permissions
from resolwe_prefect.permissions.models import Permission
from resolwe_prefect.schema.walk import FieldVisit, Schema, map_fields

from .files import copy_data_dir, remove_data_dirs

DUPLICABLE_STATUSES = (DataStatus.DONE, DataStatus.ERROR)


class DuplicateError(ValueError):
    """The operation cannot be done as asked; the message becomes the task's output."""


def _fresh_copy(obj: models.Model, user, now, **changes: Any) -> models.Model:
    """Save a copy of ``obj`` as a new row: new slug, ``user`` as contributor, no permission group yet."""
    new = copy.deepcopy(obj)
    new.pk = None
    new._state.adding = True
    new._prefetched_objects_cache = {}
    new.slug = ""
    new.contributor = user
    new.permission_group = None
    new.duplicated = now
    for name, value in changes.items():
        setattr(new, name, value)
    new.save()
    type(obj).objects.filter(pk=new.pk).update(created=obj.created)  # Resolwe keeps the original date
    return new


def _place(new: models.Model, old: models.Model, user) -> None:
    """Inside a container the copy shares its group; a top-level copy gets the original's permissions plus the caller as owner."""
    if permissions.container_of(new) is not None:
        permissions.on_created(new)
    else:
        permissions.on_created(new, copy_from=old)
        permissions.assign_owner(new, user)


def _require_edit(user, containers: Iterable[models.Model]) -> None:
    """Keeping a copy in an original container means adding to it, which needs EDIT."""
    for container in {(type(c), c.pk): c for c in containers}.values():
        if permissions.user_level(user, container) < Permission.EDIT:
            kind = container._meta.verbose_name
            raise DuplicateError(f"No edit permission on {kind} {container.pk} to add the copies to it.")


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
    _require_edit(user, kept)

    pairs: list[tuple[Data, Data]] = []
    try:
        for old in originals:
            collection = collections.get(old.collection_id, old.collection if keep_collection else None)
            entity = entities.get(old.entity_id, old.entity if keep_entity else None)
            if entity is not None and entity.collection_id is not None:
                collection = entity.collection  # an entity's Data live in the entity's collection
            new = _fresh_copy(old, user, now, collection=collection, entity=entity, flow_run_id=None)
            pairs.append((old, new))
            copy_data_dir(old.pk, new.pk)
        mapping = {old.pk: new.pk for old, new in pairs}
        for old, new in pairs:
            new.input = _rewire(old.input, old.process.input_schema, mapping, ("data:", "list:data:"))
            Data.objects.filter(pk=new.pk).update(input=new.input)
            _place(new, old, user)
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


def _copy_entities(originals: list[Entity], user, now, *, collections: dict[int, Collection], keep_collection: bool):
    """Copy Entity rows and their annotations; returns ``{old id: copy}``."""
    if keep_collection:
        _require_edit(user, [e.collection for e in originals if e.collection_id and e.collection_id not in collections])
    copies: dict[int, Entity] = {}
    for old in originals:
        collection = collections.get(old.collection_id, old.collection if keep_collection else None)
        new = _fresh_copy(old, user, now, collection=collection)
        _place(new, old, user)
        copies[old.pk] = new
    AnnotationValue.objects.bulk_create(
        [
            AnnotationValue(
                entity=copies[value.entity_id], field_id=value.field_id, _value=value._value, contributor=user
            )
            for value in AnnotationValue.objects.filter(entity_id__in=list(copies)).order_by("id")
        ]
    )
    return copies


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


def duplicate_entities(entity_ids: list[int], user_id: int, *, inherit_collection: bool = False) -> list[int]:
    """Copy entities with their Data; the copies leave the collection unless ``inherit_collection``."""
    user = get_user_model().objects.get(pk=user_id)
    now = timezone.now()
    originals = list(Entity.objects.select_related("collection").filter(pk__in=entity_ids).order_by("id"))
    entities = _copy_entities(originals, user, now, collections={}, keep_collection=inherit_collection)
    data = list(_data_queryset().filter(entity_id__in=list(entities)))
    _copy_data(data, user, now, collections={}, entities=entities, keep_collection=False, keep_entity=True)
    return [entities[old.pk].pk for old in originals]


def duplicate_collections(collection_ids: list[int], user_id: int) -> list[int]:
    """Copy collections with their entities, Data and annotation fields."""
    user = get_user_model().objects.get(pk=user_id)
    now = timezone.now()
    originals = list(Collection.objects.filter(pk__in=collection_ids).order_by("id"))
    collections: dict[int, Collection] = {}
    for old in originals:
        new = _fresh_copy(old, user, now)
        _place(new, old, user)
        new.annotation_fields.set(old.annotation_fields.all())
        collections[old.pk] = new
    entities = _copy_entities(
        list(Entity.objects.select_related("collection").filter(collection_id__in=list(collections)).order_by("id")),
        user, now, collections=collections, keep_collection=True,
    )  # fmt: skip
    data = list(_data_queryset().filter(collection_id__in=list(collections)))
    _copy_data(data, user, now, collections=collections, entities=entities, keep_collection=True, keep_entity=True)
    return [collections[old.pk].pk for old in originals]
