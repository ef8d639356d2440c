"""Annotation value validation with Resolwe's messages.

Every check runs and all failures are reported together, as Resolwe's
``AnnotationValueValidator`` does: the type check, then ``validator_regex``,
then vocabulary membership. The messages are compared verbatim by the
conformance suite (e.g. "The value 'Invalid' is not valid for the field
general.species.").
"""

from __future__ import annotations

import datetime
import re
from collections.abc import Callable
from typing import Any

from .models import AnnotationField, AnnotationType


def _check_string(value: Any) -> str | None:
    if not isinstance(value, str):
        return f"The value '{value}' is not of the expected type 'str'."
    return None


def _check_integer(value: Any) -> str | None:
    # JSON true/false are not integers, although Python's bool is an int subclass.
    if not isinstance(value, int) or isinstance(value, bool):
        return f"The value '{value}' is not of the expected type 'int'."
    return None


def _check_decimal(value: Any) -> str | None:
    if not isinstance(value, (int, float)) or isinstance(value, bool):
        return f"The value '{value}' is not of the expected types 'int' or 'float'."
    return None


def _check_date(value: Any) -> str | None:
    if not isinstance(value, str):
        return f"The value '{value}' is not of the expected type 'str'."
    try:
        datetime.datetime.strptime(value, "%Y-%m-%d")
    except ValueError:
        return f"Value {value} has incorrect format, use YYYY-MM-DD."
    return None


TYPE_CHECKS: dict[str, Callable[[Any], str | None]] = {
    AnnotationType.STRING: _check_string,
    AnnotationType.INTEGER: _check_integer,
    AnnotationType.DECIMAL: _check_decimal,
    AnnotationType.DATE: _check_date,
}


def _in_vocabulary(value: Any, vocabulary: dict) -> bool:
    """Vocabulary keys are JSON object keys, hence strings; unhashable values are never members."""
    try:
        return value in vocabulary
    except TypeError:
        return False


def validate_value(field: AnnotationField, value: Any) -> list[str]:
    """All reasons why ``value`` is not valid for ``field``; empty when it is valid."""
    errors: list[str] = []
    type_error = TYPE_CHECKS[field.type](value)
    if type_error:
        errors.append(type_error)
    if field.validator_regex is not None and re.search(field.validator_regex, str(value)) is None:
        errors.append(
            f"The value '{value}' for the field '{field.pk}' does not match the regex '{field.validator_regex}'."
        )
    if field.vocabulary is not None and not _in_vocabulary(value, field.vocabulary):
        errors.append(f"The value '{value}' is not valid for the field {field}.")
    return errors


def compute_label(field: AnnotationField, value: Any) -> Any:
    """The vocabulary's label for ``value``, or the value itself (Resolwe's ``_computed_label``)."""
    if field.vocabulary is None or not _in_vocabulary(value, field.vocabulary):
        return value
    return field.vocabulary[value]
