"""The ``Process`` base class, and the ``inputs``/``outputs`` a process's ``run`` gets."""

from __future__ import annotations

import json
import logging
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from . import records
from .channel import channel
from .descriptor import ProcessDescriptor, ValidationError
from .fields import Field, GroupField, JsonField, ProcessAbort, RelationDescriptor, _json_arg
from .models import Data, _running

#: The nested class holding the input fields.
PROCESS_INPUTS_NAME = "Input"
#: The nested class holding the output fields.
PROCESS_OUTPUTS_NAME = "Output"

logger = logging.getLogger(__name__)

__all__ = ["DotDict", "Inputs", "Outputs", "Process", "ProcessMeta"]


def _class_fields(container: Any) -> list[tuple]:
    """``(name, Field)`` of a nested ``Input``/``Output`` class, in definition order (bases first)."""
    found: dict[str, Any] = {}
    classes = [klass for klass in reversed(getattr(container, "__mro__", (container,))) if klass is not object]
    for klass in classes:
        for name, value in vars(klass).items():
            if not name.startswith("_") and isinstance(value, Field):
                found[name] = value
    return list(found.items())


def _message(process: Any, args: tuple[Any, ...]) -> str:
    """The report's text; also when called on the class (resolwe-bio's ``Process.error("...")``)."""
    parts = args if isinstance(process, Process) else (process, *args)
    return " ".join(str(part) for part in parts)


def _file_list(value: Any) -> list[str]:
    """The values in ``value`` (nested in lists and dicts) that name existing files."""
    if isinstance(value, (str, os.PathLike)) and Path(value).is_file():
        return [os.fspath(value)]
    if isinstance(value, dict):
        return [name for item in value.values() for name in _file_list(item)]
    if isinstance(value, (list, tuple)):
        return [name for item in value for name in _file_list(item)]
    return []


class ProcessMeta(type):
    """Build ``_meta`` (a :class:`ProcessDescriptor`) of every concrete process class.

    The metadata attributes (``slug``, ``name``, ``requirements``, ...) and the
    ``Input``/``Output`` classes are taken out of the class namespace, as in
    Resolwe (so ``self.name`` and ``self.requirements`` are the runtime's).
    A class with ``_abstract`` in its body is a base class and left as it is.
    """

    def __new__(mcs, name: str, bases: tuple, namespace: dict[str, Any], **kwargs: Any) -> Any:
        if "_abstract" in namespace:
            return super().__new__(mcs, name, bases, namespace)
        meta = ProcessDescriptor()
        for meta_name in vars(ProcessDescriptor.Metadata):
            if meta_name.startswith("_"):
                continue
            setattr(meta.metadata, meta_name, namespace.pop(meta_name, None))
        for container_name, fields in (
            (PROCESS_INPUTS_NAME, meta.inputs),
            (PROCESS_OUTPUTS_NAME, meta.outputs),
        ):
            container = namespace.pop(container_name, None)
            if container is None:
                continue
            for field_name, field in _class_fields(container):
                field.contribute_to_class(meta, fields, field_name)
        result: Any = super().__new__(mcs, name, bases, namespace)
        result._meta = meta
        return result


class DotDict(dict):
    """A dict whose keys are also attributes (``None`` for a missing one), nested."""

    @staticmethod
    def _wrap(value: Any) -> Any:
        return DotDict(value) if isinstance(value, dict) and not isinstance(value, DotDict) else value

    def __getattr__(self, name: str) -> Any:
        if name.startswith("__"):
            raise AttributeError(name)
        return self._wrap(self.get(name))

    def __getitem__(self, key: Any) -> Any:
        return self._wrap(super().__getitem__(key))


class _FieldValues:
    """Common part of :class:`Inputs` and :class:`Outputs`: values by field name."""

    _what = "Fields"
    _fields: dict[str, Field]
    _values: dict[str, Any]

    def __init__(self, fields: dict[str, Field]):
        object.__setattr__(self, "_fields", dict(fields))
        object.__setattr__(self, "_values", {})

    def _missing(self, name: str) -> AttributeError:
        return AttributeError(f"{self._what} have no field {name}")

    def __getitem__(self, name: str) -> Any:
        try:
            return getattr(self, name)
        except AttributeError:
            raise KeyError(name) from None

    def __contains__(self, name: object) -> bool:
        return name in self._fields

    def __iter__(self) -> Iterator[str]:
        return iter(self._fields)

    def __len__(self) -> int:
        return len(self._fields)

    def keys(self) -> Any:
        """The field names."""
        return self._fields.keys()

    def items(self) -> list[tuple]:
        """``(name, value)`` of every field."""
        return [(name, getattr(self, name)) for name in self._fields]

    def get(self, name: str, default: Any = None) -> Any:
        """The field's value, ``default`` if it is not a field or has no value."""
        if name not in self._fields:
            return default
        value = getattr(self, name)
        return default if value is None else value


