"""Creating, reusing and restarting Data objects.

Views and the Prefect layer both come here, so that the rules (input
validation, checksum, name, entity, resources, dependencies) live in one place
and a bad request leaves nothing behind: everything happens in one
transaction, and processing is requested only after it commits.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

from django.db import transaction

from resolwe_prefect.api.fields import parse_pk
from resolwe_prefect.core.errors import ServiceError
from resolwe_prefect.data import lifecycle, transitions
from resolwe_prefect.data.dependencies import input_data_ids
from resolwe_prefect.data.models import Data, DataDependency, DataStatus, Storage
from resolwe_prefect.data.naming import render_data_name
from resolwe_prefect.data.resources import resource_limits, validate_resource_overrides
from resolwe_prefect.descriptors.validation import DescriptorError, fill_descriptor
from resolwe_prefect.permissions import services as permissions
from resolwe_prefect.permissions.models import Permission
from resolwe_prefect.processes.models import Process
from resolwe_prefect.schema.fields import fill_defaults, validate_values
from resolwe_prefect.uploads.sources import check_source


class DataError(ServiceError):
    """A request for Data that cannot be honoured; the API answers with ``detail`` and ``status_code``."""


def compute_checksum(process: Process, input_values: dict) -> str:
    """Resolwe's checksum of the inputs, process slug and version; get-or-create reuses Data by it."""
    checksum = hashlib.sha256()
    checksum.update(json.dumps(input_values, sort_keys=True).encode("utf-8"))
    checksum.update(process.slug.encode("utf-8"))
    checksum.update(str(process.version).encode("utf-8"))
    return checksum.hexdigest()


def resolve_process(process_ref: Any, user=None) -> Process:
    """Find the process a request names: ``{"id"}`` pins a version, ``{"slug"}`` takes the latest active one.

    With ``user`` (API requests) only processes the user can view count, so
    ``{"slug"}`` means the highest *visible* version and an invisible one
    does not exist.
    """
    processes = Process.objects.all()
    if user is not None:
        processes = permissions.filter_for_user(processes, user)
    if isinstance(process_ref, int) and not isinstance(process_ref, bool):
        process_ref = {"id": process_ref}
    if isinstance(process_ref, str):
        process_ref = {"slug": process_ref}
    if not isinstance(process_ref, dict) or not ({"id", "slug"} & process_ref.keys()):
        raise DataError({"process": ['This field is required: give {"slug": ...} or {"id": ...}.']})
    if "id" in process_ref:
        pk = parse_pk(process_ref["id"])
        process = processes.filter(pk=pk).first() if pk is not None else None
        if process is None:
            raise DataError({"process": [f'Invalid pk "{str(process_ref["id"])[:100]}" - object does not exist.']})
    elif not isinstance(process_ref["slug"], str):
        raise DataError({"process": ["The slug must be a string."]})
    else:
        process = processes.filter(slug=process_ref["slug"], is_active=True).order_by("-version").first()
        if process is None:
            if processes.filter(slug=process_ref["slug"]).exists():
                raise DataError({"error": f"Process '{process_ref['slug']}' is not active."})
            raise DataError({"process": [f"Process with slug '{process_ref['slug']}' does not exist."]})
    if not process.is_active:
        raise DataError({"error": f"Process '{process.slug}' (version {process.version}) is not active."})
    return process


def _validated_input(process: Process, values: dict, user=None, *, owner=None) -> dict:
    """Defaults filled and values checked; with ``user``, Data inputs must be ones they can view.

    An input the caller cannot see is reported exactly like one that does
    not exist, so that its existence does not leak. With ``owner`` (the
    contributor-to-be), file and URL inputs must be sources the server may
    read for them (``uploads.sources``): upload handles (whose they are, the
    flow run checks when it stages them), public URLs, paths inside an
    import root.
    """
    if not isinstance(values, dict):
        raise DataError({"input": ["Expected a dictionary of input values."]})
    filled = fill_defaults(process.input_schema, values)

    visible = Data.objects.all() if user is None else permissions.filter_for_user(Data.objects.all(), user)

    def resolve_data(data_id: int) -> str | None:
        return visible.filter(pk=data_id).values_list("process__type", flat=True).first()

    def resolve_storage(storage_id: int) -> bool:
        return Storage.objects.filter(pk=storage_id).exists()

    def check(type_: str, value: dict) -> str | None:
        return check_source(type_, value, owner.pk)

    errors = validate_values(
        process.input_schema, filled, kind="input", resolve_data=resolve_data, resolve_storage=resolve_storage,
        check_source=check if owner is not None else None,
    )  # fmt: skip
    if errors:
        messages = [f"{error.path}: {error.message}" if error.path else error.message for error in errors]
        detail: dict[str, Any] = {"error": "; ".join(messages)}
        for error in errors:
            detail.setdefault(f"input.{error.path}" if error.path else "input", []).append(error.message)
        raise DataError(detail)
    return filled


