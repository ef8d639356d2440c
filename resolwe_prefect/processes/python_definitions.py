"""Python process definitions, read statically.

Resolwe's second process language is a class deriving from ``resolwe.process.Process``.
``register`` reads such files the way Resolwe 45 does (``resolwe/process/parser.py``): the module
is parsed with :mod:`ast` and never imported or executed. Every process class becomes the
definition Resolwe's ``ProcessDescriptor.to_schema`` builds, which then takes the same road as a
YAML entry (normalization, meta-schema, versions):

- ``slug``, ``name``, ``version``, ``process_type`` (-> ``type``, with its trailing ``:``),
  ``category``, ``data_name`` (``""`` when absent), ``requirements`` (Resolwe's default Docker
  image when absent), ``entity``, ``scheduling_class`` (``SchedulingClass.BATCH`` -> ``batch``) and
  ``persistence`` (``Persistence.CACHED`` -> ``CACHED``), which normalization turns into the stored
  codes; the class docstring is the ``description``;
- the nested ``Input``/``Output`` classes, field by field in the order written, with the
  schema each of Resolwe's field classes produces (positional arguments bound as Resolwe's
  signatures bind them, unknown keywords ignored as Resolwe's ``**kwargs`` ignore them, so
  ``placeholder`` is not stored, as in Resolwe);
- ``run``: ``{"language": "python", "program": <the whole module source>}``.

A class is a process when one of its bases is ``Process`` (a name, or ``module.Process``), or a
class that is itself one: defined in the same file, or imported from a module of the same package
(``from resolwe_bio.process.runtime import ProcessBio``: the module is found in a directory above
the file, parsed, never imported). A class that assigns ``_abstract`` is a base, not a process.
Attributes and the ``Input``/``Output`` classes are looked up through the bases (Python's method
resolution order over the classes that can be read), which Resolwe's parser does not do.

Values may be literals, lists, tuples and dicts of them, ``+`` on strings, lists and numbers,
unary minus, constants assigned at module level in the same file, and the members of
``SchedulingClass``, ``Persistence`` and ``UrlField``. Anything else, and everything Resolwe's
parser or descriptor refuses (a missing slug, a type that is not ``data:[a-z0-9:]+``, an unknown
URL type, a list of something that is not a field...), is an error of that class: unlike Resolwe,
where one bad class stops the whole registration, the other classes are still read.

This module is pure: it imports neither Django nor anything of the project.
"""

from __future__ import annotations

import ast
import json
import math
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

#: Modules whose ``Process`` is the root of all Python processes.
RUNTIME_MODULES = frozenset({"resolwe.process", "resolwe.process.runtime"})
#: Top-level packages that are Resolwe itself: never searched for base classes.
EXTERNAL_PACKAGES = frozenset({"resolwe"})
ROOT_CLASS = "Process"
INPUTS_CLASS = "Input"
OUTPUTS_CLASS = "Output"
ABSTRACT_ATTRIBUTE = "_abstract"
#: What Resolwe's ``ProcessDescriptor.to_schema`` stores when a process names no requirements.
DEFAULT_REQUIREMENTS = {"executor": {"docker": {"image": "public.ecr.aws/s4q6j6e8/resolwe/base:ubuntu-18.04"}}}
#: Resolwe's ``PROCESSOR_TYPE_RE`` (``resolwe/process/descriptor.py``).
PROCESS_TYPE_RE = re.compile(r"^data:[a-z0-9:]+$")

STRING_METADATA = ("slug", "name", "process_type", "version", "category", "data_name")
DICT_METADATA = ("requirements", "entity")
ENUM_METADATA = {"scheduling_class": "SchedulingClass", "persistence": "Persistence"}
REQUIRED_METADATA = ("slug", "name", "process_type", "version")
METADATA = (*STRING_METADATA, *DICT_METADATA, *ENUM_METADATA)

_URL_TYPES = {"DOWNLOAD": "download", "VIEW": "view", "LINK": "link"}
#: Class attributes that may be used as values: ``SchedulingClass.BATCH`` -> ``"batch"``.
ENUMS: dict[str, dict[str, str]] = {
    "SchedulingClass": {"INTERACTIVE": "interactive", "BATCH": "batch"},
    "Persistence": {"RAW": "RAW", "CACHED": "CACHED", "TEMP": "TEMP"},
    "UrlField": _URL_TYPES,
    "DownloadUrlField": _URL_TYPES,
    "ViewUrlField": _URL_TYPES,
    "LinkUrlField": _URL_TYPES,
}

# Resolwe's ``Field.__init__`` parameters, in order; every field class but GroupField takes them.
_FIELD_PARAMS = ("label", "required", "description", "default", "choices", "allow_custom_choice", "disabled", "hidden")
_REQUIRED_PARAMS = frozenset({"url_type", "inner", "data_type", "field_group"})


