"""The channel's read commands: ``filter``, ``get``, ``fields``, ``process_latest``, ``storage``, ``annotations``."""

from __future__ import annotations

import datetime
import decimal
import uuid
from typing import Any

from django.db.models import F, QuerySet

from resolwe_prefect.annotations.services import entity_annotations
from resolwe_prefect.execution.run.object_api.access import (
    MAX_OBJECTS,
    MODELS,
    NOT_READABLE,
    ChannelError,
    ModelSpec,
    Requester,
    as_pk,
    readable,
    spec_of,
    visible,
)
from resolwe_prefect.permissions import services as permissions
from resolwe_prefect.processes.models import Process
from resolwe_prefect.schema.types import normalize_type
from resolwe_prefect.schema.walk import iterate_fields


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


def get_fields(requester: Requester, args: dict[str, Any]) -> dict[str, Any]:
    spec = spec_of(args.get("model"))
    name = args["model"]
    names = _names(spec, name, args.get("names") or [])
    rows = _rows(requester, name, visible(requester, name).filter(pk=as_pk(args.get("id"))), names)
    if not rows:
        raise ChannelError(NOT_READABLE)
    return {n: rows[0][n] for n in names}


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
    return readable(requester, "Storage", args.get("id")).json


def read_annotations(requester: Requester, args: dict[str, Any]) -> dict[str, Any]:
    entity = readable(requester, "Entity", args.get("entity"))
    values = entity_annotations(entity)
    paths = args.get("paths")
    if paths is None:
        return values
    if not isinstance(paths, list) or not all(isinstance(p, str) for p in paths):
        raise ChannelError("paths must be a list of 'group.field' names.")
    return {path: value for path, value in values.items() if path in paths}
