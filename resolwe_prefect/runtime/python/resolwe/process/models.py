"""The object API: lazy proxies of server objects, answered over the channel.

An object is its model name and id; every attribute is asked for with the
channel's ``fields`` command on first access and cached. Setting a field sends
``update``. Class methods: ``filter``, ``iterate``, ``exists``, ``get``,
``create`` (and ``Process.get_latest``, ``DescriptorSchema.get_latest``,
``Data.from_slug``). Foreign keys read as objects, many-to-many fields as lists
of objects; objects (also inside dicts and lists) are sent as their ids.

A refusal of the flow run raises :class:`~resolwe.process.channel.ChannelError`
(a ``RuntimeError`` with the flow run's message, e.g. "No objects match the
given criteria or no permission to read object.").
"""

from __future__ import annotations

from collections.abc import Iterator, MutableMapping
from typing import Any

from .channel import ChannelError, channel, to_json
from .fields import (
    DirDescriptor,
    DirField,
    Field,
    FileDescriptor,
    FileField,
    ListField,
    RelationDescriptor,
    fields_from_schema,
)

__all__ = [
    "Collection",
    "Data",
    "DescriptorSchema",
    "Entity",
    "EntityAnnotation",
    "JSONDescriptor",
    "Model",
    "Process",
    "RegisteredModels",
    "Relation",
    "Storage",
    "User",
]

NO_OBJECT = "No objects match the given criteria or no permission to read object."

#: The running Data object: its id, inputs and outputs (set by the runner).
_running: dict[str, Any] = {"data_id": None, "inputs": None, "outputs": None}


def set_running(data_id: Any, inputs: Any = None, outputs: Any = None) -> None:
    """Tell the models which Data object this program is (``self.data``)."""
    _running.update(data_id=data_id, inputs=inputs, outputs=outputs)


def _object_id(value: Any) -> Any:
    """The id in a reply value: an int, ``{"id": ..}`` or ``None``."""
    if isinstance(value, dict):
        return value.get("id")
    return value


class RegisteredModels:
    """Model classes by full name (``flow.Data``)."""

    _known_models: dict[str, type[Model]] = {}

    def get_model(self, full_model_name: str) -> type[Model]:
        """The class registered under ``full_model_name`` (``Model`` if none)."""
        return self._known_models.get(full_model_name, Model)

    def get_by_name(self, model_name: str) -> type[Model]:
        """The class whose model name (``Data``) is ``model_name``."""
        for model in self._known_models.values():
            if model._model_name == model_name:
                return model
        return Model

    def register_model(self, model_class: type[Model]) -> None:
        """Register (or replace) a model class."""
        self._known_models[f"{model_class._app_name}.{model_class._model_name}"] = model_class