@dataclass(frozen=True)
class _Kind:
    """A field class: its type and the parameters its constructor binds, in order."""

    type: str | None  # None: computed from the arguments (url, list, data)
    leading: tuple[str, ...] = ()  # parameters before Field's own
    params: tuple[str, ...] = _FIELD_PARAMS
    open: bool = True  # takes *args, **kwargs (anything else is ignored, as in Resolwe)


FIELD_KINDS: dict[str, _Kind] = {
    "StringField": _Kind("basic:string"),
    "TextField": _Kind("basic:text"),
    "BooleanField": _Kind("basic:boolean"),
    "IntegerField": _Kind("basic:integer", ("range",)),
    "FloatField": _Kind("basic:decimal", ("range",)),
    "DateField": _Kind("basic:date"),
    "DateTimeField": _Kind("basic:datetime"),
    "UrlField": _Kind(None, ("url_type",)),
    "DownloadUrlField": _Kind("basic:url:download"),
    "ViewUrlField": _Kind("basic:url:view"),
    "LinkUrlField": _Kind("basic:url:link"),
    "SecretField": _Kind("basic:secret"),
    "FileField": _Kind("basic:file"),
    "FileHtmlField": _Kind("basic:file:html"),
    "DirField": _Kind("basic:dir"),
    "JsonField": _Kind("basic:json"),
    "ListField": _Kind(None, ("inner",)),
    "DataField": _Kind(None, ("data_type", "relation_type", "relation_npartitions")),
    "GroupField": _Kind(
        "basic:group", ("field_group",), ("label", "description", "disabled", "collapsed", "hidden"), open=False
    ),
}


# --- results ------------------------------------------------------------------------------------


@dataclass
class PythonProcess:
    """One process class and the definition it registers as."""

    class_name: str
    line: int
    definition: dict[str, Any]

    @property
    def slug(self) -> str:
        return self.definition["slug"]

    @property
    def version(self) -> str:
        return self.definition["version"]


@dataclass
class ClassError:
    """A process class that cannot be read; ``slug``/``version`` are given when they could be read."""

    file: str | None
    class_name: str
    line: int
    reasons: list[str]
    slug: str | None = None
    version: str | None = None

    def __str__(self) -> str:
        where = f"{self.file}: " if self.file else ""
        return f"{where}class {self.class_name} (line {self.line}): {'; '.join(self.reasons)}"


@dataclass
class PythonModule:
    """What one file holds: its processes and its unreadable process classes, each in source order."""

    path: Path | None
    processes: list[PythonProcess] = field(default_factory=list)
    errors: list[ClassError] = field(default_factory=list)


class PythonFileError(Exception):
    """A file that cannot be read or parsed at all; ``str()`` is ``<file>: <reason>``."""

    def __init__(self, reason: str, *, file: str | None = None) -> None:
        super().__init__(reason)
        self.file = file
        self.reason = reason

    def __str__(self) -> str:
        return f"{self.file}: {self.reason}" if self.file else self.reason


class _Error(Exception):
    """A problem of one class (or of one of its attributes or fields)."""


class EnumMember(str):
    """A member of one of :data:`ENUMS`: its value, remembering the class it was read from."""

    enum: str

    def __new__(cls, value: str, enum: str) -> EnumMember:
        member = super().__new__(cls, value)
        member.enum = enum
        return member


# --- entry points -------------------------------------------------------------------------------


def read_python_processes(path: Path, reader: PythonReader | None = None) -> PythonModule:
    """Read the process classes of one file; raises :class:`PythonFileError` when it cannot be parsed."""
    return (reader or PythonReader()).read(Path(path))


def parse_python_processes(source: str, path: Path | None = None) -> PythonModule:
    """Read the process classes of a module's source (``path`` is where its same-package imports are looked up)."""
    return PythonReader().parse(source, path)


# --- modules ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Binding:
    """What a module-level statement binds a name to."""

    line: int
    kind: str  # "value" (a plain assignment), "class", "import" (a module), "from" (a name of a module), "other"
    node: ast.AST | None = None  # the assigned value, or the ClassDef
    module: str = ""  # for "import"/"from": the module's dotted name
    level: int = 0  # for "from": the relative import level
    attr: str = ""  # for "from": the imported name


class _Module:
    """A parsed module and its module-level bindings, in order."""

    def __init__(self, path: Path | None, source: str, tree: ast.Module) -> None:
        self.path = path
        self.source = source
        self.tree = tree
        self.bindings: dict[str, list[_Binding]] = {}
        for statement in tree.body:
            for name, binding in _statement_bindings(statement):
                self.bindings.setdefault(name, []).append(binding)

    def binding(self, name: str, before: int | None = None) -> _Binding | None:
        """The last binding of ``name`` at module level (before line ``before``, when given)."""
        found = None
        for binding in self.bindings.get(name, []):
            if before is not None and binding.line >= before:
                break
            found = binding
        return found


