"""Tests of the Jinja expression engine, including the conformance corpus engine checks."""

import json
import shlex
import subprocess
from pathlib import Path

import pytest
import yaml

from resolwe_prefect.expressions import EvaluationError, JinjaEngine, get_engine, shell_quote

CASES_DIR = Path(__file__).parents[2].parent / "shared/conformance/cases"
CUSTOM_FILTERS = "tests.expressions.custom_filters"
# The corpus names Resolwe's test filter module; ours defines the same filters.
MODULE_MAP = {"resolwe.flow.tests.expression_filters": CUSTOM_FILTERS}


def _engine_checks():
    """Collect every ``engine_checks`` entry of the corpus as pytest params."""
    if not CASES_DIR.is_dir():
        return [pytest.param(None, None, marks=pytest.mark.skip(reason="conformance corpus missing"))]
    params = []
    for case_file in sorted(CASES_DIR.glob("*.yaml")):
        document = yaml.safe_load(case_file.read_text()) or {}
        for case in document.get("cases", []):
            for index, check in enumerate(case.get("engine_checks") or []):
                params.append(pytest.param(case, check, id=f"{case['id']}#{index}"))
    return params


def _corpus_engine(case):
    """Return the engine a corpus case asks for (custom filter modules mapped)."""
    modules = (case.get("settings") or {}).get("FLOW_EXPRESSION_ENGINES", {})
    custom = []
    if isinstance(modules, dict):
        for engine_settings in modules.values():
            if isinstance(engine_settings, dict):
                custom.extend(engine_settings.get("CUSTOM_FILTERS", []))
    custom.append("resolwe.flow.tests.expression_filters")  # the corpus always may use it
    return get_engine("jinja", tuple(dict.fromkeys(MODULE_MAP.get(m, m) for m in custom)))


@pytest.mark.parametrize(("case", "check"), _engine_checks())
def test_corpus_engine_check(case, check):
    engine = _corpus_engine(case)
    context = check.get("context") or {}
    if check["mode"] == "block":
        call = lambda: engine.evaluate_block(check["template"], context)  # noqa: E731
    else:
        assert check["mode"] == "inline"
        call = lambda: engine.evaluate_inline(check["expression"], context)  # noqa: E731
    if check.get("error"):
        with pytest.raises(EvaluationError):
            call()
    else:
        assert call() == check["result"]


@pytest.fixture
def engine():
    return get_engine("jinja", (CUSTOM_FILTERS,))


def test_get_engine_caches_and_rejects_unknown():
    assert get_engine() is get_engine("jinja")
    assert isinstance(get_engine(), JinjaEngine)
    with pytest.raises(EvaluationError, match="invalid"):
        get_engine("invalid")


def test_custom_filter_module(engine):
    assert engine.evaluate_inline("x | increase", {"x": 41}) == 42
    assert engine.evaluate_block("{{ x | increase }}", {"x": 1}) == "2"
    # Not registered in the plain engine: unknown filter is a compile error.
    with pytest.raises(EvaluationError):
        get_engine().evaluate_inline("x | increase", {"x": 1})


@pytest.mark.parametrize("module", ["no_such_module_xyz", "json"])
def test_broken_custom_filter_module(module):
    with pytest.raises(EvaluationError, match=module):
        get_engine("jinja", (module,))


def test_inline_accepts_braces(engine):
    assert engine.evaluate_inline("{{ input.x }}", {"input": {"x": [1, 2]}}) == [1, 2]
    assert engine.evaluate_inline("  {{input.x}} ", {"input": {"x": 5}}) == 5
    assert engine.evaluate_inline("{{ missing }}", {}) is None
    assert engine.evaluate_inline("[a.b, 1, {'k': c}]", {}) == [None, 1, {"k": None}]


def test_get_inline_expression(engine):
    assert engine.get_inline_expression("{{ a.b }}") == "a.b"
    assert engine.get_inline_expression("x {{ a }}") is None
    assert engine.get_inline_expression("{{ a }}-{{ b }}") is None


@pytest.mark.parametrize("flt", ["name", "id", "type", "basename", "slug", "descriptor"])
def test_filter_errors_become_undefined(engine, flt):
    # From Resolwe's ExpressionEngineTest: undefined values propagate through filters.
    assert engine.evaluate_inline(f'foo.bar | {flt} | default("bar")', {}) == "bar"


@pytest.mark.parametrize(
    ("template", "message"),
    [("Hello {% bar", "line 1"), ("ok\n{{ x y }}", "line 2"), ("{{ 1 + }}", "syntax")],
)
def test_syntax_errors_are_readable(engine, template, message):
    with pytest.raises(EvaluationError) as error:
        engine.evaluate_block(template, {})
    assert message in str(error.value)


def test_runtime_errors(engine):
    with pytest.raises(EvaluationError, match="ZeroDivisionError"):
        engine.evaluate_block("{{ 1 / x }}", {"x": 0})
    with pytest.raises(EvaluationError):
        engine.evaluate_block("{{ missing + 1 }}", {})
    with pytest.raises(EvaluationError):
        engine.evaluate_inline("1 +", {})


