"""Problems with values, worded as Resolwe words them.

Resolwe raises on the first problem; here every problem is a
:class:`FieldError`, so that an API can show them all, and clients (and the
conformance cases) still match on Resolwe's messages.
"""

from __future__ import annotations


class FieldError(Exception):
    """One invalid value.

    ``path`` locates the value (``reads``, ``options.threads``, ``files[2]``;
    empty for the whole object), ``message`` is Resolwe's wording and ``code``
    classifies the problem so callers can react to some of them: a descriptor
    with only ``required`` errors is *dirty*, not invalid. ``detail`` carries
    the specific reason behind a generic type error.
    """

    def __init__(self, path: str, message: str, code: str = "invalid", detail: str | None = None) -> None:
        super().__init__(message)
        self.path = path
        self.message = message
        self.code = code
        self.detail = detail

    def __str__(self) -> str:
        return f"{self.path}: {self.message}" if self.path else self.message

    def __repr__(self) -> str:
        return f"FieldError({self.path!r}, {self.message!r}, code={self.code!r})"

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, FieldError):
            return NotImplemented
        return (self.path, self.message, self.code) == (other.path, other.message, other.code)

    __hash__ = None  # type: ignore[assignment]


def format_errors(errors: list[FieldError]) -> str:
    """Join errors into one Resolwe-style message.

    Missing required fields are reported in one sentence, as Resolwe's
    ``DirtyError`` does: ``Required fields "a", "b" not given.``
    """
    parts = [error.message for error in errors if error.code != "required"]
    missing = [error.path.rsplit(".", 1)[-1] for error in errors if error.code == "required"]
    if missing:
        parts.append(required_message(missing))
    return " ".join(parts)


def required_message(names: list[str]) -> str:
    """Resolwe's wording for missing required fields (names without their group path)."""
    return "Required fields {} not given.".format(", ".join(f'"{name}"' for name in names))