def _statement_bindings(statement: ast.stmt) -> Iterator[tuple[str, _Binding]]:
    line = statement.lineno
    if isinstance(statement, ast.Assign):
        for target in statement.targets:
            if isinstance(target, ast.Name):
                yield target.id, _Binding(line, "value", statement.value)
            else:
                yield from ((name, _Binding(line, "other")) for name in _stored_names(target))
    elif isinstance(statement, ast.AnnAssign) and isinstance(statement.target, ast.Name):
        if statement.value is not None:
            yield statement.target.id, _Binding(line, "value", statement.value)
    elif isinstance(statement, ast.ClassDef):
        yield statement.name, _Binding(line, "class", statement)
    elif isinstance(statement, ast.Import):
        for alias in statement.names:
            if alias.asname:
                yield alias.asname, _Binding(line, "import", module=alias.name)
            else:
                top = alias.name.split(".")[0]
                yield top, _Binding(line, "import", module=top)
    elif isinstance(statement, ast.ImportFrom):
        for alias in statement.names:
            if alias.name != "*":
                binding = _Binding(line, "from", module=statement.module or "", level=statement.level, attr=alias.name)
                yield alias.asname or alias.name, binding
    elif isinstance(statement, (ast.FunctionDef, ast.AsyncFunctionDef)):
        yield statement.name, _Binding(line, "other")
    else:
        # Anything bound inside if/for/with/try at module level is not a constant the parser can trust.
        yield from ((name, _Binding(line, "other")) for name in _stored_names(statement))


def _stored_names(node: ast.AST) -> Iterator[str]:
    for child in ast.walk(node):
        if isinstance(child, ast.Name) and isinstance(child.ctx, ast.Store):
            yield child.id
        elif isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            yield child.name
        elif isinstance(child, (ast.Import, ast.ImportFrom)):
            yield from ((alias.asname or alias.name).split(".")[0] for alias in child.names if alias.name != "*")


@dataclass(frozen=True)
class _ClassRef:
    module: _Module
    node: ast.ClassDef

    @property
    def key(self) -> tuple[int, int]:
        return (id(self.module), id(self.node))


_ROOT = "root"  # the base Process class


@dataclass
class _ClassInfo:
    is_process: bool
    mro: list[_ClassRef]  # the class itself first; the root Process and unreadable bases are left out


# --- the reader ---------------------------------------------------------------------------------