def test_undefined_renders_empty(engine):
    assert engine.evaluate_block("[{{ a.b.c }}]", {}) == "[]"
    assert engine.evaluate_block("[{{ a.b.c }}]", {}, shell_escape=True) == "['']"


def test_sandbox_blocks_internals(engine):
    payloads = [
        "{{ ''.__class__.__mro__[1].__subclasses__() }}",
        "{{ cycler.__init__.__globals__.os.popen('id').read() }}",
        "{{ x.__class__ }}",
    ]
    for payload in payloads:
        assert engine.evaluate_block(payload, {"x": 1}) == ""
    with pytest.raises(EvaluationError):
        engine.evaluate_block("{{ range(10**9) | list }}", {})


# --- shell escaping -------------------------------------------------------

NASTY = [
    "foo; rm -rf /",
    "$(id)",
    "`id`",
    "this has 'some' spaces",
    'double "quotes" and \\ backslash',
    "new\nline",
    "glob * ? [a]",
    "${HOME} $HOME",
    "-n",
    "",
    "semi;colon|pipe&amp>redir<",
    "unicode žćč",
]


def _bash_args(script_line):
    """Run ``printf`` with the rendered arguments in real bash; return the words."""
    program = f"set +B\nprintf '%s\\0' {script_line}"
    result = subprocess.run(["bash", "-c", program], capture_output=True, check=True)
    return result.stdout.decode().split("\0")[:-1]


@pytest.mark.parametrize("value", NASTY)
def test_shell_escape_reaches_bash_as_one_word(engine, value):
    line = engine.evaluate_block("{{ v }}", {"v": value}, shell_escape=True)
    assert line == shell_quote(value)
    assert shlex.split(line) == [value]
    assert _bash_args(line) == [value]


def test_shell_escape_values(engine):
    render = lambda t, **c: engine.evaluate_block(t, c, shell_escape=True)  # noqa: E731
    assert render("{{ n }} {{ f }} {{ b }}", n=42, f=1.5, b=True) == "42 1.5 True"
    assert _bash_args(render("{{ l }}", l=["a b", "c"])) == ["['a b', 'c']"]
    assert _bash_args(render("{{ d }}", d={"k": "v"})) == ["{'k': 'v'}"]
    # Literal template text is never quoted; only {{ }} output is.
    assert render("echo 'x' {{ v }}", v="a b") == "echo 'x' 'a b'"


def test_safe_filter(engine):
    value = "this has 'some' spaces"
    rendered = engine.evaluate_block("{{ v | safe }}", {"v": value}, shell_escape=True)
    assert rendered == value
    assert _bash_args(rendered) == ["this", "has", "some", "spaces"]
    # Anything computed from a safe value is quoted again.
    rendered = engine.evaluate_block("{{ (v | safe) ~ 'x' }}", {"v": "a b"}, shell_escape=True)
    assert _bash_args(rendered) == ["a bx"]
    # Without shell escaping `safe` is a no-op.
    assert engine.evaluate_block("{{ v | safe }}", {"v": "a b"}) == "a b"


def test_no_escape_without_flag(engine):
    assert engine.evaluate_block("{{ v }}", {"v": "a; b"}) == "a; b"
    # No HTML escaping either.
    assert engine.evaluate_block("{{ v }}", {"v": "<&>'"}) == "<&>'"
    assert engine.evaluate_block("{{ v | e }}", {"v": "<"}, shell_escape=True) == "'&lt;'"


def test_shell_quote():
    assert shell_quote(42) == "42"
    assert shell_quote("a'b") == "'a'\"'\"'b'"
    assert shell_quote("") == "''"
    assert shell_quote(["a"]) == shlex.quote("['a']")
    from markupsafe import Markup

    assert shell_quote(Markup("it's")) == shlex.quote("it's")


def test_macro_output_is_quoted_like_resolwe(engine):
    template = "{% macro m(x) %}{{ x }}{% endmacro %}{{ m('a b') | safe }}"
    assert engine.evaluate_block(template, {}, shell_escape=True) == "'a b'"


def test_json_filter_roundtrip(engine):
    rendered = engine.evaluate_block("{{ d | tojson }}", {"d": {"a": [1, "x y"]}}, shell_escape=True)
    assert json.loads(_bash_args(rendered)[0]) == {"a": [1, "x y"]}


def test_custom_filters_on_constants_are_called_at_every_render():
    """Jinja would fold ``{{ 'x'|lookup }}`` into the cached template; a custom filter may read the database."""
    from tests.expressions import custom_filters

    engine = get_engine("jinja", (CUSTOM_FILTERS,))
    custom_filters.CURRENT["value"] = "first"
    assert engine.evaluate_block("{{ 'reads'|lookup }}", {}) == "first"
    custom_filters.CURRENT["value"] = "second"
    assert engine.evaluate_block("{{ 'reads'|lookup }}", {}) == "second"
    assert engine.evaluate_inline("'reads'|lookup", {}) == "second"
    assert engine.evaluate_block("{{ 1|increase }}", {}) == "2"
