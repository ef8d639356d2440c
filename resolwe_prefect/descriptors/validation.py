"""Descriptor validation shared by every object that carries a descriptor."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from resolwe_prefect.schema.fields import fill_defaults, validate_values

if TYPE_CHECKING:
    from .models import DescriptorSchema


class DescriptorError(ValueError):
    """The descriptor breaks its schema in a way that is not just missing required values."""

    def __init__(self, messages: list[str]) -> None:
        super().__init__("; ".join(messages))
        self.messages = messages


def fill_descriptor(schema: DescriptorSchema | None, descriptor: Any) -> tuple[dict, bool]:
    """Fill defaults into ``descriptor`` and tell whether it is *dirty*.

    As in Resolwe, a descriptor that only lacks required values is stored and
    flagged ``descriptor_dirty``; any other violation raises ``DescriptorError``.
    """
    if schema is None:
        return descriptor or {}, False
    if not isinstance(descriptor, dict):
        raise DescriptorError(["The descriptor must be an object."])
    descriptor = fill_defaults(schema.schema, descriptor)
    errors = validate_values(schema.schema, descriptor, kind="descriptor")
    invalid = [error for error in errors if error.code != "required"]
    if invalid:
        raise DescriptorError([f"{e}{f' ({e.detail})' if e.detail else ''}" for e in invalid])
    return descriptor, bool(errors)
