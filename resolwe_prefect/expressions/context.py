"""Build the template context of a process, as Resolwe's bash execution engine does.

Resolwe deep-copies ``data.input``, replaces every ``data:``/``list:data:``
id by the referenced object's hydrated output (``hydrate_input_references``),
points uploads at their location (``hydrate_input_uploads``) and adds the
``proc`` and ``requirements`` variables. This module does the same on plain
dicts, with the database and file-system look-ups injected as callables, so
it has no Django dependency.
"""

from __future__ import annotations

import copy
import re
from collections.abc import Callable
from typing import Any

from resolwe_prefect.schema.types import normalize_type
from resolwe_prefect.schema.walk import Schema, iterate_fields

#: ``load_data(id)`` result keys used here: ``id``, ``slug``, ``name``,
#: ``type`` (process type), ``descriptor``, ``output``, ``output_schema``,
#: ``entity_id``, ``entity_name`` and, optionally, ``input``.
LoadData = Callable[[int], "dict[str, Any] | None"]
FilePath = Callable[[int, str], str]

_URL_RE = re.compile(r"^(https?|ftp|s3)://[-A-Za-z0-9+&@#/%?=~_|!:,.;]*[-A-Za-z0-9+&@#/%=~_|]")
_MAX_DEPTH = 8  # data: fields inside referenced outputs are hydrated this deep


class HydratedPath(str):
    """A usable file path that remembers its Data id and relative name.

    It is a ``str`` (so ``{{ reads.fastq.file }}`` renders the path), and the
    ``relative_path``/``get_url`` filters read ``data_id`` and ``file_name``.
    """

    __slots__ = ("data_id", "file_name")
    data_id: int
    file_name: str

    def __new__(cls, path: str, data_id: int, file_name: str) -> HydratedPath:
        """Create the path string and attach its origin."""
        hydrated = super().__new__(cls, path)
        hydrated.data_id = data_id
        hydrated.file_name = file_name
        return hydrated

    def __deepcopy__(self, memo: dict) -> HydratedPath:
        return HydratedPath(str(self), self.data_id, self.file_name)

    def __reduce__(self) -> tuple:
        return (HydratedPath, (str(self), self.data_id, self.file_name))


def _hydrate_values(
    output: dict[str, Any],
    output_schema: Schema,
    data_id: int,
    file_path: FilePath,
    load_storage: Callable[[Any], Any] | None,
) -> None:
    """Map file/dir paths (and refs) of ``output`` to usable paths, in place."""

    def path(name: str) -> HydratedPath:
        return HydratedPath(file_path(data_id, name), data_id, name)

    def hydrate_obj(obj: Any, key: str) -> None:
        if not isinstance(obj, dict) or key not in obj:
            return
        obj[key] = path(obj[key])
        obj["refs"] = [path(ref) for ref in obj.get("refs", [])]

    for visit in iterate_fields(output, output_schema):
        value = visit.value
        field_type = normalize_type(visit.type)
        if field_type.startswith("basic:file:"):
            hydrate_obj(value, "file")
        elif field_type.startswith("list:basic:file:"):
            for obj in value or []:
                hydrate_obj(obj, "file")
        elif field_type.startswith("basic:dir:"):
            hydrate_obj(value, "dir")
        elif field_type.startswith("list:basic:dir:"):
            for obj in value or []:
                hydrate_obj(obj, "dir")
        elif load_storage is not None and field_type.startswith("basic:json:"):
            visit.values[visit.name] = load_storage(value)
        elif load_storage is not None and field_type.startswith("list:basic:json:"):
            visit.values[visit.name] = [load_storage(item) for item in value or []]


def _hydrate_reference(
    data_id: Any,
    load_data: LoadData,
    file_path: FilePath | None,
    load_storage: Callable[[Any], Any] | None,
    depth: int,
) -> dict[str, Any]:
    """Return the hydrated dict of one referenced Data object (``{}`` if missing)."""
    record = load_data(data_id)
    if not record:
        return {}
    output = copy.deepcopy(record.get("output") or {})
    output_schema = record.get("output_schema") or []
    if depth < _MAX_DEPTH:
        hydrate_input_references(
            output, output_schema, load_data, file_path, load_storage=load_storage, _depth=depth + 1
        )
    if file_path is not None:
        _hydrate_values(output, output_schema, record["id"], file_path, load_storage)
    output["__id"] = record["id"]
    output["__type"] = record.get("type")
    output["__descriptor"] = record.get("descriptor") or {}
    output["__name"] = record.get("name")
    output["__slug"] = record.get("slug")
    output["__entity_id"] = record.get("entity_id")
    output["__entity_name"] = record.get("entity_name")
    output["__output_schema"] = output_schema
    if "input" in record:
        output["__input"] = copy.deepcopy(record["input"])
    return output


