"""Sandboxed Jinja2 expression engine, behaving like Resolwe's ``jinja`` engine.

Resolwe semantics kept here:

* undefined values nest (``a.b.c().d`` is undefined, not an error) and render
  as ``""``; inline evaluation turns them into ``None``;
* a filter that raises returns an undefined value, so ``default()`` applies;
* bash programs are rendered with shell escaping: each ``{{ ... }}`` output is
  ``str()``-ed and shell-quoted, unless it went through ``|safe``.

Differences (on purpose): the environment is a ``SandboxedEnvironment``, and
shell quoting is done through Jinja's ``finalize`` hook on a separate
environment instead of Resolwe's patched autoescape code generator. The
output is the same (Resolwe's autoescape never applied HTML escaping either),
and the engine keeps no per-call state, so it is safe to share between threads.
"""

from __future__ import annotations

import functools
import shlex
import threading
from collections.abc import Callable, Sequence
from importlib import import_module
from typing import Any

import jinja2
from jinja2.sandbox import SandboxedEnvironment

from .filters import filters as builtin_filters


class EvaluationError(Exception):
    """A template or expression could not be compiled or evaluated.

    Also raised for an unknown engine name or a broken custom filter module,
    so callers have one exception type to turn into a Data error.
    """


class NestedUndefined(jinja2.Undefined):
    """An undefined value whose attributes, items and calls are undefined too.

    This is what lets ``{{ src.output.file | default("?") }}`` work when
    ``src`` is missing, exactly as in Resolwe.
    """

    __slots__ = ()

    def __str__(self) -> str:
        return ""

    # Jinja declares these as its failing method (``-> Never``); here they yield undefined on purpose.
    def __call__(self, *args: Any, **kwargs: Any) -> NestedUndefined:  # type: ignore[override]
        return NestedUndefined()

    def __getattr__(self, name: str) -> NestedUndefined:
        # Dunder lookups must fail, or protocols (``__html__``, pickling,
        # ``jinja_pass_arg`` detection) would see an undefined "attribute".
        if name.startswith("__") or name == "jinja_pass_arg":
            raise AttributeError(name)
        return NestedUndefined()

    def __getitem__(self, key: Any) -> NestedUndefined:  # type: ignore[override]
        return NestedUndefined()


class SafeString(str):
    """A string marked with ``|safe``: inserted into a bash program unquoted."""


def shell_quote(value: Any) -> str:
    """Quote ``value`` as one POSIX shell word.

    The value is converted with ``str()`` first, as Resolwe does: lists render
    as ``['a', 'b']``, booleans as ``True``, undefined values as ``''``. The
    result is passed through :func:`shlex.quote`, so ``foo; rm -rf /`` or
    ``$(id)`` reach the program as a literal argument. Numbers and plain words
    come out unchanged (``shlex.quote("42") == "42"``).
    """
    text = str(value)
    if type(text) is not str:  # e.g. markupsafe.Markup, whose methods escape HTML
        text = str.__str__(text)
    return shlex.quote(text)


def _shell_finalize(value: Any) -> str:
    """Finalize hook of the shell-escaping environment (runs on every ``{{ }}``)."""
    if isinstance(value, SafeString):
        return str.__str__(value)
    return shell_quote(value)


def _propagate_errors_as_undefined(function: Callable[..., Any]) -> Callable[..., Any]:
    """Wrap a filter so that any exception it raises yields an undefined value."""

    @functools.wraps(function)  # also copies ``jinja_pass_arg`` (pass_context etc.)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return function(*args, **kwargs)
        except Exception:  # noqa: BLE001 - Resolwe semantics: errors become undefined
            return NestedUndefined()

    return wrapper


def _never_constant(function: Callable[..., Any]) -> Callable[..., Any]:
    """A custom filter, called at render time even on constant arguments.

    Jinja folds a filter applied to constants (``{{ 'reads'|data_by_slug }}``) into the compiled
    template, and compiled templates are cached across runs; a custom filter may read the database
    as the current contributor, so it must never be folded. Jinja does not fold filters that take
    the render context, so the filter is given one it ignores.
    """
    if getattr(function, "jinja_pass_arg", None) is not None:
        return function

    @jinja2.pass_context
    @functools.wraps(function)
    def at_render_time(_context: Any, *args: Any, **kwargs: Any) -> Any:
        return function(*args, **kwargs)

    return at_render_time


def _load_filter_module(module_name: str) -> dict[str, Callable[..., Any]]:
    """Import a custom filter module by dotted path and return its ``filters`` dict."""
    try:
        module = import_module(module_name)
    except ImportError as error:
        raise EvaluationError(f"Failed to load custom filter module '{module_name}': {error}") from error
    filter_map = getattr(module, "filters", None)
    if not isinstance(filter_map, dict):
        raise EvaluationError(f"Filter module '{module_name}' does not define a 'filters' dictionary.")
    return filter_map


def _undefined_to_none(value: Any) -> Any:
    """Replace undefined values nested in lists/dicts by ``None``.

    Inline results are stored as JSON (workflow step inputs), and an
    ``Undefined`` object inside ``[a, b]`` could not be serialized.
    """
    if isinstance(value, jinja2.Undefined):
        return None
    if isinstance(value, list):
        return [_undefined_to_none(item) for item in value]
    if isinstance(value, tuple):
        return tuple(_undefined_to_none(item) for item in value)
    if isinstance(value, dict):
        return {key: _undefined_to_none(item) for key, item in value.items()}
    return value


