"""Validation, the ``re-annotate-entity`` service and the fixture command."""

from __future__ import annotations

import json
from io import StringIO

import pytest
from django.core.management import call_command

from resolwe_prefect.annotations import services
from resolwe_prefect.annotations.models import AnnotationField, AnnotationGroup, AnnotationValue
from resolwe_prefect.annotations.validation import compute_label, validate_value

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    ("path", "value", "errors"),
    [
        ("general.species", "Valid", []),
        ("general.species", "Invalid", ["The value 'Invalid' is not valid for the field general.species."]),
        (
            "general.species",
            15,
            [
                "The value '15' is not of the expected type 'str'.",
                "The value '15' is not valid for the field general.species.",
            ],
        ),
        ("general.species", ["x"], ["The value '['x']' is not of the expected type 'str'.",
                                    "The value '['x']' is not valid for the field general.species."]),
        ("general.age", 42, []),
        ("general.age", "42", ["The value '42' is not of the expected type 'int'."]),
        ("general.age", True, ["The value 'True' is not of the expected type 'int'."]),
        ("biospecimen.weight", 1.5, []),
        ("biospecimen.weight", 2, []),
        ("biospecimen.weight", "1.5", ["The value '1.5' is not of the expected types 'int' or 'float'."]),
        ("biospecimen.collected", "2024-1-5", []),
        ("biospecimen.collected", "05.01.2024", ["Value 05.01.2024 has incorrect format, use YYYY-MM-DD."]),
        ("biospecimen.collected", 20240105, ["The value '20240105' is not of the expected type 'str'."]),
        ("biospecimen.code", "AB", []),
    ],
)  # fmt: skip
def test_validate_value(fields, path, value, errors):
    assert validate_value(fields[path], value) == errors


def test_regex_message_names_field_id(fields):
    field = fields["biospecimen.code"]
    assert validate_value(field, "abc") == [
        f"The value 'abc' for the field '{field.pk}' does not match the regex '^[A-Z]{{2}}$'."
    ]


def test_label_from_vocabulary(fields):
    assert compute_label(fields["general.species"], "hs") == "Homo sapiens"
    assert compute_label(fields["general.description"], "free text") == "free text"


def test_annotate_entity_stores_and_replaces(fields, entity, make_data, admin):
    data = make_data(entity=entity, collection=entity.collection)
    assert services.annotate_entity(data, {"general.species": "hs", "general.age": 42}) == []
    assert services.entity_annotations(entity) == {"general.species": "hs", "general.age": 42}
    value = AnnotationValue.objects.get(entity=entity, field=fields["general.species"])
    assert (value.value, value.label, value.contributor) == ("hs", "Homo sapiens", admin)
    # The annotated fields join the entity's collection.
    assert set(entity.collection.annotation_fields.all()) == {fields["general.species"], fields["general.age"]}

    assert services.annotate_entity(data, {"general.age": 43}) == []
    assert services.entity_annotations(entity)["general.age"] == 43
    assert AnnotationValue.objects.filter(entity=entity).count() == 2


def test_annotate_entity_invalid_vocabulary_stores_nothing(fields, entity, make_data):
    data = make_data(entity=entity)
    errors = services.annotate_entity(data, {"general.description": "ok", "general.species": "Invalid"})
    assert errors == ["The value 'Invalid' is not valid for the field general.species."]
    assert AnnotationValue.objects.count() == 0


def test_annotate_entity_one_message_per_path(fields, entity, make_data):
    data = make_data(entity=entity)
    errors = services.annotate_entity(data, {"general.species": 15, "general.invalid": "x"})
    assert errors == [
        "The value '15' is not of the expected type 'str'. The value '15' is not valid for the field general.species.",
        "Field 'general.invalid' does not exist.",
    ]


def test_annotate_entity_without_entity(fields, make_data):
    data = make_data()
    errors = services.annotate_entity(data, {"general.species": "Valid"})
    assert errors == [f"No entity to annotate for object '{data.pk}'"]
    assert "No entity to annotate" in errors[0]


def test_annotate_entity_null_deletes(fields, entity, make_data):
    data = make_data(entity=entity)
    services.annotate_entity(data, {"general.age": 1})
    assert services.annotate_entity(data, {"general.age": None}) == []
    assert services.entity_annotations(entity) == {}


def test_command_is_idempotent_and_updates(db):
    spec = [{"group": "general", "group_sort_order": 1, "name": "species", "sort_order": 1, "type": "STRING",
             "vocabulary": {"Valid": "Valid"}}]  # fmt: skip
    out = StringIO()
    call_command("annotation_fields", "--json", json.dumps(spec), stdout=out)
    ids = json.loads(out.getvalue())
    assert list(ids) == ["general.species"]
    call_command("annotation_fields", "--json", json.dumps(spec), stdout=StringIO())
    assert AnnotationGroup.objects.count() == 1 and AnnotationField.objects.count() == 1
    field = AnnotationField.objects.get()
    assert (field.pk, field.type, field.label, field.vocabulary) == (
        ids["general.species"],
        "STRING",
        "species",
        {"Valid": "Valid"},
    )

    spec[0]["vocabulary"] = {"Valid": "Valid", "Other": "Other"}
    spec[0]["type"] = "string"
    call_command("annotation_fields", "--json", json.dumps(spec), stdout=StringIO())
    field.refresh_from_db()
    assert field.vocabulary == {"Valid": "Valid", "Other": "Other"} and field.type == "STRING"


def test_redefinition_without_vocabulary_or_regex_drops_them(db):
    """A spec is the whole definition: a later fixture's plain field accepts any value."""
    first = {"group": "general", "name": "species", "type": "STRING", "vocabulary": {"Valid": "Valid"},
             "validator_regex": "^V"}  # fmt: skip
    services.define_fields([first])
    (field,) = services.define_fields([{"group": "general", "name": "species", "type": "STRING"}])
    field.refresh_from_db()
    assert (field.vocabulary, field.validator_regex) == (None, None)
    assert validate_value(field, "Human") == []


def test_command_relabels_and_sets_entity_values(fields, entity, admin):
    out = StringIO()
    call_command(
        "annotation_fields",
        "--entity",
        str(entity.pk),
        "--values",
        '{"general.species": "hs", "general.age": 7}',
        stdout=out,
    )
    assert services.entity_annotations(entity) == {"general.species": "hs", "general.age": 7}
    spec = [{"group": "general", "name": "species", "vocabulary": {"Valid": "Valid", "hs": "Human"}}]
    call_command("annotation_fields", "--json", json.dumps(spec), stdout=StringIO())
    assert AnnotationValue.objects.get(field=fields["general.species"]).label == "Human"


def test_command_rejects_bad_input(db, entity):
    from django.core.management.base import CommandError

    with pytest.raises(CommandError, match="Unknown annotation type"):
        call_command("annotation_fields", "--json", '[{"group": "g", "name": "f", "type": "BLOB"}]')
    with pytest.raises(CommandError, match="Invalid JSON"):
        call_command("annotation_fields", "--json", "[")
    with pytest.raises(CommandError, match="Field 'g.missing' does not exist"):
        call_command("annotation_fields", "--entity", str(entity.pk), "--values", '{"g.missing": 1}')
