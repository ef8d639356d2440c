"""What a Python process may ask the channel, and with whose permissions: the command handlers.

Each handler runs in a thread with the ORM and acts as the Data object's
contributor, with the rules of Resolwe's listener
(``resolwe/flow/managers/listener/{python_process,permission}_plugin.py``):

* a model is read through an explicit allow-list of fields (:data:`MODELS`);
  filters, orderings and returned names may only use those, and a relation may
  be followed one step, into the related model's own allow-list;
* an object is visible when the contributor may view it; the running Data
  object, its inputs (and their processes) are visible as well, and a Storage
  is visible through its Data or to its contributor;
* an object that is not visible reads as missing
  (:data:`NOT_READABLE`; a ``get`` matching several says how many, as Resolwe's); one that is
  visible but not editable gives :func:`no_edit` ("No edit permission for
  entity with id 7."). The running Data object is always editable;
* new Data objects are children of the running one, created through
  ``data.services.create_data`` (the API's validation), new collections and
  entities belong to the contributor.

Handlers raise :class:`ChannelError` with the message the program reads.
"""

from __future__ import annotations

import datetime
import decimal
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from django.contrib.auth import get_user_model
from django.core.exceptions import FieldError, ValidationError
from django.db import transaction
from django.db.models import F, Model, QuerySet

from resolwe_prefect.annotations.services import entity_annotations, split_path, update_annotations
from resolwe_prefect.data.dependencies import input_data_ids
from resolwe_prefect.data.models import Data, DataDependency, Storage
from resolwe_prefect.data.services import DataError, create_data, resolve_process
from resolwe_prefect.descriptors.models import DescriptorSchema
from resolwe_prefect.descriptors.validation import DescriptorError, fill_descriptor
from resolwe_prefect.entities.models import Collection, Entity
from resolwe_prefect.permissions import services as permissions
from resolwe_prefect.permissions.models import Permission
from resolwe_prefect.processes.models import Process
from resolwe_prefect.relations.models import Relation, RelationPartition
from resolwe_prefect.schema.fields import fill_defaults
from resolwe_prefect.schema.types import normalize_type
from resolwe_prefect.schema.walk import iterate_fields

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
        readable = set(visible(requester, name).filter(pk__in=others).values_list("pk", flat=True))
        related: dict[int, list[int]] = {pk: [] for pk in ids}
        for pk, other in pairs:
            if other in readable and other not in related[pk]:
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


# --- reading -----------------------------------------------------------------------------------


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


def _orm_path(spec: ModelSpec, name: str, key: str, *, lookups: bool, follow: bool = True) -> str:
    """The ORM path of a filter key or an ordering, or an error naming what is not readable.

    ``field[__lookup]``, ``json_field__key...``, and one step along a relation
    into a readable field of the related model (``entity__name__icontains``).
    """
    parts = key.split("__")
    head = "id" if parts[0] == "pk" else parts[0]
    if head.endswith("_id") and head[:-3] in spec.relations:
        head = head[:-3]
    if head in spec.computed:
        raise ChannelError(f"Objects of {name} cannot be filtered or ordered on '{head}'.")
    if head not in spec.fields:
        raise ChannelError(f"Field '{parts[0]}' of {name} is not readable (in '{key}').")
    path, rest = spec.paths.get(head, head), parts[1:]
    if not rest or head in spec.json:
        return "__".join([path, *rest])
    if head in spec.relations and rest[0] not in spec.model._meta.get_field(head).get_lookups():
        target = spec.relations[head]
        if target is None and rest[0] in ("id", "pk"):
            return "__".join([path, "id", *rest[1:]])
        if target is None or not follow:
            raise ChannelError(f"Only the id of {name}.{head} is readable (in '{key}').")
        return f"{path}__{_orm_path(MODELS[target], target, '__'.join(rest), lookups=lookups, follow=False)}"
    if not lookups:
        raise ChannelError(f"'{key}' is not a field of {name}.")
    return "__".join([path, *rest])


