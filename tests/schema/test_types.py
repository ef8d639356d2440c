"""Type strings: the trailing colon and the prefix hierarchy."""

import pytest

from resolwe_prefect.schema.types import element_type, is_data_type, is_list_type, normalize_type, type_matches


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("data:genome:fasta", "data:genome:fasta:"),
        ("data:genome:fasta:", "data:genome:fasta:"),
        ("basic:string", "basic:string:"),
        ("list:data:reads", "list:data:reads:"),
        ("data:", "data:"),
    ],
)
def test_normalize_type(raw, expected):
    assert normalize_type(raw) == expected


@pytest.mark.parametrize(
    ("required", "actual", "matches"),
    [
        ("data:genome:", "data:genome:fasta:", True),
        ("data:genome:fasta:", "data:genome:", False),
        ("data:genome:fasta:", "data:genome:fasta:", True),
        ("data:", "data:anything:at:all:", True),
        ("data:test:upload:", "data:test:upload:subtype:", True),
        ("data:test:upload:", "data:test:wrong:", False),
        # The colon keeps siblings with a common prefix apart.
        ("data:genome:", "data:genomes:", False),
        # Types without the trailing colon are normalized first.
        ("data:genome", "data:genome:fasta", True),
        ("data:referenced:", "data:referenced:object:", True),
        ("data:wrong:type:", "data:referenced:object:", False),
    ],
)
def test_type_matches(required, actual, matches):
    assert type_matches(required, actual) is matches


def test_list_helpers():
    assert is_list_type("list:data:reads:")
    assert not is_list_type("data:reads:")
    assert element_type("list:data:reads:") == "data:reads:"
    assert element_type("basic:string:") == "basic:string:"
    assert is_data_type("list:data:reads:") and is_data_type("data:")
    assert not is_data_type("basic:integer:")