class Inputs(_FieldValues):
    """A process's inputs: ``inputs.<field>``, typed by the field (see :mod:`resolwe.process.fields`).

    A field without a value is ``None``; a name that is not a field raises
    ``AttributeError`` ("Inputs have no field <name>").
    """

    _what = "Inputs"

    def __init__(self, fields: dict[str, Field], values: dict[str, Any] | None = None):
        super().__init__(fields)
        object.__setattr__(self, "_raw", dict(values or {}))

    def __getattr__(self, name: str) -> Any:
        if name.startswith("_"):
            raise AttributeError(name)
        if name not in self._fields:
            raise self._missing(name)
        if name not in self._values:
            field = self._fields[name]
            value = self._raw.get(name)
            if value is None:
                value = field.default
            self._values[name] = field.to_python(value)
        return self._values[name]

    def __setattr__(self, name: str, value: Any) -> None:
        # A program may replace an input value for itself; nothing is stored.
        if name.startswith("_"):
            object.__setattr__(self, name, value)
        elif name not in self._fields:
            raise self._missing(name)
        else:
            self._values[name] = value

    def __repr__(self) -> str:
        return "Inputs({})".format(", ".join(f"{name}={self._raw.get(name)!r}" for name in self._fields))


class _OutputGroup:
    """``outputs.<group>``: setting ``outputs.<group>.<field>`` reports ``<group>.<field>``."""

    def __init__(self, outputs: Outputs, key: str, field: GroupField):
        object.__setattr__(self, "_outputs", outputs)
        object.__setattr__(self, "_key", key)
        object.__setattr__(self, "_field", field)

    def __getattr__(self, name: str) -> Any:
        if name.startswith("_"):
            raise AttributeError(name)
        field = self._field.fields.get(name)
        if field is None:
            raise AttributeError(f"Outputs have no field {self._key}.{name}")
        if isinstance(field, GroupField):
            return _OutputGroup(self._outputs, f"{self._key}.{name}", field)
        return self._outputs._nested_value(f"{self._key}.{name}")

    def __setattr__(self, name: str, value: Any) -> None:
        field = self._field.fields.get(name)
        if field is None:
            raise AttributeError(f"Outputs have no field {self._key}.{name}")
        self._outputs._save(f"{self._key}.{name}", field, value)

    def __repr__(self) -> str:
        return f"OutputGroup({self._key})"


class Outputs(_FieldValues):
    """A process's outputs: ``outputs.<field> = value`` reports it at once.

    Each assignment is validated (Resolwe's messages: "invalid value for
    <field>: field must be an integer", "Output '<field>' set to a missing
    file: '<path>'.") and appended to ``$RESOLWE_COMMANDS_FILE`` (``save``,
    ``save-file``, ``save-dir``, ``save-list``, ``save-file-list``,
    ``save-dir-list``); the last assignment of a field wins.
    """

    _what = "Outputs"

    def _nested_value(self, key: str) -> Any:
        current: Any = self._values
        for part in key.split("."):
            if not isinstance(current, dict):
                return None
            current = current.get(part)
        return current

    def _save(self, key: str, field: Field, value: Any) -> None:
        if isinstance(field, JsonField):
            if value is None and field.required:
                raise ValidationError(f"invalid value for {field.name}: field is required")
            cleaned = value
        else:
            cleaned = field.clean(value)
        field.save(key, cleaned)
        parts = key.split(".")
        target = self._values
        for part in parts[:-1]:
            nested = target.get(part)
            if not isinstance(nested, dict):
                nested = {}
                target[part] = nested
            target = nested
        if isinstance(field, GroupField):
            cleaned = dict(cleaned._value)
        target[parts[-1]] = cleaned

    def __getattr__(self, name: str) -> Any:
        if name.startswith("_"):
            raise AttributeError(name)
        field = self._fields.get(name)
        if field is None:
            raise self._missing(name)
        if isinstance(field, GroupField):
            return _OutputGroup(self, name, field)
        return self._values.get(name)

    def __setattr__(self, name: str, value: Any) -> None:
        if name.startswith("_"):
            object.__setattr__(self, name, value)
            return
        field = self._fields.get(name)
        if field is None:
            raise self._missing(name)
        self._save(name, field, value)

    def __setitem__(self, name: str, value: Any) -> None:
        setattr(self, name, value)

    def freeze(self) -> Outputs:
        """Resolwe compatibility (outputs are reported as they are set)."""
        return self

    def __repr__(self) -> str:
        return f"Outputs({self._values!r})"