def _names(spec: ModelSpec, name: str, names: Any) -> list[str]:
    if names is None:
        return []
    if not isinstance(names, list) or not all(isinstance(n, str) for n in names):
        raise ChannelError("Field names must be a list of strings.")
    for item in names:
        head = item[:-3] if item.endswith("_id") and item[:-3] in spec.relations else item
        if head not in spec.fields and head not in spec.computed and item != "pk":
            raise ChannelError(f"Field '{item}' of {name} is not readable.")
    return names


def _jsonable(value: Any) -> Any:
    if isinstance(value, datetime.datetime | datetime.date):
        return value.isoformat()
    if isinstance(value, decimal.Decimal):
        return float(value)
    if isinstance(value, uuid.UUID):
        return str(value)
    return value


def _program_paths(requester: Requester, data_id: int, output: Any, schema: list) -> Any:
    """A Data object's output with every file and directory path as the program sees it (as in the template context)."""
    if not isinstance(output, dict):
        return output

    def mapped(obj: Any, key: str) -> None:
        if isinstance(obj, dict) and isinstance(obj.get(key), str):
            obj[key] = requester.file_path(data_id, obj[key])
            obj["refs"] = [requester.file_path(data_id, ref) for ref in obj.get("refs") or [] if isinstance(ref, str)]

    for visit in iterate_fields(output, schema):
        kind = normalize_type(visit.type)
        key = "dir" if ":dir:" in kind else "file"
        if kind.startswith(("basic:file:", "basic:dir:")):
            mapped(visit.value, key)
        elif kind.startswith(("list:basic:file:", "list:basic:dir:")) and isinstance(visit.value, list):
            for obj in visit.value:
                mapped(obj, key)
    return output


def _rows(requester: Requester, name: str, queryset: QuerySet, names: list[str]) -> list[dict[str, Any]]:
    """``{"id": .., name: value}`` of each object, with Data outputs' paths mapped."""
    spec = MODELS[name]
    wanted = ["id", *[n for n in names if n not in ("id", "pk") and n not in spec.computed]]
    columns = {n: spec.paths.get(n, n) for n in wanted}
    if name == "Data" and "output" in wanted:
        columns.setdefault("__process", "process_id")
    rows = list(queryset.values(**{f"v{i}": F(path) for i, path in enumerate(columns.values())}))
    keys = list(columns)
    result = [{keys[i]: row[f"v{i}"] for i in range(len(keys))} for row in rows]
    if name == "Data" and "output" in wanted:
        schemas = dict(
            Process.objects.filter(pk__in={r["__process"] for r in result}).values_list("pk", "output_schema")
        )
        for row in result:
            row["output"] = _program_paths(requester, row["id"], row["output"], schemas.get(row.pop("__process")) or [])
    for computed in dict.fromkeys(n for n in names if n in spec.computed):
        values = spec.computed[computed](requester, [row["id"] for row in result])
        for row in result:
            row[computed] = values.get(row["id"])
    if "pk" in names:
        for row in result:
            row["pk"] = row["id"]
    return [{key: _jsonable(value) for key, value in row.items()} for row in result]


def _filtered(requester: Requester, args: dict[str, Any]) -> tuple[ModelSpec, str, QuerySet]:
    spec = spec_of(args.get("model"))
    name = args["model"]
    filters = args.get("filters") or {}
    if not isinstance(filters, dict):
        raise ChannelError("Filters must be an object of lookups and values.")
    lookups = {_orm_path(spec, name, str(key), lookups=True): value for key, value in filters.items()}
    return spec, name, visible(requester, name).filter(**lookups)


