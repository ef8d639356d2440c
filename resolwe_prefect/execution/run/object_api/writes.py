"""The channel's write commands: ``annotate``, ``update``, ``create`` and ``run`` (children of the running Data object)."""

from __future__ import annotations

from typing import Any

from django.db import transaction

from resolwe_prefect.annotations.services import entity_annotations, split_path, update_annotations
from resolwe_prefect.data.dependencies import input_data_ids
from resolwe_prefect.data.models import Data
from resolwe_prefect.data.services import DataError, create_data, resolve_process
from resolwe_prefect.descriptors.models import DescriptorSchema
from resolwe_prefect.descriptors.validation import DescriptorError, fill_descriptor
from resolwe_prefect.execution.run.children import ChildError, spawn_now
from resolwe_prefect.execution.run.object_api.access import (
    CREATABLE,
    MODELS,
    NOT_READABLE,
    UPDATABLE,
    ChannelError,
    Requester,
    as_pk,
    editable,
    spec_of,
    visible,
)
from resolwe_prefect.permissions import services as permissions
from resolwe_prefect.processes.models import Process
from resolwe_prefect.schema.fields import fill_defaults


def annotate(requester: Requester, args: dict[str, Any]) -> dict[str, Any]:
    values = args.get("values")
    if not isinstance(values, dict) or not all(isinstance(k, str) and split_path(k) for k in values):
        raise ChannelError("values must be an object of 'group.field': value.")
    entity = editable(requester, "Entity", args.get("entity"))
    if args.get("replace"):  # exactly these: every other annotation of the entity is removed
        values = {**dict.fromkeys(entity_annotations(entity)), **values}
    errors = update_annotations(entity, values, requester.contributor)
    if errors:
        raise ChannelError("; ".join(errors))
    return {}


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
        found = schemas.filter(pk=as_pk(value, "descriptor schema")).first()
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
        obj = editable(requester, name, args.get("id"))
        obj = type(obj).objects.select_for_update().get(pk=obj.pk)
        changed: list[str] = [key for key in ("name", "description", "tags") if key in values]
        for key in changed:
            setattr(obj, key, values[key])
        changed += _describe(requester, obj, values)
        if changed:
            obj.save(update_fields=[*changed, "modified"])
    return {}


def _container(requester: Requester, name: str, pk: Any) -> Any:
    return None if pk is None else editable(requester, name, pk)


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
        readable_data = visible(requester, "Data")
        for data_id in input_data_ids(process.input_schema, fill_defaults(process.input_schema, inputs)):
            if not readable_data.filter(pk=data_id).exists():
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


def run(requester: Requester, args: dict[str, Any]) -> dict[str, Any]:
    """``self.run_process(slug, inputs)``: a child of the running Data object, created now.

    As the ``re-run`` children of bash programs, it runs the latest active version of the
    process, and files named in ``export`` are handed to it as uploads. Its Data inputs must be
    readable by the contributor, as for ``Data.create``.
    """
    slug, inputs, exports = args.get("process"), args.get("input") or {}, args.get("export") or []
    if not isinstance(slug, str) or not slug:
        raise ChannelError("process must be a process slug.")
    if not isinstance(inputs, dict):
        raise ChannelError("input must be an object.")
    if not isinstance(exports, list) or not all(isinstance(name, str) for name in exports):
        raise ChannelError("export must be a list of file names.")
    process = Process.objects.filter(slug=slug, is_active=True).order_by("-version").first()
    if process is not None:
        readable_data = visible(requester, "Data")
        for data_id in input_data_ids(process.input_schema, fill_defaults(process.input_schema, inputs)):
            if not readable_data.filter(pk=data_id).exists():
                raise ChannelError(f"Input Data object {data_id}: {NOT_READABLE}")
    try:
        return {"id": spawn_now(requester.data_id, {"process": slug, "input": inputs}, exports)}
    except ChildError as error:
        raise ChannelError(str(error)) from error
