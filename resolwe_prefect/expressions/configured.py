"""The engine as this site configures it (``FLOW_EXPRESSION_ENGINES``)."""

from __future__ import annotations

from typing import Any

from .engine import JinjaEngine, get_engine


def custom_filter_modules(setting: Any) -> list[str]:
    """Read custom filter modules from Resolwe's setting or from a plain list of module paths.

    Resolwe's form is ``[{"ENGINE": "...jinja", "CUSTOM_FILTERS": ["module", ...]}]``.
    """
    modules: list[str] = []
    for entry in setting or []:
        if isinstance(entry, str):
            modules.append(entry)
        elif isinstance(entry, dict):
            modules.extend(entry.get("CUSTOM_FILTERS") or [])
    return modules


#: Filters that look objects up (``data_by_slug``, the sample and relation filters), loaded before
#: the site's own so that a site may override any of them.
LOOKUP_FILTERS = "resolwe_prefect.data.expression_filters"


def configured_engine(name: str = "jinja") -> JinjaEngine:
    """The named engine with the lookup filters and the site's custom filters; raises ``EvaluationError`` for unknown names."""
    from django.conf import settings

    custom = custom_filter_modules(getattr(settings, "FLOW_EXPRESSION_ENGINES", []))
    return get_engine(name, (LOOKUP_FILTERS, *custom))
