"""Process input and output fields, and the values a program sees for them.

The field classes take Resolwe's constructor arguments (``StringField(label=...)``,
``DataField("reads:", relation_type=...)``, ``UrlField(UrlField.DOWNLOAD, ...)``,
``ListField(inner, ...)``, ``GroupField(GroupClass, ...)``). What a program reads:

==================  ===========================================================
type                value
==================  ===========================================================
string, text,       the stored value (``int``/``float`` converted)
date, datetime,
boolean, integer,
float (decimal)
url                 :class:`UrlValue`: a ``str`` (the URL, as Resolwe returns)
                    with ``.url``, ``.name`` and ``.refs``
secret              :class:`SecretValue`: the stored ``{"handle": ...}`` with
                    ``.handle``, ``.path`` (``/secrets/<handle>``) and ``.value``
file, file:html     :class:`FileDescriptor` (``.path``, ``.file_temp``,
                    ``.size``, ``.refs``, ``import_file()``)
dir                 :class:`DirDescriptor`
json                a Storage id becomes a :class:`~resolwe.process.models.Storage`
                    (``.json``, and item access to the content); anything else
                    stays as it is
data                :class:`~resolwe.process.models.Data` (lazy, over the channel)
list                a list of the inner type's values
group               :class:`GroupDescriptor` (attribute access, defaults filled)
==================  ===========================================================
"""

from __future__ import annotations

import collections
import json
import os
import shutil
import subprocess
import sys
from typing import Any

from . import records
from .descriptor import ValidationError

__all__ = [
    "BooleanField",
    "DataField",
    "DateField",
    "DateTimeField",
    "DirDescriptor",
    "DirField",
    "DownloadUrlField",
    "Field",
    "FileDescriptor",
    "FileField",
    "FileHtmlField",
    "FloatField",
    "GroupDescriptor",
    "GroupField",
    "ImportedFormat",
    "IntegerField",
    "JsonField",
    "LinkUrlField",
    "ListField",
    "RelationDescriptor",
    "RelationPartitionDescriptor",
    "SecretField",
    "SecretValue",
    "StringField",
    "TextField",
    "UrlField",
    "UrlValue",
    "ValidationError",
    "ViewUrlField",
    "fields_from_schema",
]

#: Where the program finds its secrets (``/secrets/<handle>``).
SECRETS_DIR = os.environ.get("RESOLWE_SECRETS_DIR", "/secrets")
#: Where the re-* utilities are when they are not on PATH.
BIN_DIR = "/opt/resolwe/bin"


class ProcessAbort(SystemExit):
    """End the program now: the reason is already reported (an ``error`` record)."""

    def __init__(self, code: int = 1):
        super().__init__(code)


def _json_arg(value: Any) -> str:
    """A record argument holding ``value`` as JSON (strings stay strings: ``"42"``)."""
    from .channel import to_json

    return json.dumps(to_json(value), ensure_ascii=False)


# ----------------------------------------------------------------- file import
class ImportedFormat:
    """What ``FileDescriptor.import_file`` keeps."""

    EXTRACTED = "extracted"
    COMPRESSED = "compressed"
    BOTH = "both"


_COMPRESSION_ARG = {
    ImportedFormat.EXTRACTED: "extract",
    ImportedFormat.COMPRESSED: "compress",
    ImportedFormat.BOTH: "",
}


def _re_import_path() -> str:
    return shutil.which("re-import") or os.path.join(BIN_DIR, "re-import")