class PythonReader:
    """Reads process files; parsed base-class modules are kept, so a tree of files parses each once."""

    def __init__(self) -> None:
        self._modules: dict[Path, _Module] = {}
        self._infos: dict[tuple[int, int], _ClassInfo] = {}
        self._resolving: set[tuple[int, str]] = set()

    def read(self, path: Path) -> PythonModule:
        return self._read_module(self._load(path), path)

    def parse(self, source: str, path: Path | None = None) -> PythonModule:
        return self._read_module(_parse(source, str(path) if path else None, path), path)

    # --- loading modules ---

    def _load(self, path: Path) -> _Module:
        path = Path(path)
        key = path.resolve()
        if key not in self._modules:
            try:
                source = path.read_text(encoding="utf-8")
            except OSError as error:
                raise PythonFileError(f"cannot read file: {error.strerror or error}", file=str(path)) from error
            except UnicodeDecodeError as error:
                raise PythonFileError(f"not UTF-8 text: {error}", file=str(path)) from error
            self._modules[key] = _parse(source, str(path), path)
        return self._modules[key]

    def _find_module(self, origin: _Module, name: str, level: int) -> _Module | None:
        """The module ``name`` (relative with ``level``) seen from ``origin``; None when it is not ours.

        Absolute names are looked up in the directories above ``origin``'s file: the nearest that
        holds the top-level package (or module) is the package root. Raises when the package is
        found but the module is not.
        """
        if origin.path is None:
            return None
        parts = [part for part in name.split(".") if part]
        if level:
            base = origin.path.parent
            for _ in range(level - 1):
                base = base.parent
        else:
            if not parts or parts[0] in EXTERNAL_PACKAGES:
                return None
            for ancestor in origin.path.resolve().parents:
                if (ancestor / parts[0] / "__init__.py").is_file() or (ancestor / f"{parts[0]}.py").is_file():
                    base = ancestor
                    break
            else:
                return None
        target = base.joinpath(*parts)
        candidates = (
            [target.parent / f"{target.name}.py", target / "__init__.py"] if parts else [target / "__init__.py"]
        )
        for candidate in candidates:
            if candidate.is_file():
                try:
                    return self._load(candidate)
                except PythonFileError as error:
                    raise _Error(f"cannot read module {'.' * level}{name}: {error.reason}") from error
        raise _Error(f"cannot find module {'.' * level}{name} (looked in {target})")

    # --- classes ---

    def _read_module(self, module: _Module, path: Path | None) -> PythonModule:
        result = PythonModule(path)
        for node in _class_definitions(module.tree):
            ref = _ClassRef(module, node)
            try:
                info = self._info(ref)
            except _Error as error:
                result.errors.append(ClassError(_file(path), node.name, node.lineno, [str(error)]))
                continue
            if not info.is_process or _assigns(node, ABSTRACT_ATTRIBUTE):
                continue
            process = _ProcessBuilder(self, ref, info)
            definition = process.build()
            if process.errors:
                result.errors.append(
                    ClassError(_file(path), node.name, node.lineno, process.errors, process.slug, process.version)
                )
            else:
                result.processes.append(PythonProcess(node.name, node.lineno, definition))
        return result

    def _info(self, ref: _ClassRef) -> _ClassInfo:
        if ref.key in self._infos:
            return self._infos[ref.key]
        marker = (id(ref.module), ref.node.name)
        if marker in self._resolving:
            raise _Error(f"class {ref.node.name} inherits from itself")
        self._resolving.add(marker)
        try:
            is_process = False
            parents: list[_ClassRef] = []
            for base in ref.node.bases:
                resolved = self._resolve_base(ref.module, base, ref.node.lineno)
                if resolved == _ROOT:
                    is_process = True
                elif isinstance(resolved, _ClassRef):
                    parents.append(resolved)
            parent_infos = [self._info(parent) for parent in parents]
            is_process = is_process or any(info.is_process for info in parent_infos)
            mro = [ref, *_c3_merge([info.mro for info in parent_infos] + [parents])] if parents else [ref]
        finally:
            self._resolving.discard(marker)
        info = _ClassInfo(is_process, mro)
        self._infos[ref.key] = info
        return info

    def _resolve_base(self, module: _Module, node: ast.expr, line: int | None) -> _ClassRef | str | None:
        """What a base-class expression names: a readable class, the root Process, or None (anything else)."""
        if isinstance(node, ast.Name):
            return self._resolve_name(module, node.id, line)
        if isinstance(node, ast.Attribute):
            dotted = _dotted(node.value)
            if dotted is None:
                return None
            head, _, rest = dotted.partition(".")
            binding = module.binding(head, line)
            if binding is None or binding.kind not in ("import", "from"):
                # As in Resolwe, which resolves bases by name: ``process.Process`` is the runtime's Process.
                return _ROOT if binding is None and node.attr == ROOT_CLASS else None
            if binding.kind == "import":
                full, level = binding.module, 0
            else:
                full, level = ".".join(part for part in (binding.module, binding.attr) if part), binding.level
            full = f"{full}.{rest}" if rest else full
            if level == 0 and full in RUNTIME_MODULES:
                return _ROOT if node.attr == ROOT_CLASS else None
            target = self._find_module(module, full, level)
            return None if target is None else self._resolve_name(target, node.attr, None)
        return None

    def _resolve_name(self, module: _Module, name: str, line: int | None) -> _ClassRef | str | None:
        binding = module.binding(name, line)
        if binding is None:
            # Resolwe resolves base classes by name: an unbound ``Process`` is the runtime's.
            return _ROOT if name == ROOT_CLASS else None
        if binding.kind == "class":
            assert isinstance(binding.node, ast.ClassDef)
            return _ClassRef(module, binding.node)
        if binding.kind != "from":
            return None
        if binding.level == 0 and binding.module in RUNTIME_MODULES:
            return _ROOT if binding.attr == ROOT_CLASS else None
        target = self._find_module(module, binding.module, binding.level)
        if target is None:
            return None
        marker = (id(target), binding.attr)
        if marker in self._resolving:
            raise _Error(f"circular import of {binding.attr}")
        self._resolving.add(marker)
        try:
            if target.binding(binding.attr) is None:
                raise _Error(f"cannot find class {binding.attr} in {target.path}")
            return self._resolve_name(target, binding.attr, None)
        finally:
            self._resolving.discard(marker)


# --- one process class ----------------------------------------------------------------------------