class Model:
    """A server object of model ``_model_name`` with id ``pk``.

    ``_fields`` maps the readable fields to their kind: ``"value"``,
    ``"fk:<Model>"``, ``"m2m:<Model>"``; ``None`` (a model a process defines
    itself) means any public attribute is asked for.
    """

    _app_name = "flow"
    _model_name = "Model"
    _fields: dict[str, str] | None = None
    #: Fields returned with ``filter`` (besides ``id``).
    _filter_response_fields: list[str] = []

    def __init_subclass__(cls, **kwargs: Any):
        super().__init_subclass__(**kwargs)
        RegisteredModels().register_model(cls)

    def __init__(self, pk: Any):
        object.__setattr__(self, "_pk", pk)
        object.__setattr__(self, "_cache", {"id": pk})
        object.__setattr__(self, "_values", {})

    # ------------------------------------------------------------ identity
    @property
    def id(self) -> Any:
        """The object's id."""
        return self._pk

    @property
    def pk(self) -> Any:
        """The object's id."""
        return self._pk

    @property
    def full_model_name(self) -> str:
        """``app.Model``."""
        return f"{self._app_name}.{self._model_name}"

    def __eq__(self, other: object) -> bool:
        if isinstance(other, Model):
            return (self._model_name, self._pk) == (other._model_name, other._pk)
        return NotImplemented

    def __hash__(self) -> int:
        return hash((self._model_name, self._pk))

    def __str__(self) -> str:
        return f"{self._model_name}(pk={self._pk})"

    __repr__ = __str__

    # ------------------------------------------------------------- fields
    @classmethod
    def _field_kind(cls, name: str) -> str | None:
        if cls._fields is None:
            return "value"
        return cls._fields.get(name)

    def _prefill(self, values: dict[str, Any]) -> None:
        """Cache field values already known (from a reply or from run.json)."""
        for name, value in values.items():
            if name == "id":
                continue
            if name.endswith("_id") and self._field_kind(name[:-3]) not in (None, "value"):
                name = name[:-3]
            self._cache[name] = value
            self._values.pop(name, None)

    def _convert(self, name: str, value: Any) -> Any:
        kind = self._field_kind(name) or "value"
        if kind.startswith("fk:"):
            object_id = _object_id(value)
            if object_id is None:
                return None
            return RegisteredModels().get_by_name(kind[3:])(object_id)
        if kind.startswith("m2m:"):
            model = RegisteredModels().get_by_name(kind[4:])
            return [model(_object_id(item)) for item in value or []]
        return value

    def _fetch(self, names: list[str]) -> None:
        reply = channel.request("fields", model=self._model_name, id=self._pk, names=names)
        if not isinstance(reply, dict):
            reply = {}
        for name in names:
            if name in reply:
                self._cache[name] = reply[name]
            elif name + "_id" in reply:
                self._cache[name] = reply[name + "_id"]
            else:
                raise ChannelError(
                    f"No data received for property '{name}' of model {self._model_name} with id {self._pk}. "
                    "Check property name and permissions."
                )

    def _get_field(self, name: str) -> Any:
        if name in self._values:
            return self._values[name]
        if name not in self._cache:
            self._fetch([name])
        value = self._convert(name, self._cache[name])
        self._values[name] = value
        return value

    def _set_field(self, name: str, value: Any) -> None:
        sent = to_json(value)
        channel.request("update", model=self._model_name, id=self._pk, fields={name: sent})
        self._cache[name] = sent
        if isinstance(value, Model) or (isinstance(value, list) and all(isinstance(v, Model) for v in value)):
            self._values[name] = value
        else:
            self._values.pop(name, None)

    def refresh(self) -> None:
        """Forget the cached field values."""
        object.__setattr__(self, "_cache", {"id": self._pk})
        object.__setattr__(self, "_values", {})

    def __getattr__(self, name: str) -> Any:
        if name.startswith("_"):
            raise AttributeError(name)
        kind = type(self)._field_kind(name)
        if kind is None:
            raise AttributeError(f"'{type(self).__name__}' object has no attribute '{name}'")
        if type(self)._fields is None:
            try:
                return self._get_field(name)
            except ChannelError as error:
                raise AttributeError(str(error)) from None
        return self._get_field(name)

    def __setattr__(self, name: str, value: Any) -> None:
        if (
            name.startswith("_")
            or isinstance(getattr(type(self), name, None), property)
            or type(self)._field_kind(name) is None
            or name == "id"
        ):
            object.__setattr__(self, name, value)
            return
        self._set_field(name, value)

    # ------------------------------------------------------- class methods
    @classmethod
    def _from_reply(cls, entry: Any) -> Model:
        if isinstance(entry, dict):
            model = cls(entry.get("id"))
            model._prefill(entry)
            return model
        if isinstance(entry, (list, tuple)):  # Resolwe's values_list form
            return cls(entry[0])
        return cls(entry)

    @classmethod
    def _filter(
        cls,
        filters: dict[str, Any],
        fields: list[str] | None = None,
        order_by: list[str] | None = None,
        limit: int | None = None,
    ) -> list[Any]:
        args: dict[str, Any] = {"model": cls._model_name, "filters": filters}
        args["fields"] = [name for name in (fields or []) if name != "id"]
        if order_by:
            args["order_by"] = list(order_by)
        if limit is not None:
            args["limit"] = limit
        reply = channel.request("filter", **args)
        return list(reply or [])

    @classmethod
    def filter(cls, **filters: Any) -> list[Any]:
        """The objects matching Django-style ``filters`` the contributor may view.

        ``__fields=[...]`` names fields to fetch with them.
        """
        fields = filters.pop("__fields", None) or cls._filter_response_fields
        return [cls._from_reply(entry) for entry in cls._filter(filters, fields)]

    @classmethod
    def iterate(cls, sort: list[str] | None = None, **filters: Any) -> Iterator[Any]:
        """Iterate over the matching objects, ordered by ``sort`` (default ``["id"]``)."""
        fields = filters.pop("__fields", None) or cls._filter_response_fields
        for entry in cls._filter(filters, fields, order_by=sort or ["id"]):
            yield cls._from_reply(entry)

    @classmethod
    def exists(cls, **filters: Any) -> list[Any]:
        """The ids of the matching objects (empty if none)."""
        return [cls._from_reply(entry).id for entry in cls._filter(filters)]

    @classmethod
    def get(cls, **filters: Any) -> Any:
        """The one object matching ``filters``.

        :raises RuntimeError: "No objects match the given criteria or no
            permission to read object." (none or more than one)
        """
        entry = channel.request("get", model=cls._model_name, filters=filters, fields=[])
        if entry is None:
            raise ChannelError(NO_OBJECT)
        return cls._from_reply(entry)

    @classmethod
    def create(cls, **object_data: Any) -> Any:
        """Create an object with the given field values; return it."""
        reply = channel.request("create", model=cls._model_name, fields=object_data)
        object_id = _object_id(reply)
        if object_id is None:
            raise ChannelError(f"No id received for the new {cls._model_name}.")
        return cls(object_id)

    @classmethod
    def _get_latest(cls, slug: str) -> Any:
        entries = cls._filter({"slug": slug}, order_by=["-version"], limit=1)
        if not entries:
            raise ChannelError(NO_OBJECT)
        return cls._from_reply(entries[0])