class FileDescriptor:
    """A file: ``path`` (for an upload, its file name; ``file_temp`` is where it is)."""

    CHUNK_SIZE = 10_000_000

    def __init__(
        self,
        path: Any,
        size: int | None = None,
        total_size: int | None = None,
        is_remote: Any = False,
        file_temp: str | None = None,
        refs: list[str] | None = None,
        file_field: Field | None = None,
    ):
        self.path = os.fspath(path) if isinstance(path, os.PathLike) else path
        self.size = size
        self.total_size = total_size
        self.is_remote = is_remote
        self.file_temp = file_temp
        self.file_field = file_field
        self.refs = list(refs) if refs is not None else []

    def import_file(
        self, imported_format: str | None = None, progress_from: float = 0.0, progress_to: float | None = None
    ) -> str:
        """Bring the file into the working directory, (de)compressed as Resolwe does.

        ``imported_format``: :class:`ImportedFormat` ``extracted``, ``compressed``
        or ``both`` (default). Archives (``.zip``, ``.bz2``, ``.rar``, ``.7z``,
        ``.tgz``, ``.tar.gz``, ``.tar.bz2``) are extracted; a single file becomes
        ``NAME`` (and ``NAME.gz``), several become ``NAME.tar.gz`` and/or the
        extracted entries. The work is done by the ``re-import`` utility; its
        failure (already reported as an error) ends the program.

        :return: the extracted file name, or the compressed one with ``compressed``.
        """
        if imported_format is None:
            imported_format = ImportedFormat.BOTH
        if imported_format not in _COMPRESSION_ARG:
            raise ValueError(f"Unknown imported_format: {imported_format!r}.")
        if progress_to is not None:
            if not isinstance(progress_from, float) or not isinstance(progress_to, float):
                raise ValueError("Progress_from and progress_to must be float")
            if progress_from < 0 or progress_from > 1:
                raise ValueError("Progress_from must be between 0 and 1")
            if progress_to < 0 or progress_to > 1:
                raise ValueError("Progress_to must be between 0 and 1")
            if progress_from >= progress_to:
                raise ValueError("Progress_to must be higher than progress_from")

        src = self.file_temp or self.path
        file_name = os.path.basename(str(self.path).split("?", 1)[0]) if self.path else ""
        print(f"Importing and compressing {file_name or src}...", flush=True)
        command = [
            _re_import_path(),
            str(src),
            file_name,
            "",
            "",
            "" if progress_to is None else repr(float(progress_to)),
            _COMPRESSION_ARG[imported_format],
        ]
        sys.stdout.flush()
        sys.stderr.flush()
        completed = subprocess.run(command, stdout=subprocess.PIPE, check=False)
        if completed.returncode != 0:
            # re-import has reported the error (the Data object is ER already).
            raise ProcessAbort(1)
        lines = completed.stdout.decode("utf-8", errors="replace").splitlines()
        result = lines[-1] if lines else ""
        if result in ("", "."):
            # Several archive entries were extracted: Resolwe names them by the archive.
            result = os.path.splitext(file_name)[0]
        return result

    def __fspath__(self) -> str:
        return str(self.path)

    def __eq__(self, other: object) -> bool:
        if isinstance(other, FileDescriptor):
            return (self.path, self.refs) == (other.path, other.refs)
        return NotImplemented

    def __hash__(self) -> int:
        return hash(self.path)

    def __repr__(self) -> str:
        return f"<FileDescriptor path={self.path}>"


class DirDescriptor:
    """A directory: ``path``, ``size``, ``total_size``, ``refs``."""

    def __init__(
        self, path: Any, size: int | None = None, total_size: int | None = None, refs: list[str] | None = None
    ):
        self.path = os.fspath(path) if isinstance(path, os.PathLike) else path
        self.size = size
        self.total_size = total_size
        self.refs = list(refs) if refs is not None else []

    def __fspath__(self) -> str:
        return str(self.path)

    def __eq__(self, other: object) -> bool:
        if isinstance(other, DirDescriptor):
            return (self.path, self.refs) == (other.path, other.refs)
        return NotImplemented

    def __hash__(self) -> int:
        return hash(self.path)

    def __repr__(self) -> str:
        return f"<DirDescriptor path={self.path}>"


class UrlValue(str):
    """A URL input: the URL itself (a ``str``), with ``.url``, ``.name`` and ``.refs``."""

    name: str | None
    refs: list[str]

    def __new__(cls, url: str, name: str | None = None, refs: list[str] | None = None) -> UrlValue:
        value = super().__new__(cls, url)
        value.name = name
        value.refs = list(refs) if refs else []
        return value

    @property
    def url(self) -> str:
        """The URL."""
        return str.__str__(self)

    def to_dict(self) -> dict[str, Any]:
        """The stored form ``{"url": ..., "name": ..., "refs": [...]}``."""
        result: dict[str, Any] = {"url": self.url}
        if self.name is not None:
            result["name"] = self.name
        if self.refs:
            result["refs"] = list(self.refs)
        return result


class SecretValue(dict):
    """A secret input: the stored ``{"handle": ...}``; the value is the file ``/secrets/<handle>``."""

    @property
    def handle(self) -> str | None:
        """The secret's handle."""
        return self.get("handle")

    @property
    def path(self) -> str:
        """Where the program reads the secret."""
        return os.path.join(SECRETS_DIR, str(self.handle))

    @property
    def value(self) -> str:
        """The secret itself (read from its file)."""
        with open(self.path, encoding="utf-8") as handle:
            return handle.read()