def filter_objects(requester: Requester, args: dict[str, Any]) -> list[dict[str, Any]]:
    spec, name, queryset = _filtered(requester, args)
    names = _names(spec, name, args.get("fields"))
    order_by = args.get("order_by") or []
    if isinstance(order_by, str):
        order_by = [order_by]
    if not isinstance(order_by, list) or not all(isinstance(o, str) and o.lstrip("-") for o in order_by):
        raise ChannelError("order_by must be a list of field names.")
    ordering = [
        ("-" if o.startswith("-") else "") + _orm_path(spec, name, o.lstrip("-"), lookups=False) for o in order_by
    ]
    limit = args.get("limit")
    if limit is None:
        limit = MAX_OBJECTS
    if not isinstance(limit, int) or isinstance(limit, bool) or limit < 0:
        raise ChannelError("limit must be a non-negative integer.")
    queryset = queryset.order_by(*ordering, "id")[: min(limit, MAX_OBJECTS)]
    return _rows(requester, name, queryset, names)


def get_object(requester: Requester, args: dict[str, Any]) -> dict[str, Any]:
    spec, name, queryset = _filtered(requester, args)
    rows = _rows(requester, name, queryset.order_by("id")[:2], _names(spec, name, args.get("fields")))
    if not rows:
        raise ChannelError(NOT_READABLE)
    if len(rows) > 1:
        count = queryset.count()
        raise ChannelError(f"Exactly one object should match the given criteria, received {count}.")
    return rows[0]


def _pk(value: Any, what: str = "id") -> int:
    if isinstance(value, bool) or not isinstance(value, int | str) or not str(value).isdigit():
        raise ChannelError(f"The {what} must be an integer.")
    return int(value)


def get_fields(requester: Requester, args: dict[str, Any]) -> dict[str, Any]:
    spec = spec_of(args.get("model"))
    name = args["model"]
    names = _names(spec, name, args.get("names") or [])
    rows = _rows(requester, name, visible(requester, name).filter(pk=_pk(args.get("id"))), names)
    if not rows:
        raise ChannelError(NOT_READABLE)
    return {n: rows[0][n] for n in names}


def _readable(requester: Requester, name: str, pk: Any) -> Any:
    obj = visible(requester, name).filter(pk=_pk(pk, f"id of the {name}")).first()
    if obj is None:
        raise ChannelError(NOT_READABLE)
    return obj


def _editable(requester: Requester, name: str, pk: Any) -> Any:
    obj = _readable(requester, name, pk)
    if name == "Data" and obj.pk == requester.data_id:
        return obj  # the running object is always its program's to change, as in Resolwe
    if permissions.user_level(requester.contributor, obj) < Permission.EDIT:
        raise no_edit(type(obj), obj.pk)
    return obj


def process_latest(requester: Requester, args: dict[str, Any]) -> dict[str, Any]:
    slug = args.get("slug")
    if not isinstance(slug, str):
        raise ChannelError("The slug must be a string.")
    processes = permissions.filter_for_user(Process.objects.filter(slug=slug, is_active=True), requester.contributor)
    latest = processes.order_by("-version").values_list("pk", flat=True).first()
    if latest is None:
        raise ChannelError(NOT_READABLE)
    names = sorted(MODELS["Process"].fields - {"id"})
    return _rows(requester, "Process", Process.objects.filter(pk=latest), names)[0]


def storage_json(requester: Requester, args: dict[str, Any]) -> Any:
    return _readable(requester, "Storage", args.get("id")).json


# --- annotations ---------------------------------------------------------------------------------


def read_annotations(requester: Requester, args: dict[str, Any]) -> dict[str, Any]:
    entity = _readable(requester, "Entity", args.get("entity"))
    values = entity_annotations(entity)
    paths = args.get("paths")
    if paths is None:
        return values
    if not isinstance(paths, list) or not all(isinstance(p, str) for p in paths):
        raise ChannelError("paths must be a list of 'group.field' names.")
    return {path: value for path, value in values.items() if path in paths}