def _lookup(model, pk: Any, field: str):
    if pk in (None, ""):
        return None
    if isinstance(pk, dict):
        pk = pk.get("id")
    valid = parse_pk(pk)
    obj = model.objects.filter(pk=valid).first() if valid is not None else None
    if obj is None:
        raise DataError({field: [f'Invalid pk "{str(pk)[:100]}" - object does not exist.']})
    return obj


def _require_edit(user, container, field: str) -> None:
    """Creating inside a container needs EDIT on it: invisible → 400 (unknown), visible → 403."""
    if container is None:
        return
    level = permissions.user_level(user, container)
    if level < Permission.VIEW:
        raise DataError({field: [f'Invalid pk "{container.pk}" - object does not exist.']})
    if level < Permission.EDIT:
        raise DataError({"detail": f"You do not have edit permission on {field} {container.pk}."}, status_code=403)


def _assign_entity(data: Data, process: Process, parent_ids: list[int], parent: Data | None) -> None:
    """Put the Data object into an entity as Resolwe does for processes with ``entity.type``.

    The entity comes from the ``entity.input`` input (or from all inputs):
    none found, or ``always_create``, makes a new one; exactly one is reused;
    several mean the object stays outside any entity.
    """
    from resolwe_prefect.descriptors.models import DescriptorSchema
    from resolwe_prefect.entities.models import Entity

    if not process.entity_type or data.entity_id is not None:
        return
    if process.entity_input:
        value = _dotted(data.input, process.entity_input)
        if value is None:
            return
        source_ids = value if isinstance(value, list) else [value]
    else:
        source_ids = parent_ids
    candidates = list(Entity.objects.filter(data__id__in=source_ids, type=process.entity_type).distinct()[:2])
    if not candidates or process.entity_always_create:
        schema = None
        if process.entity_descriptor_schema:
            schema = DescriptorSchema.objects.filter(slug=process.entity_descriptor_schema).order_by("-version").first()
        entity = Entity.objects.create(
            name=data.name,
            type=process.entity_type,
            contributor=data.contributor,
            collection=data.collection,
            descriptor_schema=schema,
            tags=list(data.tags),
        )
        # Like Resolwe: the contributor owns it (or it copies a spawning parent), unless it is in a collection.
        permissions.on_created(entity, copy_from=parent)
    elif len(candidates) == 1:
        entity = candidates[0]
    else:
        return
    data.entity = entity
    if entity.collection_id:
        data.collection_id = entity.collection_id


def _dotted(values: dict, path: str) -> Any:
    for part in path.split("."):
        if not isinstance(values, dict) or part not in values:
            return None
        values = values[part]
    return values