class GroupDescriptor:
    """A group value: attribute (and item) access to its fields."""

    def __init__(self, value: dict[str, Any]):
        self._value = value

    def __getattr__(self, name: str) -> Any:
        if name.startswith("__") or name == "_value":
            raise AttributeError(name)
        try:
            return self._value[name]
        except KeyError:
            raise AttributeError(name) from None

    def __getitem__(self, name: str) -> Any:
        return self._value[name]

    def __contains__(self, name: object) -> bool:
        return name in self._value

    def __iter__(self) -> Any:
        return iter(self._value)

    def __len__(self) -> int:
        return len(self._value)

    def get(self, name: str, default: Any = None) -> Any:
        """The field's value, or ``default``."""
        return self._value.get(name, default)

    def keys(self) -> Any:
        """Field names."""
        return self._value.keys()

    def items(self) -> Any:
        """``(name, value)`` pairs."""
        return self._value.items()

    def values(self) -> Any:
        """Field values."""
        return self._value.values()

    def __eq__(self, other: object) -> bool:
        if isinstance(other, GroupDescriptor):
            return self._value == other._value
        if isinstance(other, dict):
            return self._value == other
        return NotImplemented

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        return f"GroupDescriptor({self._value!r})"


class RelationPartitionDescriptor:
    """A partition of a relation: ``entity_id``, ``position``, ``label``."""

    def __init__(self, entity_id: Any, position: Any = None, label: Any = None):
        self.entity_id = entity_id
        self.position = position
        self.label = label

    def __repr__(self) -> str:
        return f"<RelationPartition entity_id={self.entity_id} position={self.position} label={self.label}>"


class RelationDescriptor:
    """A relation between entities: ``id``, ``type``, ``ordered``, ``category``, ``unit``, ``partitions``."""

    def __init__(self, id: Any, type: Any, ordered: Any, category: Any, partitions: Any, unit: Any = None):
        self.id = id
        self.type = type
        self.ordered = ordered
        self.category = category
        self.unit = unit
        self.partitions = partitions

    def __eq__(self, other: object) -> bool:
        if isinstance(other, RelationDescriptor):
            return self.id == other.id
        return False

    def __hash__(self) -> int:
        return hash(self.id)

    def __repr__(self) -> str:
        return f"<Relation id={self.id} type={self.type}>"

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> RelationDescriptor:
        """From Resolwe's serialized form (``relation_id``, ``relation_type_name``, ...) or the channel's."""
        type_ = data.get("relation_type_name", data.get("type"))
        ordered = data.get("relation_type_ordered", data.get("ordered"))
        if isinstance(type_, dict):  # {"name": ..., "ordered": ...}
            if ordered is None:
                ordered = type_.get("ordered")
            type_ = type_.get("name")
        partitions = []
        for partition in data.get("partitions") or []:
            entity = partition.get("entity_id", partition.get("entity"))
            if isinstance(entity, dict):
                entity = entity.get("id")
            partitions.append(
                RelationPartitionDescriptor(
                    entity_id=entity, position=partition.get("position"), label=partition.get("label")
                )
            )
        return cls(
            id=data.get("relation_id", data.get("id")),
            type=type_,
            ordered=ordered,
            category=data.get("category"),
            partitions=partitions,
            unit=data.get("unit"),
        )