def annotate(requester: Requester, args: dict[str, Any]) -> dict[str, Any]:
    values = args.get("values")
    if not isinstance(values, dict) or not all(isinstance(k, str) and split_path(k) for k in values):
        raise ChannelError("values must be an object of 'group.field': value.")
    entity = _editable(requester, "Entity", args.get("entity"))
    if args.get("replace"):  # exactly these: every other annotation of the entity is removed
        values = {**dict.fromkeys(entity_annotations(entity)), **values}
    errors = update_annotations(entity, values, requester.contributor)
    if errors:
        raise ChannelError("; ".join(errors))
    return {}


# --- writing -------------------------------------------------------------------------------------


def _allowed(args: dict[str, Any], allowed: frozenset[str]) -> dict[str, Any]:
    values = args.get("fields") or {}
    if not isinstance(values, dict):
        raise ChannelError("fields must be an object of names and values.")
    refused = sorted(set(values) - allowed)
    if refused:
        raise ChannelError(f"Not allowed to set {', '.join(refused)}.")
    return values


def _descriptor_schema(requester: Requester, value: Any) -> DescriptorSchema | None:
    """A descriptor schema the contributor may view, by id or slug (the latest version)."""
    if value is None:
        return None
    schemas = permissions.filter_for_user(DescriptorSchema.objects.all(), requester.contributor)
    if isinstance(value, str) and not value.isdigit():
        found = schemas.filter(slug=value).order_by("-version").first()
    else:
        found = schemas.filter(pk=_pk(value, "descriptor schema")).first()
    if found is None:
        raise ChannelError(NOT_READABLE)
    return found


def _descriptor(current: dict[str, Any], changes: Any) -> dict[str, Any]:
    """Resolwe's update of a JSON field: ``{"a.b": v}`` sets one key, the rest of the descriptor stays."""
    if not isinstance(changes, dict):
        raise ChannelError("The descriptor must be an object.")
    merged = dict(current or {})
    for dotted, value in changes.items():
        *parents, last = str(dotted).split(".")
        node = merged
        for part in parents:
            child = node.get(part)
            node[part] = child = dict(child) if isinstance(child, dict) else {}
            node = child
        node[last] = value
    return merged


def _text(values: dict[str, Any], key: str) -> None:
    if key in values and not isinstance(values[key], str):
        raise ChannelError(f"{key} must be a string.")


def _tags(values: dict[str, Any]) -> None:
    tags = values.get("tags", [])
    if not isinstance(tags, list) or not all(isinstance(t, str) for t in tags):
        raise ChannelError("tags must be a list of strings.")


def _describe(requester: Requester, obj: Any, values: dict[str, Any]) -> list[str]:
    """Set the descriptor schema and descriptor of ``obj`` from ``values``; the names of the fields set."""
    changed = []
    if "descriptor_schema" in values:
        obj.descriptor_schema = _descriptor_schema(requester, values["descriptor_schema"])
        changed.append("descriptor_schema")
    if "descriptor" in values or "descriptor_schema" in values:
        descriptor = _descriptor(obj.descriptor, values["descriptor"]) if "descriptor" in values else obj.descriptor
        try:
            obj.descriptor, obj.descriptor_dirty = fill_descriptor(obj.descriptor_schema, descriptor)
        except DescriptorError as error:
            raise ChannelError(f"Invalid descriptor: {error}") from error
        changed += ["descriptor", "descriptor_dirty"]
    return changed


def update(requester: Requester, args: dict[str, Any]) -> dict[str, Any]:
    name = args.get("model")
    spec_of(name)
    if name not in UPDATABLE:
        raise ChannelError(f"{name} objects cannot be updated by a process.")
    values = _allowed(args, UPDATABLE[name])
    for key in ("name", "description"):
        _text(values, key)
    _tags(values)
    with transaction.atomic():
        obj = _editable(requester, name, args.get("id"))
        obj = type(obj).objects.select_for_update().get(pk=obj.pk)
        changed: list[str] = [key for key in ("name", "description", "tags") if key in values]
        for key in changed:
            setattr(obj, key, values[key])
        changed += _describe(requester, obj, values)
        if changed:
            obj.save(update_fields=[*changed, "modified"])
    return {}