def _report_error(message: str) -> None:
    records.write_record("error", message)


class Process(metaclass=ProcessMeta):
    """Resolwe process: the base class of every Python process.

    A base class that is not a process itself sets ``_abstract = True``.
    """

    _abstract = True
    _meta: ProcessDescriptor

    def __init__(self, data: Data):
        self.logger = logging.getLogger(self.__class__.__name__)
        self.data = data
        self.process = self.data.process

    def run(self, inputs: Any, outputs: Any) -> None:
        """The process (overridden by every process)."""
        raise NotImplementedError

    # ---------------------------------------------------------------- reports
    def progress(self, progress: float) -> None:
        """Report progress, a float between 0 and 1."""
        assert 0 <= progress <= 1, "Progress must be a float between 0 and 1."
        records.write_record("progress", repr(float(progress)))

    def _process_log(self, log: dict[str, list[str]]) -> None:
        """Report info/warning/error messages (``{"info": [...], ...}``)."""
        for kind in ("info", "warning", "error"):
            for message in log.get(kind, []):
                records.write_record(kind, message)

    def info(self, *args: Any) -> None:
        """Report an informational message."""
        records.write_record("info", _message(self, args))

    def warning(self, *args: Any) -> None:
        """Report a warning."""
        records.write_record("warning", _message(self, args))

    def error(self, *args: Any) -> None:
        """Report an error: the Data object ends in ER with this message, and the program ends."""
        _report_error(_message(self, args))
        raise ProcessAbort(1)

    # --------------------------------------------------------------- actions
    def export_files(self, exports: str | list[Any] | dict[str, Any]) -> None:
        """Export the files named in ``exports`` (values that are existing files) for a spawned process."""
        for name in _file_list(exports):
            records.write_record("export", name)

    def run_process(self, slug: str, inputs: dict[str, Any]) -> None:
        """Run a new process: a child Data object of this one, created now, as in Resolwe.

        Files named in ``inputs`` (existing files of the Data directory) are exported for it;
        a refusal (an unknown process, invalid inputs) raises ``ChannelError``.
        """
        plain = json.loads(_json_arg(inputs))
        channel.request("run", process=slug, input=plain, export=_file_list(plain))

    def update_entity_descriptor(self, annotations: dict[str, Any]) -> None:
        """Annotate this Data object's entity (``{"group.field": value}``), as ``re-annotate-entity``."""
        for key, value in annotations.items():
            records.write_record("annotate-entity", key, _json_arg(value))

    def get_data_id_by_slug(self, slug: str) -> Any:
        """The id of the Data object with ``slug``."""
        return Data.from_slug(slug).id

    # ------------------------------------------------------------ properties
    @property
    def requirements(self) -> DotDict:
        """The effective requirements (resources included), by key and attribute."""
        requirements = _running.get("requirements")
        if requirements is None:
            requirements = getattr(getattr(self, "_meta", None), "metadata", None)
            requirements = getattr(requirements, "requirements", None) or {}
        return DotDict(requirements)

    @property
    def name(self) -> Any:
        """The Data object's name."""
        return self.data.name

    @property
    def relations(self) -> list[RelationDescriptor]:
        """The relations of this Data object's entity."""
        return self.data.relations

    def start(self, inputs: Any = None, outputs: Any = None) -> Any:
        """Run the process with the running Data object's inputs and outputs."""
        inputs = inputs if inputs is not None else _running.get("inputs")
        outputs = outputs if outputs is not None else _running.get("outputs")
        self.run(inputs, outputs)
        return outputs
