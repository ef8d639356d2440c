"""Process and field type strings: normalization and hierarchy matching.

Resolwe types are colon-separated paths that always end with ``:``
(``data:genome:fasta:``). The trailing colon is what makes a plain prefix test
a hierarchy test: ``data:genome:`` is a prefix of ``data:genome:fasta:`` but
not of ``data:genomes:``.
"""

from __future__ import annotations

LIST_PREFIX = "list:"
DATA_PREFIX = "data:"


def normalize_type(type_: str) -> str:
    """Append the trailing ``:`` when it is missing (``data:a:b`` -> ``data:a:b:``)."""
    return type_ if type_.endswith(":") else f"{type_}:"


def type_matches(required: str, actual: str) -> bool:
    """Tell whether an object of type ``actual`` may be used where ``required`` is asked for.

    A subtype matches its supertypes (``data:genome:fasta:`` satisfies
    ``data:genome:``), never the reverse; ``data:`` accepts every data type.
    This is Resolwe's ``process__type.startswith(type_)`` on normalized types.
    """
    return normalize_type(actual).startswith(normalize_type(required))


def is_list_type(type_: str) -> bool:
    """``list:basic:string:`` and ``list:data:...:`` hold a list of values."""
    return type_.startswith(LIST_PREFIX)


def element_type(type_: str) -> str:
    """The type of one element: ``list:data:reads:`` -> ``data:reads:``; other types unchanged."""
    return type_[len(LIST_PREFIX) :] if is_list_type(type_) else type_


def is_data_type(type_: str) -> bool:
    """True for ``data:...`` and ``list:data:...`` fields, whose values are Data ids."""
    return element_type(type_).startswith(DATA_PREFIX)