class _ProcessBuilder:
    """Builds the definition of one process class, collecting every problem instead of stopping at the first."""

    def __init__(self, reader: PythonReader, ref: _ClassRef, info: _ClassInfo) -> None:
        self.reader = reader
        self.ref = ref
        self.info = info
        self.errors: list[str] = []
        self.slug: str | None = None
        self.version: str | None = None

    def build(self) -> dict[str, Any]:
        meta: dict[str, Any] = {}
        unreadable: set[str] = set()
        for name in METADATA:
            found = self._lookup(name)
            if found is None:
                continue
            owner, node = found
            try:
                meta[name] = _metadata_value(name, _Evaluator(owner.module, owner.node.lineno).eval(node))
            except _Error as error:
                self.errors.append(f"{name}: {error}")
                unreadable.add(name)
        self.slug, self.version = meta.get("slug"), meta.get("version")
        inputs = self._fields(INPUTS_CLASS)
        outputs = self._fields(OUTPUTS_CLASS)

        # What Resolwe's ProcessDescriptor.validate() refuses, with its messages.
        for name in REQUIRED_METADATA:
            if meta.get(name) is None and name not in unreadable:
                self.errors.append(f"process '{self.slug or '<unknown>'}' is missing required meta attribute: {name}")
        process_type = meta.get("process_type")
        if isinstance(process_type, str) and not PROCESS_TYPE_RE.match(process_type):
            self.errors.append(f"process '{self.slug}' has invalid type: {process_type}")
        if self.errors:
            return {}
        assert isinstance(process_type, str)

        # ProcessDescriptor.to_schema(), key by key.
        definition: dict[str, Any] = {
            "slug": meta["slug"],
            "name": meta["name"],
            "type": process_type if process_type.endswith(":") else f"{process_type}:",
            "version": meta["version"],
            "data_name": "",
            "requirements": json.loads(json.dumps(DEFAULT_REQUIREMENTS)),
        }
        description = _docstring(self.ref.node)
        if description is not None:
            definition["description"] = description
        for name in ("category", "scheduling_class", "persistence", "requirements", "data_name", "entity"):
            if name in meta:
                definition[name] = meta[name]
        if inputs:
            definition["input"] = inputs
        if outputs:
            definition["output"] = outputs
        definition["run"] = {"language": "python", "program": self.ref.module.source}
        return definition

    def _lookup(self, name: str) -> tuple[_ClassRef, ast.expr] | None:
        """The value assigned to ``name`` by the class or, failing that, by its nearest base (MRO)."""
        for ref in self.info.mro:
            value = None
            for statement in ref.node.body:
                if isinstance(statement, ast.Assign) and any(
                    isinstance(target, ast.Name) and target.id == name for target in statement.targets
                ):
                    value = statement.value
            if value is not None:
                return ref, value
        return None

    def _fields(self, class_name: str) -> list[dict[str, Any]]:
        for ref in self.info.mro:
            nested = [s for s in ref.node.body if isinstance(s, ast.ClassDef) and s.name == class_name]
            if nested:
                reader = _FieldReader(ref.module, ref.node.lineno)
                fields = reader.read_class(nested[-1], class_name, skip_private=False)
                self.errors += reader.errors
                return fields
        return []


def _metadata_value(name: str, value: Any) -> Any:
    if name in STRING_METADATA:
        if not isinstance(value, str):
            raise _Error(f"must be a string, not {_describe(value)}")
        return str(value)
    if name in DICT_METADATA:
        if not isinstance(value, dict):
            raise _Error(f"must be a dictionary, not {_describe(value)}")
        return _json(value)
    enum = ENUM_METADATA[name]
    if not (isinstance(value, EnumMember) and value.enum == enum):
        raise _Error(f"must be an attribute of {enum} ({', '.join(f'{enum}.{m}' for m in ENUMS[enum])})")
    return str(value)


# --- fields ---------------------------------------------------------------------------------------


@dataclass
class _Field:
    """One field-class call, its arguments bound and evaluated."""

    kind_name: str
    type: str
    values: dict[str, Any]
    group: list[dict[str, Any]] | None = None
    inner: _Field | None = None
    list_relation: dict[str, Any] = field(default_factory=dict)

    def schema(self, name: str) -> dict[str, Any]:
        """Resolwe's ``Field.to_schema()`` and its overrides, key by key."""
        values = self.values
        is_group = self.kind_name == "GroupField"
        schema: dict[str, Any] = {"name": name, "type": self.type}
        required = None if is_group else values.get("required", True)
        if required is not None:
            schema["required"] = required
        for key in ("label", "description", "default"):
            if values.get(key) is not None:
                schema[key] = values[key]
        for key in ("hidden", "disabled"):
            if values.get(key, False) is not None:
                schema[key] = values.get(key, False)
        if values.get("allow_custom_choice") is not None:
            schema["allow_custom_choice"] = values["allow_custom_choice"]
        choices = values.get("choices")
        if choices is not None:
            for value, label in choices:
                schema.setdefault("choices", []).append({"label": label, "value": value})
        if self.kind_name in ("IntegerField", "FloatField") and values.get("range") is not None:
            schema["range"] = values["range"]
        if self.kind_name == "DataField":
            schema.update(_relation(values.get("relation_type"), values.get("relation_npartitions")))
        schema.update(self.list_relation)
        if is_group:
            if values.get("disabled", False) is not None:
                schema["disabled"] = values.get("disabled", False)
            if values.get("collapsed", False) is not None:
                schema["collapsed"] = values.get("collapsed", False)
            schema["group"] = self.group or []
        return _json(schema)