_COMMON = {"slug": "value", "name": "value", "created": "value", "modified": "value", "contributor": "fk:User"}


class User(Model):
    """A user (only what the flow run lets a process read)."""

    _app_name = "auth"
    _model_name = "User"
    _fields = {"username": "value", "first_name": "value", "last_name": "value", "email": "value"}


class Process(Model):
    """A process (``Process.get_latest(slug)``: its latest version the contributor may view)."""

    _model_name = "Process"
    _fields = dict(
        _COMMON,
        version="value",
        type="value",
        category="value",
        description="value",
        data_name="value",
        entity_type="value",
        entity_descriptor_schema="value",
        entity_input="value",
        entity_always_create="value",
        input_schema="value",
        output_schema="value",
        requirements="value",
        persistence="value",
        scheduling_class="value",
        is_active="value",
        run="value",
    )

    @classmethod
    def get_latest(cls, slug: str) -> Any:
        """The latest active version with ``slug`` (the channel's ``process_latest``)."""
        reply = channel.request("process_latest", slug=slug)
        if reply is None or _object_id(reply) is None:
            raise ChannelError(NO_OBJECT)
        return cls._from_reply(reply)


class DescriptorSchema(Model):
    """A descriptor schema."""

    _model_name = "DescriptorSchema"
    _fields = dict(_COMMON, version="value", description="value", schema="value")

    @classmethod
    def get_latest(cls, slug: str) -> Any:
        """The latest version with ``slug``."""
        return cls._get_latest(slug)


class _ContentGet:
    """``Storage.get(**filters)`` on the class, ``storage.get(key, default)`` on the content."""

    def __get__(self, instance: Any, owner: Any) -> Any:
        if instance is None:
            return Model.get.__func__.__get__(owner, type(owner))  # type: ignore[attr-defined]
        return lambda key, default=None: instance.json.get(key, default)


class Storage(Model):
    """A Storage object; ``json`` is its content, which item access reads too."""

    get = _ContentGet()

    _model_name = "Storage"
    _fields = dict(_COMMON, json="value", data="m2m:Data")

    def _get_field(self, name: str) -> Any:
        if name == "json" and "json" not in self._cache:
            self._cache["json"] = channel.request("storage", id=self._pk)
        return super()._get_field(name)

    def __bool__(self) -> bool:
        return True

    # The content, for programs that read a JSON input as a value
    # (``storage.get(...)`` on the class is still ``Model.get``).
    def __getitem__(self, key: Any) -> Any:
        return self.json[key]

    def __contains__(self, key: Any) -> bool:
        return key in self.json

    def __iter__(self) -> Iterator[Any]:
        return iter(self.json)

    def __len__(self) -> int:
        return len(self.json)

    def keys(self) -> Any:
        """``json.keys()``."""
        return self.json.keys()

    def values(self) -> Any:
        """``json.values()``."""
        return self.json.values()

    def items(self) -> Any:
        """``json.items()``."""
        return self.json.items()


class Relation(Model):
    """A relation between the entities of a collection."""

    _model_name = "Relation"
    _fields = dict(
        _COMMON,
        collection="fk:Collection",
        type="value",
        ordered="value",
        category="value",
        unit="value",
        partitions="value",
        descriptor="value",
        descriptor_schema="fk:DescriptorSchema",
    )

    #: What ``Collection.relations`` asks for.
    SERIALIZED_FIELDS = ["type", "ordered", "category", "unit", "partitions"]


