"""Stand-in for Resolwe's ``resolwe.flow.tests.expression_filters`` (a custom filter module)."""

filters = {"increase": lambda value: value + 1}