# ---------------------------------------------------------------------- fields
class Field:
    """A process input or output field."""

    field_type: str | None = None

    def __init__(
        self,
        label: Any = None,
        required: Any = True,
        description: Any = None,
        default: Any = None,
        choices: Any = None,
        allow_custom_choice: Any = None,
        disabled: Any = False,
        hidden: Any = False,
        *args: Any,
        **kwargs: Any,
    ):
        self.name: str | None = None
        self.process: Any = None
        self.label = label
        self.required = required
        self.description = description
        self.default = default
        self.choices = choices
        self.allow_custom_choice = allow_custom_choice
        self.hidden = hidden
        self.disabled = disabled

    def get_field_type(self) -> str | None:
        """This field's type (``basic:string``, ``list:data:reads``, ...)."""
        return self.field_type

    def contribute_to_class(self, process: Any, fields: dict[str, Field], name: str) -> None:
        """Register this field under ``name``."""
        self.name = name
        self.process = process
        fields[name] = self

    def to_python(self, value: Any) -> Any:
        """The value a program sees."""
        return value

    def to_output(self, value: Any) -> Any:
        """The stored (JSON) form of a value."""
        return value

    def validate(self, value: Any) -> None:
        """Raise :class:`ValidationError` for an invalid value."""
        if self.required and value is None:
            raise ValidationError("field is required")
        if value is not None and self.choices is not None:
            choices = [choice for choice, _ in self.choices]
            if value not in choices and not self.allow_custom_choice:
                raise ValidationError("field must be one of: {}".format(", ".join(str(c) for c in choices)))

    def clean(self, value: Any) -> Any:
        """Default, convert and validate; errors name the field."""
        if value is None:
            value = self.default
        try:
            value = self.to_python(value)
            self.validate(value)
        except ValidationError as error:
            raise ValidationError(f"invalid value for {self.name}: {error.args[0]}") from None
        return value

    def save(self, key: str, value: Any) -> None:
        """Report ``value`` (already cleaned) as output ``key``."""
        records.write_record("save", key, _json_arg(self.to_output(value)))

    def __repr__(self) -> str:
        return f'<{self.__class__.__name__} name={self.name} type={self.get_field_type()} label="{self.label}">'


class StringField(Field):
    """String field."""

    field_type = "basic:string"

    def validate(self, value: Any) -> None:
        if value is not None and not isinstance(value, str):
            raise ValidationError("field must be a string")
        super().validate(value)


class TextField(StringField):
    """Text field."""

    field_type = "basic:text"


class BooleanField(Field):
    """Boolean field."""

    field_type = "basic:boolean"

    def validate(self, value: Any) -> None:
        if value is not None and not isinstance(value, bool):
            raise ValidationError("field must be a boolean")
        super().validate(value)


class IntegerField(Field):
    """Integer field."""

    field_type = "basic:integer"

    def __init__(self, range: Any = None, *args: Any, **kwargs: Any):
        self.range = range
        super().__init__(*args, **kwargs)

    def to_python(self, value: Any) -> Any:
        if value is not None:
            try:
                return int(value)
            except (TypeError, ValueError):
                raise ValidationError("field must be an integer") from None
        return None


class FloatField(Field):
    """Float field (``basic:decimal``)."""

    field_type = "basic:decimal"

    def __init__(self, range: Any = None, *args: Any, **kwargs: Any):
        self.range = range
        super().__init__(*args, **kwargs)

    def to_python(self, value: Any) -> Any:
        if value is not None:
            try:
                return float(value)
            except (TypeError, ValueError):
                raise ValidationError("field must be a float") from None
        return None


class DateField(Field):
    """Date field."""

    field_type = "basic:date"


class DateTimeField(Field):
    """Date time field."""

    field_type = "basic:datetime"


class UrlField(Field):
    """URL field."""

    DOWNLOAD = "download"
    VIEW = "view"
    LINK = "link"
    URL_TYPES = (DOWNLOAD, VIEW, LINK)

    def __init__(self, url_type: str, *args: Any, **kwargs: Any):
        if url_type not in self.URL_TYPES:
            raise ValueError("url_type must be one of: {}".format(", ".join(self.URL_TYPES)))
        self.url_type = url_type
        super().__init__(*args, **kwargs)

    def get_field_type(self) -> str:
        return f"basic:url:{self.url_type}"

    def to_python(self, value: Any) -> Any:
        if isinstance(value, UrlValue):
            return value
        if isinstance(value, str):
            return UrlValue(value)
        if isinstance(value, dict):
            if "url" not in value:
                raise ValidationError("dictionary must contain an 'url' element")
            if not isinstance(value["url"], str):
                raise ValidationError("field's url element must be a string")
            return UrlValue(value["url"], name=value.get("name"), refs=value.get("refs"))
        if value is not None:
            raise ValidationError("field must be a string or a dict")
        return None

    def to_output(self, value: Any) -> Any:
        if isinstance(value, UrlValue):
            return value.to_dict()
        return value if value is None else {"url": str(value)}


class DownloadUrlField(UrlField):
    """``basic:url:download``."""

    field_type = "basic:url:download"

    def __init__(self, *args: Any, **kwargs: Any):
        super().__init__(UrlField.DOWNLOAD, *args, **kwargs)


