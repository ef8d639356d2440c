"""Registering process and descriptor-schema definitions in the database.

The rules are those of Resolwe's ``register`` command, applied per
definition in the given order:

1. normalize and validate (meta-schema and defaults); invalid -> ``rejected``;
2. a newer version of the slug is registered -> ``skipped-newer`` (checked
   first, so an older version is never reported as the same one);
3. the same version exists: inactive -> it is reactivated, but like Resolwe
   the row is only written with ``force`` (``reactivated`` without force,
   ``updated`` with it); active -> ``skipped-same`` or, with ``force``,
   ``updated``;
4. otherwise ``inserted``, with the given user as contributor.

``retire`` then removes processes that the definitions no longer mention and
old versions, unless Data objects use them; those are deactivated instead.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from resolwe_prefect.core.versions import version_to_int
from resolwe_prefect.descriptors.models import DescriptorSchema

from .definitions import (
    DefinitionError,
    load_definitions,
    normalize_descriptor_schema,
    normalize_process,
    validate_descriptor_schema,
    validate_process,
)
from .models import Process
from .python_definitions import PythonFileError, PythonReader

logger = logging.getLogger(__name__)

INSERTED = "inserted"
UPDATED = "updated"
SKIPPED_SAME = "skipped-same"
SKIPPED_NEWER = "skipped-newer"
REACTIVATED = "reactivated"
REJECTED = "rejected"
OUTCOMES = (INSERTED, UPDATED, SKIPPED_SAME, SKIPPED_NEWER, REACTIVATED, REJECTED)

DEFINITION_SUFFIXES = (".yml", ".yaml")
PYTHON_SUFFIXES = (".py",)
PROCESS_SUFFIXES = DEFINITION_SUFFIXES + PYTHON_SUFFIXES
#: Key under which an entry read from a Python file carries its class (``"Name (line N)"``) to its outcome.
PYTHON_CLASS_KEY = "__python_class__"


@dataclass
class Outcome:
    """What happened to one definition; ``message`` is Resolwe's wording (lines joined by newlines).

    ``python_class`` names the class (``"Name (line N)"``) of a definition read from a Python file.
    """

    slug: str
    version: str
    outcome: str
    message: str
    file: str | None = None
    errors: list[str] = field(default_factory=list)
    python_class: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


# --- finding and loading files ----------------------------------------------------------------


def find_process_files(dirs: Iterable[Path], suffixes: tuple[str, ...] = PROCESS_SUFFIXES) -> list[Path]:
    """Every file with one of ``suffixes`` below the given directories, sorted; missing directories are skipped.

    Processes are YAML (``*.yml``, ``*.yaml``) and Python (``*.py``) files; descriptor schemas only YAML.
    """
    found: set[Path] = set()
    for directory in dirs:
        directory = Path(directory)
        if directory.is_file() and directory.suffix.lower() in suffixes:
            found.add(directory)
        elif directory.is_dir():
            found.update(p for p in directory.rglob("*") if p.is_file() and p.suffix.lower() in suffixes)
    return sorted(found)


def load_entries(paths: Iterable[Path], *, kind: str = "process") -> tuple[list[tuple[Path, dict]], list[Outcome]]:
    """Load definitions of one kind from files (directories are searched).

    Returns the ``(file, definition)`` pairs in file order and a ``rejected``
    outcome for every file that cannot be read and, in Python files, for
    every process class that cannot be read (with its slug and version when
    those could be read). Like Resolwe's discovery, a process file skips
    entries without ``run`` that have a descriptor ``schema``, and a
    descriptor file keeps only entries with ``schema``, so both kinds may
    share a directory; Python files only hold processes.
    """
    entries: list[tuple[Path, dict]] = []
    failures: list[Outcome] = []
    python = PythonReader()
    suffixes = PROCESS_SUFFIXES if kind == "process" else DEFINITION_SUFFIXES
    for path in _expand(paths, suffixes):
        if kind == "process" and path.suffix.lower() in PYTHON_SUFFIXES:
            _load_python(path, python, entries, failures)
            continue
        try:
            definitions = load_definitions(path)
        except DefinitionError as error:
            message = f"Could not read YAML file {path}: {error.reason}"
            failures.append(Outcome("", "", REJECTED, message, str(path), [error.reason]))
            continue
        for definition in definitions:
            if kind == "process" and "run" not in definition and "schema" in definition:
                continue
            if kind == "descriptor" and "schema" not in definition:
                continue
            entries.append((path, definition))
    return entries, failures


def _load_python(path: Path, reader: PythonReader, entries: list, failures: list[Outcome]) -> None:
    """The process classes of one Python file, read statically (never imported)."""
    try:
        module = reader.read(path)
    except PythonFileError as error:
        message = f"Could not read Python file {path}: {error.reason}"
        failures.append(Outcome("", "", REJECTED, message, str(path), [error.reason]))
        return
    for problem in module.errors:
        python_class = f"{problem.class_name} (line {problem.line})"
        message = f"Could not read Python process {python_class} in {path}"
        slug, version = problem.slug or "", problem.version or ""
        failures.append(Outcome(slug, version, REJECTED, message, str(path), problem.reasons, python_class))
    for process in module.processes:
        entries.append((path, {**process.definition, PYTHON_CLASS_KEY: f"{process.class_name} (line {process.line})"}))


def _expand(paths: Iterable[Path], suffixes: tuple[str, ...]) -> list[Path]:
    result: list[Path] = []
    for path in paths:
        path = Path(path)
        result.extend(find_process_files([path], suffixes) if path.is_dir() else [path])
    return result


# --- processes --------------------------------------------------------------------------------


def register_processes(
    paths: Iterable[Path],
    *,
    user,
    force: bool = False,
    retire: bool = False,
    definitions: list[tuple[Path, dict]] | None = None,
) -> list[Outcome]:
    """Register the processes in ``paths`` (files or directories), then those in ``definitions``.

    ``definitions`` lets a caller pass already parsed entries (Python
    processes, tests). With ``retire``, the slugs of all given definitions
    (valid or not) are the ones that stay; retiring is skipped when a file
    could not be read, because its processes would otherwise be removed.
    """
    entries, outcomes = load_entries(paths, kind="process")
    entries += list(definitions or [])
    for path, raw in entries:
        python_class = raw.get(PYTHON_CLASS_KEY)
        definition = {key: value for key, value in raw.items() if key != PYTHON_CLASS_KEY}
        with transaction.atomic():
            outcome = _register_process(definition, user=user, force=force, file=str(path) if path else None)
        outcome.python_class = python_class
        _log(outcome)
        outcomes.append(outcome)
    if retire:
        keep = retained_slugs(entries, outcomes)
        if keep is None:
            logger.warning("Retire skipped: some definition files could not be read.")
        else:
            for message in retire_processes(keep):
                logger.info(message)
    return outcomes


def retained_slugs(entries: list[tuple[Path, dict]], outcomes: list[Outcome]) -> set[str] | None:
    """The slugs ``retire`` keeps: every definition read, and every unreadable Python class whose slug is known.

    None when a file, or a class whose slug is unknown, could not be read:
    its processes would otherwise be retired.
    """
    rejected = [o for o in outcomes if o.outcome == REJECTED]
    if any(not o.slug for o in rejected):
        return None
    return {str(raw.get("slug")) for _, raw in entries} | {o.slug for o in rejected}


def _register_process(raw: dict, *, user, force: bool, file: str | None) -> Outcome:
    slug = str(raw.get("slug") or "")
    name = raw.get("name") if isinstance(raw.get("name"), str) else ""
    process = normalize_process(raw)
    version = str(process.get("version", ""))
    errors = validate_process(process)
    if errors:
        message = "\n".join([f"VALIDATION ERROR: {name}", *(f"    {e}" for e in errors)])
        return Outcome(slug, version, REJECTED, message, file, errors)

    columns = process_model_fields(process)
    latest = _latest_version(Process, slug)
    if latest is not None and latest > version_to_int(version):
        return Outcome(slug, version, SKIPPED_NEWER, f"Skip processor {slug}: newer version installed", file)

    existing = Process.objects.filter(slug=slug, version=version).first()
    if existing is None:
        previous = Process.objects.filter(slug=slug).order_by("-version").first()
        inherit_permissions(Process.objects.create(contributor=user, **columns), previous)
        return Outcome(slug, version, INSERTED, f"Inserted {slug}", file)

    lines = []
    if not existing.is_active:
        lines.append(f"Processor {slug}: setting is_active to True")
    if not force:
        lines.append(f"Skip processor {slug}: same version installed")
        return Outcome(slug, version, REACTIVATED if not existing.is_active else SKIPPED_SAME, "\n".join(lines), file)
    Process.objects.filter(pk=existing.pk).update(is_active=True, modified=timezone.now(), **columns)
    lines.append(f"Updated {slug}")
    return Outcome(slug, version, UPDATED, "\n".join(lines), file)


def process_model_fields(process: dict) -> dict[str, Any]:
    """Map a normalized, valid definition onto the Process columns (every column, so updates reset them)."""
    entity = process.get("entity") or {}
    entity_type = entity.get("type")
    return {
        "slug": process["slug"],
        "version": process["version"],
        "name": process["name"],
        "type": process["type"],
        "category": process.get("category", "Other:"),
        "description": process.get("description", ""),
        "data_name": process.get("data_name"),
        "entity_type": entity_type,
        "entity_descriptor_schema": entity.get("descriptor_schema", entity_type),
        "entity_input": entity.get("input"),
        "entity_always_create": bool(entity.get("always_create", False)),
        "persistence": process.get("persistence", Process.PERSISTENCE_RAW),
        "scheduling_class": process.get("scheduling_class", Process.SCHEDULING_CLASS_BATCH),
        "input_schema": process.get("input", []),
        "output_schema": process.get("output", []),
        "run": process["run"],
        "requirements": process.get("requirements", {}),
    }


def retire_processes(keep_slugs: set[str]) -> list[str]:
    """Retire what the definitions no longer hold; return one message per affected version.

    Versions without Data objects are deleted when their slug is not in
    ``keep_slugs`` or when they are not the latest version of their slug.
    Versions with Data objects whose slug is gone are deactivated instead.
    """
    messages: list[str] = []
    with transaction.atomic():
        latest: dict[str, int] = {}
        for slug, version in Process.objects.values_list("slug", "version"):
            latest[slug] = max(latest.get(slug, -1), version_to_int(version))
        without_data = Process.objects.filter(data__isnull=True)
        for process in without_data.order_by("slug", "version"):
            if process.slug not in keep_slugs or version_to_int(process.version) != latest[process.slug]:
                messages.append(f"Removed {process.slug} {process.version}")
                process.delete()
        retired = Process.objects.filter(~Q(slug__in=keep_slugs), is_active=True)
        for process in retired.order_by("slug", "version"):
            messages.append(f"Deactivated {process.slug} {process.version}")
        retired.update(is_active=False)
    return messages


# --- descriptor schemas -----------------------------------------------------------------------


def register_descriptor_schemas(
    paths: Iterable[Path],
    *,
    user,
    force: bool = False,
    definitions: list[tuple[Path, dict]] | None = None,
) -> list[Outcome]:
    """Register descriptor schemas with the same version rules as processes."""
    entries, outcomes = load_entries(paths, kind="descriptor")
    entries += list(definitions or [])
    for path, raw in entries:
        with transaction.atomic():
            outcome = _register_descriptor(raw, user=user, force=force, file=str(path) if path else None)
        _log(outcome)
        outcomes.append(outcome)
    return outcomes


def _register_descriptor(raw: dict, *, user, force: bool, file: str | None) -> Outcome:
    slug = str(raw.get("slug") or "")
    name = raw.get("name") if isinstance(raw.get("name"), str) else ""
    descriptor = normalize_descriptor_schema(raw)
    descriptor.setdefault("version", "0.0.0")
    version = str(descriptor["version"])
    errors = validate_descriptor_schema(descriptor)
    if errors:
        message = "\n".join([f"VALIDATION ERROR: {name}", *(f"    {e}" for e in errors)])
        return Outcome(slug, version, REJECTED, message, file, errors)

    columns = {
        "slug": slug,
        "version": version,
        "name": descriptor["name"],
        "description": descriptor.get("description", ""),
        "schema": descriptor["schema"],
    }
    latest = _latest_version(DescriptorSchema, slug)
    if latest is not None and latest > version_to_int(version):
        return Outcome(slug, version, SKIPPED_NEWER, f"Skip descriptor schema {slug}: newer version installed", file)
    existing = DescriptorSchema.objects.filter(slug=slug, version=version)
    if not existing.exists():
        previous = DescriptorSchema.objects.filter(slug=slug).order_by("-version").first()
        inherit_permissions(DescriptorSchema.objects.create(contributor=user, **columns), previous)
        return Outcome(slug, version, INSERTED, f"Inserted {slug}", file)
    if not force:
        return Outcome(slug, version, SKIPPED_SAME, f"Skip descriptor schema {slug}: same version installed", file)
    existing.update(modified=timezone.now(), **columns)
    return Outcome(slug, version, UPDATED, f"Updated {slug}", file)


def inherit_permissions(obj, previous) -> None:
    """A new version gets the previous version's permissions (Resolwe); a first version, its contributor as owner."""
    from resolwe_prefect.permissions.services import on_created

    on_created(obj, copy_from=previous)


def _latest_version(model, slug: str) -> int | None:
    """The highest registered version of ``slug`` as an orderable integer (any activity state)."""
    version = model.objects.filter(slug=slug).order_by("-version").values_list("version", flat=True).first()
    return None if version is None else version_to_int(version)


def _log(outcome: Outcome) -> None:
    # The register command prints outcomes itself; the log keeps them for other callers.
    logger.debug("%s", outcome.message)
