"""Who may read and change what: the models a program sees, their readable fields, and visibility.

Every handler asks :func:`visible`, :func:`readable` and :func:`editable`; nothing else decides
what a Python process may reach through the channel.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from django.contrib.auth import get_user_model
from django.db.models import Model, QuerySet

from resolwe_prefect.data.models import Data, DataDependency, Storage
from resolwe_prefect.descriptors.models import DescriptorSchema
from resolwe_prefect.entities.models import Collection, Entity
from resolwe_prefect.permissions import services as permissions
from resolwe_prefect.permissions.models import Permission
from resolwe_prefect.processes.models import Process
from resolwe_prefect.relations.models import Relation, RelationPartition

NOT_READABLE = "No objects match the given criteria or no permission to read object."
#: The most objects one ``filter`` returns (Resolwe's listener sends at most 10,000 per chunk).
MAX_OBJECTS = 10_000


class ChannelError(Exception):
    """A request the channel refuses; the message is the program's ``error`` reply."""


def no_edit(model: type[Model], pk: Any) -> ChannelError:
    return ChannelError(f"No edit permission for {model._meta.model_name} with id {pk}.")


#: ``computed(requester, ids) -> {id: value}``: a value the ORM's ``values()`` cannot give (lists of related ids).
Computed = Callable[["Requester", list[int]], dict[int, Any]]


@dataclass(frozen=True)
class ModelSpec:
    """A model the program may read: its readable fields and where its relations lead."""

    model: type[Model]
    fields: frozenset[str]
    relations: dict[str, str | None] = field(default_factory=dict)  # field -> exposed model (None: ids only)
    json: frozenset[str] = frozenset()  # fields whose keys may be looked into
    paths: dict[str, str] = field(default_factory=dict)  # exposed name -> ORM path
    computed: dict[str, Computed] = field(default_factory=dict)  # returned, never filtered on


def _related(name: str, query: Callable[[list[int]], Any]) -> Computed:
    """A list of ids of ``name`` objects the program may read, per object (``query(ids)`` gives (id, related id))."""

    def compute(requester: Requester, ids: list[int]) -> dict[int, Any]:
        pairs = sorted(query(ids))
        others = {other for _, other in pairs}
        readable_ids = set(visible(requester, name).filter(pk__in=others).values_list("pk", flat=True))
        related: dict[int, list[int]] = {pk: [] for pk in ids}
        for pk, other in pairs:
            if other in readable_ids and other not in related[pk]:
                related[pk].append(other)
        return related

    return compute


def _partitions(_requester: Requester, ids: list[int]) -> dict[int, Any]:
    partitions: dict[int, list[dict[str, Any]]] = {pk: [] for pk in ids}
    rows = RelationPartition.objects.filter(relation_id__in=ids).order_by("position", "id")
    for row in rows.values("id", "relation_id", "entity_id", "position", "label"):
        partitions[row.pop("relation_id")].append({**row, "entity": row["entity_id"]})
    return partitions


def _pairs(queryset: QuerySet, own: str, other: str) -> Callable[[list[int]], Any]:
    return lambda ids: list(queryset.filter(**{f"{own}__in": ids}).values_list(own, other))


_BASE = {"id", "slug", "version", "name", "created", "modified", "contributor"}
_DESCRIBED = {"descriptor", "descriptor_schema", "descriptor_dirty"}
_COLLECTION = _BASE | _DESCRIBED | {"description", "settings", "tags", "duplicated"}
_DATA_OF_CONTAINER = {"data": _related("Data", _pairs(Data.objects.all(), "collection_id", "pk"))}

MODELS: dict[str, ModelSpec] = {
    "Data": ModelSpec(
        Data,
        frozenset(
            _BASE
            | _DESCRIBED
            | {"process", "status", "input", "output", "checksum", "size", "tags", "entity", "collection"}
            | {"scheduled", "started", "finished", "duplicated", "process_progress", "process_rc"}
            | {"process_info", "process_warning", "process_error", "process_resources", "process_cores"}
            | {"process_memory", "named_by_user"}
        ),
        relations={
            "contributor": None,
            "process": "Process",
            "entity": "Entity",
            "collection": "Collection",
            "descriptor_schema": "DescriptorSchema",
        },
        json=frozenset({"input", "output", "descriptor", "tags", "process_resources"}),
        computed={
            "parents": _related(
                "Data", _pairs(DataDependency.objects.filter(parent__isnull=False), "child_id", "parent_id")
            ),
            "children": _related("Data", _pairs(DataDependency.objects.all(), "parent_id", "child_id")),
            "storages": _related("Storage", _pairs(Storage.data.through.objects.all(), "data_id", "storage_id")),
        },
    ),
    "Collection": ModelSpec(
        Collection,
        frozenset(_COLLECTION),
        relations={"contributor": None, "descriptor_schema": "DescriptorSchema"},
        json=frozenset({"descriptor", "settings", "tags"}),
        computed=_DATA_OF_CONTAINER,
    ),
    "Entity": ModelSpec(
        Entity,
        frozenset(_COLLECTION | {"collection", "type"}),
        relations={"contributor": None, "collection": "Collection", "descriptor_schema": "DescriptorSchema"},
        json=frozenset({"descriptor", "settings", "tags"}),
        computed={"data": _related("Data", _pairs(Data.objects.all(), "entity_id", "pk"))},
    ),
    "Process": ModelSpec(
        Process,
        frozenset(
            _BASE
            | {"type", "category", "description", "data_name", "entity_type", "entity_descriptor_schema"}
            | {"entity_input", "entity_always_create", "persistence", "scheduling_class", "is_active"}
            | {"input_schema", "output_schema", "run", "requirements"}
        ),
        relations={"contributor": None},
        json=frozenset({"input_schema", "output_schema", "run", "requirements"}),
    ),
    "DescriptorSchema": ModelSpec(
        DescriptorSchema,
        frozenset(_BASE | {"description", "schema"}),
        relations={"contributor": None},
        json=frozenset({"schema"}),
    ),
    "Storage": ModelSpec(
        Storage,
        frozenset(_BASE | {"json"}),
        relations={"contributor": None},
        json=frozenset({"json"}),
        computed={"data": _related("Data", _pairs(Storage.data.through.objects.all(), "storage_id", "data_id"))},
    ),
    "Relation": ModelSpec(
        Relation,
        frozenset({"id", "created", "modified", "contributor", "collection", "type", "ordered", "category", "unit"})
        | frozenset(_DESCRIBED),
        relations={"contributor": None, "collection": "Collection", "descriptor_schema": "DescriptorSchema"},
        json=frozenset({"descriptor"}),
        paths={"type": "type__name", "ordered": "type__ordered"},
        computed={"partitions": _partitions},
    ),
    # Only the contributor's own account, as Resolwe's listener exposes it.
    "User": ModelSpec(get_user_model(), frozenset({"id", "username", "first_name", "last_name", "email"})),
}