class ViewUrlField(UrlField):
    """``basic:url:view``."""

    field_type = "basic:url:view"

    def __init__(self, *args: Any, **kwargs: Any):
        super().__init__(UrlField.VIEW, *args, **kwargs)


class LinkUrlField(UrlField):
    """``basic:url:link``."""

    field_type = "basic:url:link"

    def __init__(self, *args: Any, **kwargs: Any):
        super().__init__(UrlField.LINK, *args, **kwargs)


class SecretField(Field):
    """Secret field: the value is ``{"handle": ...}``, the secret the file ``/secrets/<handle>``."""

    field_type = "basic:secret"

    def to_python(self, value: Any) -> Any:
        if isinstance(value, dict) and not isinstance(value, SecretValue):
            return SecretValue(value)
        return value


def _check_refs(key: str, refs: list[str]) -> None:
    missing = [ref for ref in refs if not (os.path.isfile(ref) or os.path.isdir(ref))]
    if missing:
        raise ValidationError("Output '{}' set to missing references: '{}'.".format(key, ", ".join(missing)))


class _PathField(Field):
    """What file and directory fields share: a descriptor given as a path or a dict, saved with its refs."""

    element = "file"  # the key of the path in the stored value
    kind = "file"  # the word in Resolwe's messages
    record = "save-file"
    descriptor: type = FileDescriptor

    def _exists(self, path: str) -> bool:
        return os.path.isfile(path)

    def _describe(self, path: Any, **details: Any) -> Any:
        return self.descriptor(path, **details)

    def _details(self, value: dict[str, Any]) -> dict[str, Any]:
        """The descriptor's details beyond the path, from a stored value."""
        refs = value.get("refs")
        if refs is not None and not isinstance(refs, list):
            raise ValidationError("field's refs element must be a list of strings")
        return {"size": value.get("size"), "total_size": value.get("total_size"), "refs": refs}

    def to_python(self, value: Any) -> Any:
        if isinstance(value, self.descriptor):
            return value
        if isinstance(value, (str, os.PathLike)):
            return self._describe(value)
        if isinstance(value, dict):
            if self.element not in value:
                raise ValidationError(f"dictionary must contain a '{self.element}' element")
            if not isinstance(value[self.element], str):
                raise ValidationError(f"field's {self.element} element must be a string")
            return self._describe(value[self.element], **self._details(value))
        if value is not None:
            raise ValidationError(f"field must be a {self.descriptor.__name__}, string or a dict")
        return None

    def to_output(self, value: Any) -> Any:
        if value is None:
            return None
        data: dict[str, Any] = {self.element: value.path}
        if value.refs:
            data["refs"] = list(value.refs)
        return data

    def check(self, key: str, value: Any) -> None:
        """Resolwe's checks when the output is set (the text of ``re-save-file`` / ``re-save-dir``)."""
        if not self._exists(value.path):
            raise ValidationError(f"Output '{key}' set to a missing {self.kind}: '{value.path}'.")
        _check_refs(key, value.refs)

    def save(self, key: str, value: Any) -> None:
        if value is None:
            records.write_record("save", key, "null")
            return
        self.check(key, value)
        records.write_record(self.record, key, value.path, *value.refs)


class FileField(_PathField):
    """File field."""

    field_type = "basic:file"

    def _describe(self, path: Any, **details: Any) -> Any:
        return FileDescriptor(path, file_field=self, **details)

    def _details(self, value: dict[str, Any]) -> dict[str, Any]:
        return {
            **super()._details(value),
            "is_remote": value.get("is_remote", False),
            "file_temp": value.get("file_temp"),
        }


class FileHtmlField(FileField):
    """HTML file field."""

    field_type = "basic:file:html"


class DirField(_PathField):
    """Directory field."""

    field_type = "basic:dir"
    element = "dir"
    kind = "directory"
    record = "save-dir"
    descriptor = DirDescriptor

    def _exists(self, path: str) -> bool:
        return os.path.isdir(path)


class JsonField(Field):
    """JSON field: stored as a Storage object."""

    field_type = "basic:json"

    def to_python(self, value: Any) -> Any:
        from .models import Storage

        if isinstance(value, bool):
            return value
        if isinstance(value, int):
            return Storage(value)
        return value

    def to_output(self, value: Any) -> Any:
        from .models import Storage

        if isinstance(value, Storage):
            return value.json
        return value

    def save(self, key: str, value: Any) -> None:
        # A file name: its content is stored (read when the outputs are collected).
        if isinstance(value, os.PathLike):
            value = os.fspath(value)
        if isinstance(value, str) and os.path.isfile(value):
            records.write_record("save", key, value)
            return
        records.write_record("save", key, _json_arg(self.to_output(value)))