def _container(requester: Requester, name: str, pk: Any) -> Any:
    return None if pk is None else _editable(requester, name, pk)


def _data_error(error: DataError) -> str:
    detail = error.detail
    if isinstance(detail, dict):
        if "error" in detail:
            return str(detail["error"])
        if "detail" in detail:
            return str(detail["detail"])
        return "; ".join(
            f"{key}: {' '.join(map(str, value)) if isinstance(value, list) else value}" for key, value in detail.items()
        )
    return str(detail)


def create(requester: Requester, args: dict[str, Any]) -> dict[str, Any]:
    name = args.get("model")
    spec_of(name)
    if name not in CREATABLE:
        raise ChannelError(f"{name} objects cannot be created by a process.")
    values = _allowed(args, CREATABLE[name])
    for key in ("name", "description", "type"):
        _text(values, key)
    _tags(values)
    if name == "Data":
        return {"id": _create_data(requester, values)}
    with transaction.atomic():
        collection = _container(requester, "Collection", values.get("collection"))
        obj = MODELS[name].model(
            contributor=requester.contributor,
            **{k: v for k, v in values.items() if k in ("name", "description", "tags", "type")},
        )
        if collection is not None:
            obj.collection = collection
        _describe(requester, obj, values)
        obj.save()
        # Owned by the contributor, or in the collection's permissions, as the API places a new object.
        permissions.on_created(obj)
    return {"id": obj.pk}


def _create_data(requester: Requester, values: dict[str, Any]) -> int:
    """A child of the running Data object, validated and placed as the API does (``create_data``)."""
    user = requester.contributor
    reference = values.get("process")
    if isinstance(reference, int | str) and not isinstance(reference, bool):
        reference = {"id": int(reference)} if str(reference).isdigit() else {"slug": reference}
    inputs = values.get("input") or {}
    if not isinstance(inputs, dict):
        raise ChannelError("input must be an object.")
    with transaction.atomic():
        creator = Data.objects.get(pk=requester.data_id)
        try:
            process = resolve_process(reference, user)  # a process the contributor may view, as the API checks
        except DataError as error:
            raise ChannelError(_data_error(error)) from error
        readable = visible(requester, "Data")
        for data_id in input_data_ids(process.input_schema, fill_defaults(process.input_schema, inputs)):
            if not readable.filter(pk=data_id).exists():
                raise ChannelError(f"Input Data object {data_id}: {NOT_READABLE}")
        entity = _container(requester, "Entity", values.get("entity"))
        collection = _container(requester, "Collection", values.get("collection"))
        schema = _descriptor_schema(requester, values.get("descriptor_schema"))
        try:
            child = create_data(
                user=user,
                process_ref={"id": process.pk},
                input=inputs,
                name=values.get("name"),
                tags=values["tags"] if "tags" in values else list(creator.tags),
                collection_id=collection.pk if collection else None if entity else creator.collection_id,
                entity_id=entity.pk if entity else None,
                descriptor_schema_slug=schema.slug if schema else None,
                descriptor=values.get("descriptor"),
                parent=creator,
            )
        except DataError as error:
            raise ChannelError(_data_error(error)) from error
    return child.pk


#: command -> handler(requester, args) -> result
HANDLERS: dict[str, Callable[[Requester, dict[str, Any]], Any]] = {
    "filter": filter_objects,
    "get": get_object,
    "fields": get_fields,
    "create": create,
    "update": update,
    "annotations": read_annotations,
    "annotate": annotate,
    "process_latest": process_latest,
    "storage": storage_json,
}

#: Errors of a request the ORM refuses (a bad lookup or value), told to the program as they are.
REQUEST_ERRORS = (ChannelError, FieldError, ValidationError, ValueError, TypeError, LookupError)