class Collection(Model):
    """A collection."""

    _model_name = "Collection"
    _fields = dict(
        _COMMON,
        description="value",
        descriptor="value",
        descriptor_schema="fk:DescriptorSchema",
        descriptor_dirty="value",
        tags="value",
        settings="value",
        duplicated="value",
        data="m2m:Data",
    )

    @property
    def relations(self) -> list[dict[str, Any]]:
        """The collection's relations, as Resolwe serializes them.

        ``[{"relation_id", "relation_type_name", "relation_type_ordered",
        "category", "unit", "partitions": [{"entity_id", "position", "label"}]}]``
        """
        if "__relations" not in self._cache:
            entries = Relation._filter({"collection": self._pk}, Relation.SERIALIZED_FIELDS)
            serialized = []
            for entry in entries:
                relation = RelationDescriptor.from_dict(entry if isinstance(entry, dict) else {"id": entry})
                serialized.append(
                    {
                        "relation_id": relation.id,
                        "relation_type_name": relation.type,
                        "relation_type_ordered": relation.ordered,
                        "category": relation.category,
                        "unit": relation.unit,
                        "partitions": [
                            {"entity_id": p.entity_id, "position": p.position, "label": p.label}
                            for p in relation.partitions
                        ],
                    }
                )
            self._cache["__relations"] = serialized
        return self._cache["__relations"]


class EntityAnnotation(MutableMapping):
    """An entity's annotations, ``{"group.field": value}``, read and written over the channel."""

    def __init__(self, entity: Entity):
        self._entity = entity
        self._cache: dict[str, Any] = {}
        self._all_read = False

    def __getitem__(self, key: str) -> Any:
        if key not in self._cache and not self._all_read:
            annotations = channel.request("annotations", entity=self._entity.id, paths=[key]) or {}
            if key in annotations:
                self._cache[key] = annotations[key]
        # None for an annotation that is not set (as Resolwe).
        return self._cache.get(key)

    def __setitem__(self, key: str, value: Any) -> None:
        channel.request("annotate", entity=self._entity.id, values={key: value})
        self._cache[key] = value

    def update(self, data: Any = (), **kwargs: Any) -> None:  # type: ignore[override]
        """Set several annotations at once (the others stay)."""
        values = dict(data, **kwargs)
        channel.request("annotate", entity=self._entity.id, values=values)
        self._cache.update(values)

    def _set_annotations(self, data: dict[str, Any]) -> None:
        """Set exactly these annotations (the others are removed)."""
        channel.request("annotate", entity=self._entity.id, values=dict(data), replace=True)
        self._cache = dict(data)
        self._all_read = True

    def __delitem__(self, key: str) -> None:
        raise NotImplementedError("Delete is not implemented")

    def _fetch_all(self) -> None:
        if not self._all_read:
            self._cache = dict(channel.request("annotations", entity=self._entity.id) or {})
            self._all_read = True

    def copy(self) -> dict[str, Any]:
        """All annotations as a dict."""
        self._fetch_all()
        return dict(self._cache)

    def __iter__(self) -> Iterator[str]:
        self._fetch_all()
        return iter(dict(self._cache))

    def __len__(self) -> int:
        self._fetch_all()
        return len(self._cache)

    def __str__(self) -> str:
        return f"EntityAnnotations({self._entity})"


class Entity(Model):
    """An entity (sample); ``annotations`` reads and writes its annotations."""

    _model_name = "Entity"
    _fields = dict(
        _COMMON,
        collection="fk:Collection",
        descriptor="value",
        descriptor_schema="fk:DescriptorSchema",
        descriptor_dirty="value",
        tags="value",
        type="value",
        duplicated="value",
        data="m2m:Data",
    )

    @property
    def annotations(self) -> EntityAnnotation:
        """The entity's annotations (a mapping)."""
        if "_annotations" not in self.__dict__:
            object.__setattr__(self, "_annotations", EntityAnnotation(self))
        return self.__dict__["_annotations"]

    @annotations.setter
    def annotations(self, value: dict[str, Any]) -> None:
        """Set exactly these annotations (the others are removed)."""
        assert isinstance(value, dict), "Annotations must be stored in a dictionary."
        self.annotations._set_annotations(value)