#: What ``update`` may change, per model (Resolwe's listener: Data and Entity only).
UPDATABLE = {
    "Data": frozenset({"name", "descriptor", "descriptor_schema"}),
    "Entity": frozenset({"name", "description", "tags", "descriptor", "descriptor_schema"}),
}
CREATABLE = {
    "Data": frozenset({"process", "input", "name", "tags", "entity", "collection", "descriptor_schema", "descriptor"}),
    "Collection": frozenset({"name", "description", "tags", "descriptor_schema", "descriptor"}),
    "Entity": frozenset({"name", "description", "tags", "descriptor_schema", "descriptor", "collection", "type"}),
}


@dataclass
class Requester:
    """Who asks: the running Data object, its contributor, and how its program sees Data files."""

    data_id: int
    contributor: Any
    file_path: Callable[[int, str], str]  # (data id, path in its directory) -> the program's path

    @classmethod
    def of(cls, data_id: int, file_path: Callable[[int, str], str]) -> Requester:
        contributor_id = Data.objects.filter(pk=data_id).values_list("contributor_id", flat=True).first()
        if contributor_id is None:
            raise ChannelError(f"Data object {data_id} no longer exists.")
        return cls(data_id, get_user_model().objects.get(pk=contributor_id), file_path)


def spec_of(name: Any) -> ModelSpec:
    if not isinstance(name, str) or name not in MODELS:
        raise ChannelError(f"Unknown model {name!r}: use one of {', '.join(MODELS)}.")
    return MODELS[name]


def _own_data(requester: Requester) -> QuerySet:
    """The running Data object and its inputs (every object it depends on), readable whatever their permissions."""
    parents = DataDependency.objects.filter(child_id=requester.data_id, parent__isnull=False).values("parent_id")
    return Data.objects.filter(pk__in=parents) | Data.objects.filter(pk=requester.data_id)


def visible(requester: Requester, name: str) -> QuerySet:
    """The objects of a model that the contributor's program may read."""
    user, model = requester.contributor, MODELS[name].model
    if name == "Data":
        return permissions.filter_for_user(Data.objects.all(), user) | _own_data(requester)
    if name == "Process":
        own = Process.objects.filter(pk__in=_own_data(requester).values("process_id"))
        return permissions.filter_for_user(Process.objects.all(), user) | own
    if name == "Storage":
        through = Storage.data.through.objects.filter(data_id__in=visible(requester, "Data").values("pk"))
        return Storage.objects.filter(pk__in=through.values("storage_id")) | Storage.objects.filter(contributor=user)
    if name == "Relation":
        return permissions.filter_for_user(Relation.objects.all(), user, field="collection__permission_group")
    if name == "User":
        return model._default_manager.filter(pk=user.pk)
    return permissions.filter_for_user(model._default_manager.all(), user)


def as_pk(value: Any, what: str = "id") -> int:
    """An id from the program's JSON, refused before it reaches the ORM when it is not a whole number."""
    if isinstance(value, bool) or not isinstance(value, int | str) or not str(value).isdigit():
        raise ChannelError(f"The {what} must be an integer.")
    return int(value)


def readable(requester: Requester, name: str, pk: Any) -> Any:
    """The object, or the same "not readable" error whether it is missing or hidden (no existence leak)."""
    obj = visible(requester, name).filter(pk=as_pk(pk, f"id of the {name}")).first()
    if obj is None:
        raise ChannelError(NOT_READABLE)
    return obj


def editable(requester: Requester, name: str, pk: Any) -> Any:
    """The object if the contributor may edit it; a visible but read-only one names the missing permission."""
    obj = readable(requester, name, pk)
    if name == "Data" and obj.pk == requester.data_id:
        return obj  # the running object is always its program's to change, as in Resolwe
    if permissions.user_level(requester.contributor, obj) < Permission.EDIT:
        raise no_edit(type(obj), obj.pk)
    return obj