def _format_error(error: Exception) -> str:
    """Return a readable one-line description of a template error."""
    if isinstance(error, jinja2.TemplateSyntaxError):
        return f"Template syntax error on line {error.lineno}: {error.message}"
    message = str(error) or type(error).__name__
    if isinstance(error, jinja2.TemplateError):
        return message
    return f"{type(error).__name__}: {message}"


class JinjaEngine:
    """The ``jinja`` expression engine.

    Two sandboxed environments share one filter set: a plain one (data names,
    workflow inputs, inline expressions) and a shell-escaping one (bash
    programs). Compiled templates are cached per environment.
    """

    name = "jinja"
    inline_tags = ("{{", "}}")

    def __init__(self, custom_filter_modules: Sequence[str] = ()) -> None:
        """Build the environments and register built-in and custom filters."""
        filter_map: dict[str, Callable[..., Any]] = dict(builtin_filters)
        for module_name in custom_filter_modules:
            filter_map.update({name: _never_constant(f) for name, f in _load_filter_module(module_name).items()})

        self._plain = self._make_environment(filter_map, safe=lambda value: value)
        self._shell = self._make_environment(filter_map, safe=SafeString, finalize=_shell_finalize)
        self._compile_block = functools.lru_cache(maxsize=512)(self._compile_block_uncached)
        self._compile_inline = functools.lru_cache(maxsize=512)(
            lambda expression: self._plain.compile_expression(expression)
        )

    @staticmethod
    def _make_environment(
        filter_map: dict[str, Callable[..., Any]],
        safe: Callable[[Any], Any],
        finalize: Callable[[Any], Any] | None = None,
    ) -> SandboxedEnvironment:
        environment = SandboxedEnvironment(undefined=NestedUndefined, autoescape=False, finalize=finalize)
        environment.filters.update(filter_map)
        environment.filters["safe"] = safe
        for filter_name, function in list(environment.filters.items()):
            environment.filters[filter_name] = _propagate_errors_as_undefined(function)
        return environment

    def _compile_block_uncached(self, template: str, shell_escape: bool) -> jinja2.Template:
        environment = self._shell if shell_escape else self._plain
        return environment.from_string(template)

    def evaluate_block(self, template: str, context: dict[str, Any], *, shell_escape: bool = False) -> str:
        """Render ``template`` to a string.

        With ``shell_escape=True`` (bash programs) every ``{{ ... }}`` output is
        shell-quoted unless marked ``|safe``. Raises :class:`EvaluationError`
        on syntax or runtime errors.
        """
        try:
            compiled = self._compile_block(template, bool(shell_escape))
            return compiled.render(**(context or {}))
        except EvaluationError:
            raise
        except Exception as error:  # noqa: BLE001 - everything becomes EvaluationError
            raise EvaluationError(_format_error(error)) from error

    def get_inline_expression(self, text: str) -> str | None:
        """Return the expression inside ``text`` if it is exactly one ``{{ ... }}``.

        Workflow step inputs use this to decide between inline evaluation (a
        native value, e.g. a list or an id) and block rendering (a string).
        """
        text = text.strip()
        start, end = self.inline_tags
        if not (text.startswith(start) and text.endswith(end)):
            return None
        inner = text[len(start) : -len(end)]
        if start in inner or end in inner:
            return None  # several expressions, e.g. "{{ a }}-{{ b }}"
        return inner.strip()

    def evaluate_inline(self, expression: str, context: dict[str, Any]) -> Any:
        """Evaluate one expression and return its native value.

        ``expression`` may be given bare (``input.x``) or wrapped
        (``{{ input.x }}``). Undefined results become ``None``. Raises
        :class:`EvaluationError` on syntax or runtime errors.
        """
        inner = self.get_inline_expression(expression)
        if inner is not None:
            expression = inner
        try:
            compiled = self._compile_inline(expression)
            return _undefined_to_none(compiled(**(context or {})))
        except EvaluationError:
            raise
        except Exception as error:  # noqa: BLE001
            raise EvaluationError(_format_error(error)) from error


_ENGINE_CLASSES: dict[str, type[JinjaEngine]] = {"jinja": JinjaEngine}
_engines: dict[tuple[str, tuple[str, ...]], JinjaEngine] = {}
_engines_lock = threading.Lock()


def get_engine(name: str = "jinja", custom_filter_modules: Sequence[str] = ()) -> JinjaEngine:
    """Return the (cached) expression engine ``name``.

    ``custom_filter_modules`` are dotted module paths exporting a ``filters``
    dict (Resolwe's ``FLOW_EXPRESSION_ENGINES`` ``CUSTOM_FILTERS``). Raises
    :class:`EvaluationError` for an unknown engine or a broken filter module.
    """
    engine_class = _ENGINE_CLASSES.get(name)
    if engine_class is None:
        raise EvaluationError(f"Unsupported expression engine: {name}")  # Resolwe's words
    key = (name, tuple(custom_filter_modules))
    with _engines_lock:
        engine = _engines.get(key)
        if engine is None:
            engine = engine_class(custom_filter_modules=key[1])
            _engines[key] = engine
        return engine