class JSONDescriptor(MutableMapping):
    """``Data.input``/``Data.output`` of another Data object, typed by its process's schema.

    Attribute and item access; a field of the schema that has no value is
    ``None``; a name the schema does not have raises ``AttributeError``
    ("DataField has no member <name>"). Read-only.
    """

    def __init__(self, model: Model, field_name: str, value: Any, schema: list[dict[str, Any]] | None):
        self._model = model
        self._field_name = field_name
        self._raw: dict[str, Any] = dict(value) if isinstance(value, dict) else {}
        self._fields: dict[str, Field] | None = fields_from_schema(schema) if schema is not None else None
        self._converted: dict[str, Any] = {}

    def _convert(self, key: str, value: Any) -> Any:
        if value is None:
            return None
        if self._fields is not None:
            return self._fields[key].to_python(value)
        return _guess(value)

    def __getitem__(self, key: str) -> Any:
        if self._fields is not None and key not in self._fields:
            raise AttributeError(f"DataField has no member {key}")
        if key not in self._converted:
            self._converted[key] = self._convert(key, self._raw.get(key))
        return self._converted[key]

    def __getattr__(self, key: str) -> Any:
        if key.startswith("_"):
            raise AttributeError(key)
        return self[key]

    def __setitem__(self, key: str, value: Any) -> None:
        raise ValueError("Cannot change read-only mapping.")

    def __setattr__(self, key: str, value: Any) -> None:
        if key.startswith("_"):
            object.__setattr__(self, key, value)
        else:
            raise ValueError("Cannot change read-only mapping.")

    def __delitem__(self, key: str) -> None:
        raise NotImplementedError("Delete is not implemented")

    def __iter__(self) -> Iterator[str]:
        return iter(self._raw)

    def __len__(self) -> int:
        return len(self._raw)

    def __str__(self) -> str:
        return f"JSONDescriptor({self._model}, {self._field_name})"

    __repr__ = __str__


def _guess(value: Any) -> Any:
    """Without a schema: files and directories by their shape."""
    if isinstance(value, dict) and isinstance(value.get("file"), str):
        return FileField().to_python(value)
    if isinstance(value, dict) and isinstance(value.get("dir"), str):
        return DirField().to_python(value)
    if isinstance(value, list) and value and all(isinstance(v, dict) and "file" in v for v in value):
        return ListField(FileField()).to_python(value)
    if isinstance(value, list) and value and all(isinstance(v, dict) and "dir" in v for v in value):
        return ListField(DirField()).to_python(value)
    return value


class Data(Model):
    """A Data object. ``self.data`` in a process is the running one, whose
    ``input``/``output`` are the process's ``inputs``/``outputs``."""

    _model_name = "Data"
    _fields = dict(
        _COMMON,
        version="value",
        started="value",
        finished="value",
        checksum="value",
        status="value",
        process="fk:Process",
        process_pid="value",
        process_progress="value",
        process_rc="value",
        process_info="value",
        process_warning="value",
        process_error="value",
        process_resources="value",
        input="value",
        output="value",
        descriptor="value",
        descriptor_schema="fk:DescriptorSchema",
        descriptor_dirty="value",
        parents="m2m:Data",
        children="m2m:Data",
        entity="fk:Entity",
        collection="fk:Collection",
        tags="value",
        size="value",
        duplicated="value",
        scheduled="value",
        named_by_user="value",
        storages="m2m:Storage",
    )

    @property
    def _is_running(self) -> bool:
        return _running["data_id"] is not None and self._pk == _running["data_id"]

    def _get_field(self, name: str) -> Any:
        if name in ("input", "output"):
            if self._is_running and _running[name + "s"] is not None:
                return _running[name + "s"]
            if name in self._values:
                return self._values[name]
            if name not in self._cache:
                self._fetch([name])
            try:
                schema = getattr(self.process, f"{name}_schema")
            except ChannelError:
                schema = None  # Typed by the values' shape.
            value = JSONDescriptor(self, name, self._cache[name], schema)
            self._values[name] = value
            return value
        return super()._get_field(name)

    def _set_field(self, name: str, value: Any) -> None:
        if name in ("input", "output") and self._is_running and _running[name + "s"] is not None:
            raise ValueError(f"Set the process's {name}s through '{name}s.<field> = value'.")
        super()._set_field(name, value)

    @classmethod
    def from_slug(cls, slug: str) -> Data:
        """The Data object with ``slug``."""
        return cls.get(slug=slug)

    @property
    def type(self) -> str:
        """The process type (``data:reads:fastq:single:``)."""
        return self.process.type

    @property
    def entity_name(self) -> Any:
        """The entity's name."""
        return self.entity.name

    @property
    def relations(self) -> list[RelationDescriptor]:
        """The relations of this object's entity in its collection."""
        collection = self.collection
        entity = self.entity
        if collection is None or entity is None:
            return []
        found: list[RelationDescriptor] = []
        for relation in collection.relations:
            for partition in relation["partitions"]:
                if partition["entity_id"] == entity.id:
                    descriptor = RelationDescriptor.from_dict(relation)
                    if descriptor not in found:
                        found.append(descriptor)
        return found


# Keep the names the descriptors use importable from here (as in Resolwe).
__all__ += ["DirDescriptor", "FileDescriptor"]