class ListField(Field):
    """A list of values of the ``inner`` field's type."""

    def __init__(self, inner: Field, *args: Any, **kwargs: Any):
        if not isinstance(inner, Field):
            raise TypeError("inner field must be an instance of Field")
        self.inner = inner
        self.args = args
        self.kwargs = kwargs
        super().__init__(*args, **kwargs)

    def contribute_to_class(self, process: Any, fields: dict[str, Field], name: str) -> None:
        super().contribute_to_class(process, fields, name)
        self.inner.name = name
        self.inner.process = process

    def get_field_type(self) -> str:
        return f"list:{self.inner.get_field_type()}"

    def to_python(self, value: Any) -> Any:
        if isinstance(value, int) and not isinstance(value, bool):
            value = [value]
        if value is None:
            value = []
        if isinstance(value, (str, bytes, dict)) or not hasattr(value, "__iter__"):
            raise ValidationError("field must be a list")
        return [self.inner.to_python(item) for item in value]

    def to_output(self, value: Any) -> Any:
        return [self.inner.to_output(item) for item in value]

    def validate(self, value: Any) -> None:
        if value is not None:
            if not isinstance(value, list):
                raise ValidationError("field must be a list")
            for index, element in enumerate(value):
                try:
                    self.inner.validate(element)
                except ValidationError as error:
                    raise ValidationError(f"invalid element {index}: {error.args[0]}") from None
        super().validate(value)

    def save(self, key: str, value: Any) -> None:
        inner = self.inner
        if isinstance(inner, (FileField, DirField)):
            kind = "file" if isinstance(inner, FileField) else "dir"
            for item in value:
                inner.check(key, item)
            specs = []
            plain = True
            for item in value:
                path = str(item.path)
                if ":" in path or any("," in ref or ":" in ref for ref in item.refs):
                    plain = False  # The PATH:REF,REF form cannot hold it: store the JSON.
                specs.append(path + (":" + ",".join(item.refs) if item.refs else ""))
            if plain:
                records.write_record(f"save-{kind}-list", key, *specs)
            else:
                records.write_record("save", key, _json_arg(self.to_output(value)))
        elif isinstance(inner, (GroupField, ListField, JsonField)):
            records.write_record("save", key, _json_arg(self.to_output(value)))
        else:
            records.write_record("save-list", key, *(_json_arg(inner.to_output(item)) for item in value))


class DataField(Field):
    """Data object field (``data:<type>``)."""

    field_type = "data"

    def __init__(
        self, data_type: str, relation_type: Any = None, relation_npartitions: Any = None, *args: Any, **kwargs: Any
    ):
        self.data_type = data_type
        self.relation_type = relation_type
        self.relation_npartitions = relation_npartitions
        super().__init__(*args, **kwargs)

    def get_field_type(self) -> str:
        return f"data:{self.data_type}"

    def to_python(self, value: Any) -> Any:
        from .models import Data

        if value is None or isinstance(value, Data):
            return value
        if isinstance(value, dict) and isinstance(value.get("id"), int):
            value = value["id"]
        if isinstance(value, int) and not isinstance(value, bool):
            return Data(value)
        raise ValidationError("field must be a DataDescriptor or int")

    def to_output(self, value: Any) -> Any:
        from .models import Data

        return value.id if isinstance(value, Data) else value


