"""Duplicating collections and entities (Resolwe's ``bulk_duplicate``), run as a background task.

A copy keeps its original's name, content and ``created``; it gets a new
slug, the caller as contributor and ``duplicated = now``. These rules are
every copy's: the data app copies Data with them too (``fresh_copy``,
``place_copy``, ``require_edit``). Copies of containers take copies of
their contents: an entity's annotation values here, the Data by the data
app once ``signals.containers_duplicated`` tells it which copies to fill.
"""

from __future__ import annotations

import copy
from collections.abc import Iterable
from typing import Any

from django.contrib.auth import get_user_model
from django.db import models
from django.utils import timezone

from resolwe_prefect.permissions import services as permissions
from resolwe_prefect.permissions.models import Permission

from .models import Collection, Entity
from .signals import containers_duplicated


class DuplicateError(ValueError):
    """The operation cannot be done as asked; the message becomes the task's output."""


def fresh_copy(obj: models.Model, user, now, **changes: Any) -> models.Model:
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


def place_copy(new: models.Model, old: models.Model, user) -> None:
    """Inside a container the copy shares its group; a top-level copy gets the original's permissions plus the caller as owner."""
    if permissions.container_of(new) is not None:
        permissions.on_created(new)
    else:
        permissions.on_created(new, copy_from=old)
        permissions.assign_owner(new, user)


def require_edit(user, containers: Iterable[models.Model]) -> None:
    """Keeping a copy in an original container means adding to it, which needs EDIT."""
    for container in {(type(c), c.pk): c for c in containers}.values():
        if permissions.user_level(user, container) < Permission.EDIT:
            kind = container._meta.verbose_name
            raise DuplicateError(f"No edit permission on {kind} {container.pk} to add the copies to it.")


def _copy_entities(originals: list[Entity], user, now, *, collections: dict[int, Collection], keep_collection: bool):
    """Copy Entity rows and their annotation values; returns ``{old id: copy}``."""
    if keep_collection:
        require_edit(user, [e.collection for e in originals if e.collection_id and e.collection_id not in collections])
    copies: dict[int, Entity] = {}
    for old in originals:
        collection = collections.get(old.collection_id, old.collection if keep_collection else None)
        new = fresh_copy(old, user, now, collection=collection)
        place_copy(new, old, user)
        copies[old.pk] = new
    # The annotations app depends on this one: its values are reached through the entity's reverse relation.
    annotation_value = Entity._meta.get_field("annotations").related_model
    annotation_value.objects.bulk_create(
        [
            annotation_value(
                entity=copies[value.entity_id], field_id=value.field_id, _value=value._value, contributor=user
            )
            for value in annotation_value.objects.filter(entity_id__in=list(copies)).order_by("id")
        ]
    )
    return copies


def duplicate_entities(entity_ids: list[int], user_id: int, *, inherit_collection: bool = False) -> list[int]:
    """Copy entities with their Data; the copies leave the collection unless ``inherit_collection``."""
    user = get_user_model().objects.get(pk=user_id)
    now = timezone.now()
    originals = list(Entity.objects.select_related("collection").filter(pk__in=entity_ids).order_by("id"))
    entities = _copy_entities(originals, user, now, collections={}, keep_collection=inherit_collection)
    containers_duplicated.send(sender=Entity, user=user, now=now, collections={}, entities=entities)
    return [entities[old.pk].pk for old in originals]


def duplicate_collections(collection_ids: list[int], user_id: int) -> list[int]:
    """Copy collections with their entities, Data and annotation fields."""
    user = get_user_model().objects.get(pk=user_id)
    now = timezone.now()
    originals = list(Collection.objects.filter(pk__in=collection_ids).order_by("id"))
    collections: dict[int, Collection] = {}
    for old in originals:
        new = fresh_copy(old, user, now)
        place_copy(new, old, user)
        new.annotation_fields.set(old.annotation_fields.all())
        collections[old.pk] = new
    entities = _copy_entities(
        list(Entity.objects.select_related("collection").filter(collection_id__in=list(collections)).order_by("id")),
        user, now, collections=collections, keep_collection=True,
    )  # fmt: skip
    containers_duplicated.send(sender=Collection, user=user, now=now, collections=collections, entities=entities)
    return [collections[old.pk].pk for old in originals]