class _FieldReader:
    """Reads the fields of an ``Input``/``Output`` class and of the group classes it uses."""

    def __init__(self, module: _Module, line: int) -> None:
        self.module = module
        self.evaluator = _Evaluator(module, line)
        self.errors: list[str] = []
        self._module_groups: dict[int, list[dict[str, Any]]] = {}

    def read_class(self, node: ast.ClassDef, path: str, *, skip_private: bool) -> list[dict[str, Any]]:
        """Fields in the order written; like Resolwe, a group skips names starting with ``_``."""
        groups: dict[str, list[dict[str, Any]]] = {}
        fields: dict[str, dict[str, Any]] = {}
        for statement in node.body:
            if isinstance(statement, ast.ClassDef):
                # Like Resolwe, a nested class is read where it is defined, used or not.
                groups[statement.name] = self.read_class(statement, f"{path}.{statement.name}", skip_private=True)
                continue
            if not (
                isinstance(statement, ast.Assign)
                and isinstance(statement.value, ast.Call)
                and isinstance(statement.targets[0], ast.Name)
            ):
                continue
            name = statement.targets[0].id
            if skip_private and name.startswith("_"):
                continue
            try:
                # A name assigned twice keeps its first place, as in Resolwe's ordered dict.
                fields[name] = self.field(statement.value, groups).schema(name)
            except _Error as error:
                self.errors.append(f"{path}.{name}: {error}")
        return list(fields.values())

    def field(self, call: ast.Call, groups: dict[str, list[dict[str, Any]]]) -> _Field:
        kind_name = _callee(call.func)
        if kind_name not in FIELD_KINDS:
            raise _Error(f"{_source(call.func)} is not a field class ({', '.join(FIELD_KINDS)})")
        kind = FIELD_KINDS[kind_name]
        bound = _bind(kind_name, kind, call)
        values: dict[str, Any] = {}
        inner: _Field | None = None
        group: list[dict[str, Any]] | None = None
        for param, node in bound.items():
            if param == "inner":
                if not isinstance(node, ast.Call):
                    raise _Error(f"inner field must be an instance of Field, not {_source(node)}")
                inner = self.field(node, groups)
            elif param == "field_group":
                group = self._group(node, groups)
            else:
                values[param] = self.evaluator.eval(node)
        for param in ("label", "description"):
            if values.get(param) is not None and not isinstance(values[param], str):
                raise _Error(f"{param} must be a string, not {_describe(values[param])}")
        choices = values.get("choices")
        if choices is not None and not (
            isinstance(choices, (list, tuple)) and all(isinstance(c, (list, tuple)) and len(c) == 2 for c in choices)
        ):
            raise _Error("choices must be a list of (value, label) pairs")

        if kind_name == "UrlField":
            if values["url_type"] not in _URL_TYPES.values():
                raise _Error(f"url_type must be one of: {', '.join(_URL_TYPES.values())}")
            type_ = f"basic:url:{values['url_type']}"
        elif kind_name == "DataField":
            if not isinstance(values["data_type"], str):
                raise _Error(f"data_type must be a string, not {_describe(values['data_type'])}")
            type_ = f"data:{values['data_type']}"
            _relation(values.get("relation_type"), values.get("relation_npartitions"))
        elif kind_name == "ListField":
            assert inner is not None
            type_ = f"list:{inner.type}"
        else:
            assert kind.type is not None
            type_ = kind.type
        list_relation = self._list_relation(call) if inner is not None and inner.kind_name == "DataField" else {}
        return _Field(kind_name, type_, values, group, inner, list_relation)

    def _list_relation(self, call: ast.Call) -> dict[str, Any]:
        """A list of Data takes its relation from the list's own arguments (``DataField.to_list_schema``).

        As in Resolwe, those are the list's positional arguments after ``inner`` (so a positional
        label is taken as the relation type) and its ``relation_type``/``relation_npartitions``.
        """
        params = ("relation_type", "relation_npartitions")
        positional = call.args[1:] if call.args else []
        bound: dict[str, Any] = {}
        for param, node in zip(params, positional, strict=False):
            bound[param] = self.evaluator.eval(node)
        for keyword in call.keywords:
            if keyword.arg in params:
                if keyword.arg in bound:
                    raise _Error(f"to_list_schema() got multiple values for argument '{keyword.arg}'")
                bound[keyword.arg] = self.evaluator.eval(keyword.value)
        return _relation(bound.get("relation_type"), bound.get("relation_npartitions"))

    def _group(self, node: ast.expr, groups: dict[str, list[dict[str, Any]]]) -> list[dict[str, Any]]:
        """The fields of a group class: one defined before in the same class or, failing that, at module level."""
        if isinstance(node, ast.Name):
            if node.id in groups:
                return groups[node.id]
            binding = self.module.binding(node.id)
            if binding is not None and binding.kind == "class" and isinstance(binding.node, ast.ClassDef):
                key = id(binding.node)
                if key not in self._module_groups:
                    self._module_groups[key] = self.read_class(binding.node, node.id, skip_private=True)
                return self._module_groups[key]
        raise _Error(f"GroupField needs a class of fields defined before it, not {_source(node)}")


