"""Built-in filters of the Jinja expression engine (Resolwe's names and semantics).

Resolwe's filters query the database (``Data.objects.get``). Here every filter
works on the *hydrated* values that :mod:`resolwe_prefect.expressions.context`
puts into the template context, so the engine stays pure Python and can run in
a worker without a database. A hydrated Data reference is a dict holding the
referenced object's ``output`` plus the dunder keys ``__id``, ``__type``,
``__name``, ``__slug``, ``__descriptor``, ``__entity_id``, ``__entity_name``,
``__output_schema`` (and ``__input`` when known).

Any exception raised by a filter is turned into an undefined value by the
engine (as in Resolwe), so ``{{ x | name | default("?") }}`` never fails.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from typing import Any

#: Base URL used by ``get_url``; Resolwe reads ``settings.RESOLWE_HOST_URL``.
DEFAULT_HOST_URL = "localhost"


def apply_filter_list(func: Callable[[Any], Any], obj: Any) -> Any:
    """Apply ``func`` element-wise to lists/tuples, directly otherwise.

    Resolwe's data filters accept both ``data:`` and ``list:data:`` inputs, so
    ``{{ reads | name }}`` and ``{{ reads_list | name }}`` both work.
    """
    if isinstance(obj, (list, tuple)):
        return [func(item) for item in obj]
    return func(obj)


def _dunder(key: str) -> Callable[[Any], Any]:
    """Return a getter of a hydrated-reference dunder key (``__id`` etc.)."""

    def getter(item: Any) -> Any:
        if not isinstance(item, dict):
            raise TypeError(f"Expected a hydrated data reference, got {type(item).__name__}.")
        return item[key]

    return getter


def name(data: Any) -> Any:
    """Return the name of a referenced Data object (or of each in a list)."""
    return apply_filter_list(_dunder("__name"), data)


def slug(data: Any) -> Any:
    """Return the slug of a referenced Data object (or of each in a list)."""
    return apply_filter_list(_dunder("__slug"), data)


def id_(obj: Any) -> Any:
    """Return the id of a referenced Data object (or of each in a list)."""
    return apply_filter_list(_dunder("__id"), obj)


def type_(obj: Any) -> Any:
    """Return the process type of a referenced Data object (or of each in a list)."""
    return apply_filter_list(_dunder("__type"), obj)


def basename(path: str) -> str:
    """Return the final component of ``path`` (``os.path.basename``)."""
    return os.path.basename(path)


def dirname(path: str) -> str:
    """Return the directory part of ``path`` (``os.path.dirname``)."""
    return os.path.dirname(path)


def subtype(basetype: Any, supertype: str) -> Any:
    """Tell whether ``basetype`` (or each type in a list) is a subtype of ``supertype``.

    Resolwe types are colon-separated prefixes, so a subtype check is a prefix check.
    """
    return apply_filter_list(lambda item: item.startswith(supertype), basetype)


def yesno(value: Any, true_value: Any, false_value: Any) -> Any:
    """Return ``true_value`` if ``value`` is truthy, ``false_value`` otherwise."""
    return true_value if value else false_value


def all_(obj: Any) -> bool:
    """Return True if every item is truthy (or ``obj`` is empty)."""
    return all(obj)


def any_(obj: Any) -> bool:
    """Return True if at least one item is truthy."""
    return any(obj)


def dict_dot(obj: Any, path: str) -> Any:
    """Return the value at dotted ``path`` inside nested dicts (``""`` = ``obj``).

    A missing key raises ``KeyError``, which the engine turns into undefined.
    """
    if path == "":
        return obj
    for part in path.split("."):
        if isinstance(obj, (list, tuple)) and part.isdigit():
            obj = obj[int(part)]
        else:
            obj = obj[part]
    return obj


def descriptor(obj: Any, path: str = "") -> Any:
    """Return the descriptor of a referenced Data object, or the value at ``path``.

    Like Resolwe, lists and dicts are returned JSON-encoded so they can be
    pasted into a program as one value.
    """
    if not isinstance(obj, dict):
        raise TypeError("Filter argument must be a hydrated data reference.")
    desc = obj["__descriptor"]
    value = dict_dot(desc or {}, path)
    if isinstance(value, (list, dict)):
        return json.dumps(value)
    return value


def input_(data: Any, field_path: str) -> Any:
    """Return the value of input ``field_path`` of a referenced Data object.

    Needs the ``__input`` key, which the context builder adds when the data
    loader provides the referenced object's ``input``.
    """
    return dict_dot(data["__input"], field_path)


def _hydrated_path(field: Any) -> Any:
    """Return the hydrated path (a str with ``data_id``/``file_name``) of a file field."""
    if isinstance(field, str) and hasattr(field, "file_name"):
        return field
    if isinstance(field, dict):
        for key in ("file", "dir"):
            if hasattr(field.get(key), "file_name"):
                return field[key]
    raise TypeError("Filter argument must be a valid file-type field.")


def relative_path(field: Any) -> str:
    """Return the path of a file/dir output relative to its Data directory."""
    return _hydrated_path(field).file_name


def get_url(field: Any) -> str:
    """Return the download URL of a file/dir output.

    The base URL comes from the ``RESOLWE_HOST_URL`` environment variable
    (Resolwe's setting of the same name), defaulting to ``localhost``.
    """
    hydrated = _hydrated_path(field)
    base_url = os.environ.get("RESOLWE_HOST_URL", DEFAULT_HOST_URL)
    return f"{base_url}/data/{hydrated.data_id}/{hydrated.file_name}"


#: Filters registered in every engine (custom modules may override them).
filters: dict[str, Callable[..., Any]] = {
    "name": name,
    "slug": slug,
    "id": id_,
    "type": type_,
    "basename": basename,
    "dirname": dirname,
    "subtype": subtype,
    "yesno": yesno,
    "get_url": get_url,
    "relative_path": relative_path,
    "descriptor": descriptor,
    "input": input_,
    "all": all_,
    "any": any_,
}