def hydrate_input_references(
    inputs: dict[str, Any],
    input_schema: Schema,
    load_data: LoadData,
    file_path: FilePath | None = None,
    *,
    load_storage: Callable[[Any], Any] | None = None,
    _depth: int = 0,
) -> None:
    """Replace ``data:``/``list:data:`` ids in ``inputs`` by hydrated dicts, in place.

    Each hydrated dict is the referenced object's ``output`` plus ``__id``,
    ``__type``, ``__name``, ``__slug``, ``__descriptor``, ``__entity_id``,
    ``__entity_name``, ``__output_schema`` (and ``__input`` when ``load_data``
    returns ``input``). A missing object becomes ``{}``; ``None`` is kept.
    Without ``file_path`` (data names) file values are left relative, as in
    Resolwe's ``hydrate_values=False``.
    """
    for visit in iterate_fields(inputs, input_schema):
        value = visit.value
        field_type = normalize_type(visit.type)
        if field_type.startswith("data:"):
            if value is None or isinstance(value, dict):
                continue  # not set, or already hydrated
            visit.values[visit.name] = _hydrate_reference(value, load_data, file_path, load_storage, _depth)
        elif field_type.startswith("list:data:"):
            visit.values[visit.name] = [
                item if isinstance(item, dict) else _hydrate_reference(item, load_data, file_path, load_storage, _depth)
                for item in value or []
                if item is not None
            ]


def hydrate_input_uploads(inputs: dict[str, Any], input_schema: Schema, upload_path: Callable[[str], str]) -> None:
    """Map ``file_temp`` of ``basic:file:`` uploads through ``upload_path``, in place.

    URLs (http, https, ftp, s3) are left alone, as in Resolwe.
    """
    uploads: list[Any] = []
    for visit in iterate_fields(inputs, input_schema):
        value = visit.value
        field_type = normalize_type(visit.type)
        if field_type == "basic:file:":
            uploads.append(value)
        elif field_type == "list:basic:file:":
            uploads.extend(value or [])
    for value in uploads:
        if isinstance(value, dict) and isinstance(value.get("file_temp"), str):
            if not _URL_RE.search(value["file_temp"]):
                value["file_temp"] = upload_path(value["file_temp"])


def build_program_context(
    *,
    inputs: dict[str, Any],
    input_schema: Schema,
    process: dict[str, Any],
    data: dict[str, Any],
    requirements: dict[str, Any],
    load_data: LoadData,
    file_path: FilePath,
    extra: dict[str, Any] | None = None,
    load_storage: Callable[[Any], Any] | None = None,
    upload_path: Callable[[str], str] | None = None,
) -> dict[str, Any]:
    """Return the Jinja context for rendering a process program.

    Arguments:

    * ``inputs`` - the Data object's validated input (defaults filled); it is
      deep-copied, never modified.
    * ``input_schema`` - the process input schema (Resolwe field list).
    * ``process`` - the process dict; ``process["requirements"]`` is the
      fallback for ``requirements`` keys.
    * ``data`` - the Data object being run; keys used: ``id``, ``dir``
      (absolute working/data directory, optional).
    * ``requirements`` - the effective requirements: the process requirements
      with ``resources`` holding the effective ``cores``/``memory``/
      ``storage``/``network``. Merged over ``process["requirements"]``.
    * ``load_data(id)`` - returns the referenced Data as a dict (keys ``id``,
      ``slug``, ``name``, ``type``, ``descriptor``, ``output``,
      ``output_schema``, ``entity_id``, ``entity_name``, optional ``input``)
      or ``None`` when it does not exist.
    * ``file_path(data_id, relative_path)`` - the path under which the
      program can read a file/dir output of another Data object.
    * ``extra`` - more variables, added last (they win).
    * ``load_storage(storage_id)`` - optional; resolves ``basic:json:``
      outputs of referenced objects to their content.
    * ``upload_path(file_temp)`` - optional; maps upload ``file_temp`` values.
      Without it uploads are left as given (``{"file", "file_temp"}``).

    Result: the hydrated inputs, plus ``proc = {"data_id", "data_dir"}`` and
    ``requirements`` (as Resolwe's bash engine provides).
    """
    context = copy.deepcopy(inputs or {})
    hydrate_input_references(context, input_schema, load_data, file_path, load_storage=load_storage)
    if upload_path is not None:
        hydrate_input_uploads(context, input_schema, upload_path)

    context["proc"] = {"data_id": data.get("id"), "data_dir": data.get("dir")}
    merged = copy.deepcopy((process or {}).get("requirements") or {})
    merged.update(copy.deepcopy(requirements or {}))
    context["requirements"] = merged
    if extra:
        context.update(extra)
    return context


def build_name_context(*, inputs: dict[str, Any], input_schema: Schema, load_data: LoadData) -> dict[str, Any]:
    """Return the context for rendering a ``data_name`` template.

    Resolwe hydrates references without file paths here (the name is
    rendered in the API process, where Data directories are not mounted).
    """
    context = copy.deepcopy(inputs or {})
    hydrate_input_references(context, input_schema, load_data, None)
    return context