@transaction.atomic
def create_data(
    *,
    user,
    process_ref: Any,
    input: dict | None = None,
    name: str | None = None,
    tags: list | None = None,
    collection_id: Any = None,
    entity_id: Any = None,
    descriptor_schema_slug: str | None = None,
    descriptor: dict | None = None,
    process_resources: dict | None = None,
    parent: Data | None = None,
) -> Data:
    """Validate a request and store a new Data object, then ask for it to be processed.

    ``parent`` is set for spawned and workflow children: they get a
    ``subprocess`` dependency on it in addition to their input dependencies.
    """
    from resolwe_prefect.data.serializers import plain_field_errors
    from resolwe_prefect.descriptors.models import DescriptorSchema
    from resolwe_prefect.entities.models import Collection, Entity

    if errors := plain_field_errors(name=name, tags=tags, descriptor=descriptor):
        raise DataError(errors)
    # Children of a running object are created on the system's behalf: only API requests are checked for
    # visibility. Where files come from is checked for everyone: a program's requests are no more trusted.
    process = resolve_process(process_ref, user if parent is None else None)
    resource_errors = validate_resource_overrides(process_resources)
    if resource_errors:
        raise DataError({"error": "; ".join(resource_errors), "process_resources": resource_errors})
    values = _validated_input(process, input or {}, user if parent is None else None, owner=user)
    collection = _lookup(Collection, collection_id, "collection")
    entity = _lookup(Entity, entity_id, "entity")
    if parent is None:
        _require_edit(user, collection, "collection")
        _require_edit(user, entity, "entity")
    if entity is not None and collection is not None and entity.collection_id not in (None, collection.pk):
        raise DataError({"error": "Entity must belong to the same collection as data object."})
    if entity is not None and collection is None:
        collection = entity.collection
    descriptor_schema = None
    if descriptor_schema_slug:
        schemas = DescriptorSchema.objects.filter(slug=descriptor_schema_slug)
        if parent is None:
            schemas = permissions.filter_for_user(schemas, user)
        descriptor_schema = schemas.order_by("-version").first()
        if descriptor_schema is None:
            raise DataError({"descriptor_schema": [f'Invalid descriptor_schema slug "{descriptor_schema_slug}".']})

    try:
        descriptor, descriptor_dirty = fill_descriptor(descriptor_schema, descriptor or {})
    except DescriptorError as error:
        raise DataError({"descriptor": error.messages}) from error
    limits = resource_limits(process, process_resources)
    data = Data(
        process=process,
        contributor=user,
        input=values,
        checksum=compute_checksum(process, values),
        tags=list(tags or []),
        collection=collection,
        entity=entity,
        descriptor_schema=descriptor_schema,
        descriptor=descriptor,
        descriptor_dirty=descriptor_dirty,
        process_resources=process_resources or {},
        process_cores=limits["cores"],
        process_memory=limits["memory"],
        status=DataStatus.RESOLVING,
    )
    if name:
        data.name = name
        data.named_by_user = True
    else:
        data.name = render_data_name(process, values, user.pk)
    parent_ids = input_data_ids(process.input_schema, values)
    _assign_entity(data, process, parent_ids, parent)
    data.save()
    permissions.on_created(data, copy_from=parent)
    DataDependency.objects.bulk_create(
        [DataDependency(parent_id=pid, child=data, kind=DataDependency.KIND_IO) for pid in parent_ids]
    )
    if parent is not None:
        DataDependency.objects.create(parent=parent, child=data, kind=DataDependency.KIND_SUBPROCESS)
    lifecycle.request_processing([data.pk])
    return data


def get_or_create_data(**kwargs) -> tuple[Data, bool]:
    """Reuse a Data object the caller can view with the same checksum when the process is CACHED or TEMP."""
    process = resolve_process(kwargs.get("process_ref"), kwargs.get("user"))
    if process.persistence in (Process.PERSISTENCE_CACHED, Process.PERSISTENCE_TEMP):
        values = _validated_input(process, kwargs.get("input") or {}, kwargs.get("user"), owner=kwargs.get("user"))
        candidates = Data.objects.all()
        if kwargs.get("user") is not None:
            candidates = permissions.filter_for_user(candidates, kwargs["user"])
        existing = (
            candidates.filter(checksum=compute_checksum(process, values), process__persistence=process.persistence)
            .exclude(status=DataStatus.ERROR)
            .order_by("-created")
            .first()
        )
        if existing is not None:
            return existing, False
    return create_data(**kwargs), True


@transaction.atomic
def restart_data(data: Data, *, resource_overrides: dict | None = None) -> Data:
    """Start a new attempt of a failed Data object: a fresh flow run, fresh outputs."""
    data = Data.objects.select_for_update().get(pk=data.pk)
    if data.status != DataStatus.ERROR:
        raise DataError({"error": f"Only data in status ER can be restarted, not {data.status}."})
    overrides = (resource_overrides or {}).get(str(data.pk)) or (resource_overrides or {}).get(data.pk)
    if overrides:
        errors = validate_resource_overrides(overrides)
        if errors:
            raise DataError({"error": "; ".join(errors)})
        data.process_resources = {**data.process_resources, **overrides}
    limits = resource_limits(data.process, data.process_resources)
    data.process_cores, data.process_memory = limits["cores"], limits["memory"]
    transitions.restart(data)
    lifecycle.request_processing([data.pk])
    return data