class GroupField(Field):
    """A group of fields (``basic:group``)."""

    field_type = "basic:group"

    def __init__(
        self,
        field_group: Any,
        label: Any = None,
        description: Any = None,
        disabled: Any = False,
        collapsed: Any = False,
        hidden: Any = False,
    ):
        super().__init__(label=label, required=None, description=description, hidden=hidden)
        self.disabled = disabled
        self.collapsed = collapsed
        self.field_group = field_group
        self.fields: collections.OrderedDict[str, Field] = collections.OrderedDict()

    def contribute_to_class(self, process: Any, fields: dict[str, Field], name: str) -> None:
        # The group's fields in definition order (the class __dict__ keeps it).
        namespace = self.field_group if isinstance(self.field_group, dict) else vars(self.field_group)
        for field_name in list(namespace):
            if field_name.startswith("_"):
                continue
            field = namespace[field_name]
            if isinstance(field, Field):
                field.contribute_to_class(process, self.fields, field_name)
        super().contribute_to_class(process, fields, name)

    def to_python(self, value: Any) -> Any:
        if isinstance(value, GroupDescriptor):
            value = value._value
        if value is None:
            value = {}
        if not isinstance(value, dict):
            raise ValidationError("field must be a dict")
        result = {}
        for name, field in self.fields.items():
            item = value.get(name)
            if item is None:
                item = field.default
            result[name] = field.to_python(item)
        return GroupDescriptor(result)

    def to_output(self, value: Any) -> Any:
        if isinstance(value, GroupDescriptor):
            value = value._value
        return {
            name: self.fields[name].to_output(item) if name in self.fields else item
            for name, item in value.items()
            if item is not None
        }

    def save(self, key: str, value: Any) -> None:
        items = value._value if isinstance(value, GroupDescriptor) else value
        for name, item in items.items():
            if item is None:
                continue
            field = self.fields.get(name)
            if field is None:
                raise ValidationError(f"invalid value for {self.name}: no field {name} in the group")
            field.save(f"{key}.{name}", item)


# ------------------------------------------------------------- schema → fields
ALL_FIELDS = [
    StringField,
    TextField,
    BooleanField,
    IntegerField,
    FloatField,
    DateField,
    DateTimeField,
    DownloadUrlField,
    ViewUrlField,
    LinkUrlField,
    UrlField,
    SecretField,
    FileField,
    FileHtmlField,
    DirField,
    JsonField,
    ListField,
    DataField,
    GroupField,
]

_SIMPLE_TYPES = {
    "basic:string": StringField,
    "basic:text": TextField,
    "basic:boolean": BooleanField,
    "basic:integer": IntegerField,
    "basic:decimal": FloatField,
    "basic:float": FloatField,
    "basic:date": DateField,
    "basic:datetime": DateTimeField,
    "basic:secret": SecretField,
    "basic:file:html": FileHtmlField,
    "basic:file": FileField,
    "basic:dir": DirField,
    "basic:json": JsonField,
}


def get_available_fields() -> list[type]:
    """The field classes."""
    return list(ALL_FIELDS)


def field_from_schema(descriptor: dict[str, Any]) -> Field:
    """One field of a stored schema (``{"name": ..., "type": ..., ...}``)."""
    type_ = str(descriptor.get("type", "")).rstrip(":")
    kwargs = {
        "label": descriptor.get("label"),
        "required": descriptor.get("required", True),
        "default": descriptor.get("default"),
    }
    return _field_for_type(type_, descriptor, kwargs)


def _field_for_type(type_: str, descriptor: dict[str, Any], kwargs: dict[str, Any]) -> Field:
    if type_.startswith("list:"):
        inner = _field_for_type(type_[len("list:") :], descriptor, {})
        return ListField(inner, **kwargs)
    if type_ == "data" or type_.startswith("data:"):
        return DataField(type_[len("data:") :], **kwargs)
    if type_ == "basic:group" or type_.startswith("basic:group:"):
        group = GroupField({}, label=kwargs.get("label"))
        group.fields.update(fields_from_schema(descriptor.get("group") or []))
        return group
    if type_.startswith("basic:url"):
        url_type = type_.split(":")[2] if type_.count(":") >= 2 else UrlField.DOWNLOAD
        if url_type not in UrlField.URL_TYPES:
            url_type = UrlField.DOWNLOAD
        return UrlField(url_type, **kwargs)
    field_class = _SIMPLE_TYPES.get(type_)
    if field_class is None:
        for prefix, candidate in _SIMPLE_TYPES.items():
            if type_.startswith(prefix + ":"):
                field_class = candidate
                break
    if field_class is None:
        field = Field(**kwargs)
        field.field_type = type_
        return field
    return field_class(**kwargs)


def fields_from_schema(schema: list[dict[str, Any]]) -> dict[str, Field]:
    """The fields of a stored input or output schema, by name."""
    fields: dict[str, Field] = collections.OrderedDict()
    for descriptor in schema or []:
        if not isinstance(descriptor, dict) or "name" not in descriptor:
            continue
        field = field_from_schema(descriptor)
        field.contribute_to_class(None, fields, descriptor["name"])
    return fields
