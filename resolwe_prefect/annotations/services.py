"""What the REST views, the management command and the Prefect layer do with annotations.

The Prefect layer calls :func:`annotate_entity` once a bash program has
reported ``re-annotate-entity group.field value`` (Resolwe's
``handle_annotate`` → ``Entity.update_annotations``) and
:func:`entity_annotations` to expose ``self.data.entity.annotations``.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction

from .models import AnnotationField, AnnotationGroup, AnnotationType, AnnotationValue
from .validation import compute_label, validate_value


def split_path(path: str) -> tuple[str, str] | None:
    """``"general.species"`` → ``("general", "species")``; ``None`` without a dot."""
    group, sep, name = path.partition(".")
    return (group, name) if sep and group and name else None


def field_from_path(path: str) -> AnnotationField | None:
    """The field a ``group.field`` path names, or ``None``."""
    parts = split_path(path)
    if parts is None:
        return None
    return AnnotationField.objects.select_related("group").filter(group__name=parts[0], name=parts[1]).first()


def missing_field_message(path: str) -> str:
    return f"Field '{path}' does not exist."


def check_value(field: AnnotationField, value: Any) -> None:
    """Raise Django's ``ValidationError`` with every reason ``value`` is invalid for ``field``."""
    errors = validate_value(field, value)
    if errors:
        raise ValidationError(errors)


def upsert_value(entity, field: AnnotationField, value: Any, contributor) -> AnnotationValue | None:
    """Create or replace the value of ``field`` on ``entity``; ``None`` deletes it.

    The field joins the entity's collection, so ``annotation_field?collection=``
    lists every field its samples carry (as Resolwe does when annotating).
    """
    if value is None:
        AnnotationValue.objects.filter(entity=entity, field=field).delete()
        return None
    check_value(field, value)
    stored = {"value": value, "label": compute_label(field, value)}
    annotation, _ = AnnotationValue.objects.update_or_create(
        entity=entity, field=field, defaults={"_value": stored, "contributor": contributor}
    )
    if entity.collection_id is not None:
        field.collections.add(entity.collection_id)
    return annotation


def annotate_entity(data, annotations: dict[str, Any], *, contributor=None) -> list[str]:
    """Store ``{"group.field": value}`` on ``data.entity``; return errors in Resolwe's wording.

    All or nothing: when any path is unknown or any value invalid, nothing is
    stored. There is one message per failing path (Resolwe handles each
    ``re-annotate-entity`` call separately and fails each on its own); the
    reasons for one value are joined into that message.
    """
    if data.entity_id is None:
        return [f"No entity to annotate for object '{data.pk}'"]
    return update_annotations(data.entity, annotations, contributor or data.contributor)


def update_annotations(entity, annotations: dict[str, Any], contributor) -> list[str]:
    """Validate every ``{"group.field": value}`` first, then store them all (``None`` deletes).

    Shared by processes (``re-annotate-entity``) and ``POST /api/sample/<id>/set_annotations``;
    returns the error messages, one per failing path, and stores nothing when there are any.
    """
    errors: list[str] = []
    resolved: list[tuple[AnnotationField, Any]] = []
    for path, value in annotations.items():
        field = field_from_path(path)
        if field is None:
            errors.append(missing_field_message(path))
            continue
        reasons = validate_value(field, value) if value is not None else []
        if reasons:
            errors.append(" ".join(reasons))
        resolved.append((field, value))
    if errors:
        return errors
    with transaction.atomic():
        for field, value in resolved:
            upsert_value(entity, field, value, contributor)
    return []


def entity_annotations(entity) -> dict[str, Any]:
    """``{"group.field": value}`` for every value stored on ``entity``."""
    rows = AnnotationValue.objects.filter(entity=entity).values_list("field__group__name", "field__name", "_value")
    return {f"{group}.{name}": stored.get("value") for group, name, stored in rows}


def _group(spec: dict[str, Any]) -> AnnotationGroup:
    name = spec["group"]
    defaults = {"label": spec.get("group_label") or name, "sort_order": spec.get("group_sort_order", 0)}
    group, created = AnnotationGroup.objects.get_or_create(name=name, defaults=defaults)
    if not created:
        changed = {
            key: spec[src] for key, src in (("label", "group_label"), ("sort_order", "group_sort_order")) if src in spec
        }
        if changed:
            AnnotationGroup.objects.filter(pk=group.pk).update(**changed)
    return group


FIELD_KEYS = ("label", "description", "type", "sort_order", "validator_regex", "vocabulary", "required", "version")


@transaction.atomic
def define_fields(specs: Iterable[dict[str, Any]]) -> list[AnnotationField]:
    """Create or update groups and fields from plain dicts; safe to run again.

    Keys: ``group`` and ``name`` (required), ``group_label``,
    ``group_sort_order``, and any of :data:`FIELD_KEYS`. A spec is the
    field's whole definition, so a spec without ``vocabulary`` or
    ``validator_regex`` leaves the field without one (a fixture that redefines
    a field must not inherit an earlier fixture's constraint). A changed
    vocabulary relabels the field's stored values.
    """
    fields = []
    for spec in specs:
        if not spec.get("group") or not spec.get("name"):
            raise ValueError(f"An annotation field needs 'group' and 'name': {spec!r}")
        field_type = str(spec.get("type", AnnotationType.STRING)).upper()
        if field_type not in AnnotationType.values:
            raise ValueError(f"Unknown annotation type '{field_type}' (use one of {', '.join(AnnotationType.values)}).")
        group = _group(spec)
        values = {key: spec[key] for key in FIELD_KEYS if key in spec}
        values["type"] = field_type
        values.setdefault("vocabulary", None)
        values.setdefault("validator_regex", None)
        field = AnnotationField.objects.filter(group=group, name=spec["name"]).first()
        if field is None:
            values.setdefault("label", spec["name"])
            values.setdefault("sort_order", 0)
            field = AnnotationField.objects.create(group=group, name=spec["name"], **values)
        else:
            vocabulary_changed = "vocabulary" in values and values["vocabulary"] != field.vocabulary
            for key, value in values.items():
                setattr(field, key, value)
            field.save()
            if vocabulary_changed:
                relabel(field)
        fields.append(field)
    return fields


def relabel(field: AnnotationField) -> None:
    """Recompute stored labels after the vocabulary changed."""
    values = list(field.values.all())
    for annotation in values:
        annotation._value = {"value": annotation.value, "label": compute_label(field, annotation.value)}
    AnnotationValue.objects.bulk_update(values, ["_value"])


def set_entity_values(entity, values: dict[str, Any], contributor) -> None:
    """Set ``{"group.field": value}`` on ``entity`` or raise ``ValidationError`` (fixtures, admin use)."""
    with transaction.atomic():
        for path, value in values.items():
            field = field_from_path(path)
            if field is None:
                raise ValidationError(missing_field_message(path))
            upsert_value(entity, field, value, contributor)


def set_collection_fields(collection, fields: Iterable[AnnotationField]) -> None:
    """Make ``fields`` exactly the collection's annotation fields; stored values are kept."""
    collection.annotation_fields.set(list(fields))