def _bind(kind_name: str, kind: _Kind, call: ast.Call) -> dict[str, ast.expr]:
    """Bind a call's arguments to the field class's parameters as Python would."""
    names = kind.leading + kind.params
    bound: dict[str, ast.expr] = {}
    for index, argument in enumerate(call.args):
        if isinstance(argument, ast.Starred):
            raise _Error("*arguments cannot be read statically")
        if index < len(names):
            bound[names[index]] = argument
        elif not kind.open:
            raise _Error(f"{kind_name}() takes at most {len(names)} positional arguments")
    for keyword in call.keywords:
        if keyword.arg is None:
            raise _Error("**arguments cannot be read statically")
        if keyword.arg in names:
            if keyword.arg in bound:
                raise _Error(f"{kind_name}() got multiple values for argument '{keyword.arg}'")
            bound[keyword.arg] = keyword.value
        elif not kind.open:
            raise _Error(f"{kind_name}() got an unexpected keyword argument '{keyword.arg}'")
    missing = [name for name in kind.leading if name in _REQUIRED_PARAMS and name not in bound]
    if missing:
        raise _Error(f"{kind_name}() missing required argument: '{missing[0]}'")
    return bound


def _relation(relation_type: Any, npartitions: Any) -> dict[str, Any]:
    """Resolwe's ``DataField._generate_relation``."""
    if npartitions is not None and relation_type is None:
        raise _Error("relation_type should be set when relation_npartition is not None.")
    if relation_type is None and npartitions is None:
        return {}
    return {"relation": {"type": relation_type, "npartitions": npartitions or "none"}}


# --- values ---------------------------------------------------------------------------------------

_MAX_DEPTH = 100


class _Evaluator:
    """Evaluates the expressions a process definition may hold, in a module, as seen from one line."""

    def __init__(self, module: _Module, line: int) -> None:
        self.module = module
        self.line = line

    def eval(self, node: ast.expr, depth: int = 0) -> Any:
        if depth > _MAX_DEPTH:
            raise _Error("expression nested too deeply")
        if isinstance(node, ast.Constant):
            value = node.value
            if isinstance(value, float) and not math.isfinite(value):
                raise _Error(f"{_source(node)} is not a finite number")
            if value is None or isinstance(value, (str, bool, int, float)):
                return value
        elif isinstance(node, (ast.List, ast.Tuple)):
            if any(isinstance(element, ast.Starred) for element in node.elts):
                raise _Error(f"cannot read {_source(node)}: *unpacking is not supported")
            items = [self.eval(element, depth + 1) for element in node.elts]
            return items if isinstance(node, ast.List) else tuple(items)
        elif isinstance(node, ast.Dict):
            result: dict[Any, Any] = {}
            for key, value_node in zip(node.keys, node.values, strict=True):
                value = self.eval(value_node, depth + 1)
                if key is None:
                    if not isinstance(value, dict):
                        raise _Error(f"cannot unpack {_source(value_node)}: not a dictionary")
                    result.update(value)
                    continue
                key_value = self.eval(key, depth + 1)
                if key_value is not None and not isinstance(key_value, (str, int, float, bool)):
                    raise _Error(f"dictionary key {_source(key)} must be a string or a number")
                result[key_value] = value
            return result
        elif isinstance(node, ast.UnaryOp) and isinstance(node.op, (ast.USub, ast.UAdd)):
            operand = self.eval(node.operand, depth + 1)
            if isinstance(operand, (int, float)) and not isinstance(operand, bool):
                return -operand if isinstance(node.op, ast.USub) else operand
            raise _Error(f"cannot read {_source(node)}: {_describe(operand)} has no sign")
        elif isinstance(node, ast.BinOp) and isinstance(node.op, ast.Add):
            left, right = self.eval(node.left, depth + 1), self.eval(node.right, depth + 1)
            if _addable(left, right):
                return left + right
            raise _Error(f"cannot add {_describe(left)} and {_describe(right)} in {_source(node)}")
        elif isinstance(node, ast.Name):
            return self._constant(node.id, depth)
        elif isinstance(node, ast.Attribute):
            enum = _callee(node.value)
            if enum in ENUMS and (isinstance(node.value, ast.Name) or _dotted(node.value) is not None):
                if node.attr not in ENUMS[enum]:
                    raise _Error(f"{enum} has no member {node.attr} ({', '.join(ENUMS[enum])})")
                return EnumMember(ENUMS[enum][node.attr], enum)
        raise _Error(
            f"cannot read {_source(node)}: only literals, lists, tuples, dicts, +, constants assigned at module "
            "level in this file and members of SchedulingClass, Persistence and UrlField can be used"
        )

    def _constant(self, name: str, depth: int) -> Any:
        binding = self.module.binding(name, self.line)
        if binding is None:
            raise _Error(f"name '{name}' is not assigned at module level before line {self.line}")
        if binding.kind != "value" or not isinstance(binding.node, ast.expr):
            what = {"import": "a module", "from": "imported", "class": "a class"}.get(binding.kind, "not a constant")
            raise _Error(
                f"name '{name}' (line {binding.line}) is {what}: only constants assigned in this file can be used"
            )
        return _Evaluator(self.module, binding.line).eval(binding.node, depth + 1)


