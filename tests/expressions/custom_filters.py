"""Custom filter module for the tests (stands in for ``resolwe.flow.tests.expression_filters``)."""


def increase(value):
    """Return ``value + 1`` (the filter Resolwe's test module defines)."""
    return value + 1


#: What ``lookup`` answers now; a test changes it between renders, as the database changes between runs.
CURRENT = {"value": "first"}


def lookup(_key):
    """Stands in for a filter that reads the database (``data_by_slug``)."""
    return CURRENT["value"]


filters = {"increase": increase, "lookup": lookup}
