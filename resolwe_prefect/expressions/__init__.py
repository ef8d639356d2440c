"""Expression engine: sandboxed Jinja2 templates for programs, names and workflows.

Public API (other modules code against exactly this):

* :func:`get_engine` - cached engine by name (only ``"jinja"``), with custom
  filter modules given by dotted path;
* :class:`JinjaEngine` - ``evaluate_block`` (string, optional shell escaping)
  and ``evaluate_inline`` (native value);
* :class:`EvaluationError` - every compile/render failure, unknown engine;
* :func:`shell_quote` - the quoting applied to values in bash programs;
* :func:`build_program_context` - the hydrated context of a bash program.
"""

from .context import (
    HydratedPath,
    build_name_context,
    build_program_context,
    hydrate_input_references,
    hydrate_input_uploads,
)
from .engine import EvaluationError, JinjaEngine, SafeString, get_engine, shell_quote

__all__ = [
    "EvaluationError",
    "HydratedPath",
    "JinjaEngine",
    "SafeString",
    "build_name_context",
    "build_program_context",
    "get_engine",
    "hydrate_input_references",
    "hydrate_input_uploads",
    "shell_quote",
]