def _addable(left: Any, right: Any) -> bool:
    if isinstance(left, bool) or isinstance(right, bool):
        return False
    if isinstance(left, (int, float)) and isinstance(right, (int, float)):
        return True
    if isinstance(left, str) and isinstance(right, str):
        return True
    return isinstance(left, list) and isinstance(right, list) or isinstance(left, tuple) and isinstance(right, tuple)


# --- helpers --------------------------------------------------------------------------------------


def _parse(source: str, file: str | None, path: Path | None) -> _Module:
    try:
        tree = ast.parse(source, filename=file or "<process>")
    except SyntaxError as error:
        raise PythonFileError(f"invalid Python: line {error.lineno}: {error.msg}", file=file) from error
    except ValueError as error:  # null bytes
        raise PythonFileError(f"invalid Python: {error}", file=file) from error
    return _Module(path, source, tree)


def _class_definitions(node: ast.AST) -> Iterator[ast.ClassDef]:
    """Classes not nested in another class, in source order (where Resolwe's visitor looks)."""
    for child in ast.iter_child_nodes(node):
        if isinstance(child, ast.ClassDef):
            yield child
        else:
            yield from _class_definitions(child)


def _assigns(node: ast.ClassDef, name: str) -> bool:
    return any(
        isinstance(s, ast.Assign) and any(isinstance(t, ast.Name) and t.id == name for t in s.targets)
        for s in node.body
    )


def _docstring(node: ast.ClassDef) -> str | None:
    """The first string statement of the class body, as written (Resolwe does not dedent it)."""
    for statement in node.body:
        if (
            isinstance(statement, ast.Expr)
            and isinstance(statement.value, ast.Constant)
            and isinstance(statement.value.value, str)
        ):
            return statement.value.value
    return None


def _dotted(node: ast.expr) -> str | None:
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):
        head = _dotted(node.value)
        return f"{head}.{node.attr}" if head else None
    return None


def _callee(node: ast.expr) -> str | None:
    """``StringField`` for ``StringField`` and ``fields.StringField``."""
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):
        return node.attr
    return None


def _c3_merge(sequences: list[list[_ClassRef]]) -> list[_ClassRef]:
    """Python's method resolution order over the readable classes."""
    sequences = [list(seq) for seq in sequences if seq]
    result: list[_ClassRef] = []
    while sequences:
        for seq in sequences:
            head = seq[0]
            if not any(head.key in [r.key for r in other[1:]] for other in sequences):
                break
        else:
            raise _Error("the base classes have no consistent method resolution order")
        result.append(head)
        sequences = [[r for r in seq if r.key != head.key] for seq in sequences]
        sequences = [seq for seq in sequences if seq]
    return result


def _json(value: Any) -> Any:
    try:
        return json.loads(json.dumps(value, allow_nan=False))
    except (TypeError, ValueError) as error:
        raise _Error(f"must be serializable: {error}") from error


def _describe(value: Any) -> str:
    return f"{type(value).__name__} {value!r}" if not isinstance(value, str) else f"str {value!r}"


def _source(node: ast.AST) -> str:
    text = ast.unparse(node)
    return text if len(text) <= 80 else f"{text[:77]}..."


def _file(path: Path | None) -> str | None:
    return str(path) if path is not None else None
