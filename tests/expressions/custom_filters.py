"""Custom filter module for the tests (stands in for ``resolwe.flow.tests.expression_filters``)."""


def increase(value):
    """Return ``value + 1`` (the filter Resolwe's test module defines)."""
    return value + 1


filters = {"increase": increase}
