"""Reading Python processes statically (no database, nothing imported or executed).

The expected definitions are what Resolwe 45's ``SafeParser(...).parse()`` and
``ProcessDescriptor.to_schema()`` return for the same sources (checked against
Resolwe itself when these tests were written), key order included.
"""

import json
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
import yaml

from resolwe_prefect.processes.definitions import normalize_process, validate_process
from resolwe_prefect.processes.python_definitions import (
    DEFAULT_REQUIREMENTS,
    PythonFileError,
    PythonReader,
    parse_python_processes,
    read_python_processes,
)

CONFORMANCE = Path("/work/shared/conformance")

HEADER = "from resolwe import process\nfrom resolwe.process import *\n\n\n"
META = '    slug = "{slug}"\n    name = "{name}"\n    version = "1.0.0"\n    process_type = "data:test"\n'


def parse(source, path=None):
    return parse_python_processes(HEADER + textwrap.dedent(source), path)


def one(source):
    module = parse(source)
    assert not module.errors, [str(e) for e in module.errors]
    (process,) = module.processes
    return process.definition


def errors_of(source):
    module = parse(source)
    (error,) = module.errors
    return error.reasons


def process_class(body="", *, slug="p", base="Process", head=""):
    meta = META.format(slug=slug, name=slug.upper())
    return f"{head}class P({base}):\n{meta}{textwrap.indent(textwrap.dedent(body), '    ')}\n"


def field(name, type_, **extra):
    return {"name": name, "type": type_, "required": True, "hidden": False, "disabled": False, **extra}


def input_field(body):
    (schema,) = one(process_class(f"class Input:\n{textwrap.indent(textwrap.dedent(body), '    ')}"))["input"]
    return schema


# --- metadata -------------------------------------------------------------------------------------

FULL = '''
class AllFields(Process):
    """All fields.

    Second paragraph.
    """

    slug = "all-fields"
    name = "All fields"
    version = "1.2.3"
    process_type = "data:test:all"
    category = "Tests"
    data_name = "{{ src.file }}"
    scheduling_class = SchedulingClass.INTERACTIVE
    persistence = Persistence.TEMP
    entity = {"type": "sample", "descriptor_schema": "sample", "input": "src", "always_create": False}
    requirements = {"expression-engine": "jinja", "resources": {"cores": 2, "network": True}}
    description = "A class attribute: Resolwe ignores it, the docstring is the description."

    class Output:
        out = StringField(label="Out")

    def run(self, inputs, outputs):
        outputs.out = "x"
'''


def test_metadata():
    module = parse(FULL)
    (process,) = module.processes
    definition = process.definition
    assert (process.class_name, process.slug, process.version) == ("AllFields", "all-fields", "1.2.3")
    assert list(definition) == [
        "slug",
        "name",
        "type",
        "version",
        "data_name",
        "requirements",
        "description",
        "category",
        "scheduling_class",
        "persistence",
        "entity",
        "output",
        "run",
    ]
    assert definition["type"] == "data:test:all:"
    assert definition["description"] == "All fields.\n\n    Second paragraph.\n    "  # as written, like Resolwe
    assert (definition["category"], definition["data_name"]) == ("Tests", "{{ src.file }}")
    assert (definition["scheduling_class"], definition["persistence"]) == ("interactive", "TEMP")
    assert definition["entity"] == {
        "type": "sample",
        "descriptor_schema": "sample",
        "input": "src",
        "always_create": False,
    }
    assert definition["requirements"] == {"expression-engine": "jinja", "resources": {"cores": 2, "network": True}}
    assert definition["run"] == {"language": "python", "program": HEADER + textwrap.dedent(FULL)}


def test_defaults_of_a_minimal_process():
    definition = one(process_class())
    assert definition == {
        "slug": "p",
        "name": "P",
        "type": "data:test:",
        "version": "1.0.0",
        "data_name": "",
        "requirements": DEFAULT_REQUIREMENTS,
        "run": {"language": "python", "program": definition["run"]["program"]},
    }


def test_normalized_like_yaml():
    normalized = normalize_process(one(FULL))
    assert (normalized["scheduling_class"], normalized["persistence"], normalized["category"]) == (
        "IN",
        "TMP",
        "Tests:",
    )
    assert normalized["output"][0]["type"] == "basic:string:"
    assert validate_process(normalized) == []
    for code, stored in (("BATCH", "BA"), ("INTERACTIVE", "IN")):
        assert (
            normalize_process(one(process_class(f"scheduling_class = SchedulingClass.{code}")))["scheduling_class"]
            == stored
        )
    for code, stored in (("RAW", "RAW"), ("CACHED", "CAC"), ("TEMP", "TMP")):
        assert normalize_process(one(process_class(f"persistence = Persistence.{code}")))["persistence"] == stored


# --- fields ---------------------------------------------------------------------------------------

FIELDS = '''
class Fields(Process):
    slug = "fields"
    name = "Fields"
    version = "1.0.0"
    process_type = "data:test"

    class Input:
        s = StringField("Positional label", required=False, description="desc", default="x",
                        choices=[("a", "A"), ("x", "X")], allow_custom_choice=True, hidden="other", disabled=False,
                        placeholder="Resolwe ignores it")
        t = TextField(label="Text", default="long")
        b = BooleanField(label="Bool", default=True)
        i = IntegerField(label="Int", range=[0, 10], default=3)
        f = FloatField(label="Float", range=(0.0, 1.5), default=0.5)
        d = DateField(label="Date", default="2020-01-01")
        dt = DateTimeField(label="DateTime", default="2020-01-01 10:00:00")
        u1 = UrlField(UrlField.VIEW, label="View")
        u2 = UrlField(url_type="link", label="Link")
        u3 = DownloadUrlField(label="Download")
        u4 = ViewUrlField("View2")
        u5 = LinkUrlField(label="Link2")
        sec = SecretField(label="Secret")
        fi = FileField(label="File")
        fh = FileHtmlField(label="Html")
        di = DirField(label="Dir")
        js = JsonField(label="Json")
        ls = ListField(StringField(), label="Strings", default=["a", "b"])
        ld = ListField(DataField("reads:fastq"), label="Reads", relation_type="series", relation_npartitions=2)
        lpos = ListField(DataField("reads"), "Positional list label")
        lu = ListField(UrlField(UrlField.DOWNLOAD), label="Urls")
        data = DataField("genome:fasta", label="Genome", relation_type="group")
        data2 = DataField(data_type="", label="Any data", required=False)

        class Advanced:
            """Group docs."""
            threads = IntegerField(label="Threads", default=2)
            _private = StringField(label="Private")

            class Deeper:
                flag = BooleanField(label="Flag", default=False)

            deeper = GroupField(Deeper, label="Deeper", hidden=True)

        advanced = GroupField(Advanced, label="Advanced", description="More", disabled=True, collapsed=True)
        advanced2 = GroupField(Advanced, "Positional group label")

    class Output:
        out = StringField(label="Out")
        count = IntegerField(label="Count")
'''

ADVANCED = [
    field("threads", "basic:integer", label="Threads", default=2),
    {
        "name": "deeper",
        "type": "basic:group",
        "label": "Deeper",
        "hidden": True,
        "disabled": False,
        "collapsed": False,
        "group": [field("flag", "basic:boolean", label="Flag", default=False)],
    },
]
EXPECTED_INPUT = [
    {
        "name": "s",
        "type": "basic:string",
        "required": False,
        "label": "Positional label",
        "description": "desc",
        "default": "x",
        "hidden": "other",
        "disabled": False,
        "allow_custom_choice": True,
        "choices": [{"label": "A", "value": "a"}, {"label": "X", "value": "x"}],
    },
    field("t", "basic:text", label="Text", default="long"),
    field("b", "basic:boolean", label="Bool", default=True),
    field("i", "basic:integer", label="Int", default=3, range=[0, 10]),
    field("f", "basic:decimal", label="Float", default=0.5, range=[0.0, 1.5]),
    field("d", "basic:date", label="Date", default="2020-01-01"),
    field("dt", "basic:datetime", label="DateTime", default="2020-01-01 10:00:00"),
    field("u1", "basic:url:view", label="View"),
    field("u2", "basic:url:link", label="Link"),
    field("u3", "basic:url:download", label="Download"),
    field("u4", "basic:url:view", label="View2"),
    field("u5", "basic:url:link", label="Link2"),
    field("sec", "basic:secret", label="Secret"),
    field("fi", "basic:file", label="File"),
    field("fh", "basic:file:html", label="Html"),
    field("di", "basic:dir", label="Dir"),
    field("js", "basic:json", label="Json"),
    field("ls", "list:basic:string", label="Strings", default=["a", "b"]),
    field("ld", "list:data:reads:fastq", label="Reads", relation={"type": "series", "npartitions": 2}),
    # Resolwe hands a list's positional arguments to the inner DataField's to_list_schema() too.
    field(
        "lpos",
        "list:data:reads",
        label="Positional list label",
        relation={"type": "Positional list label", "npartitions": "none"},
    ),
    field("lu", "list:basic:url:download", label="Urls"),
    field("data", "data:genome:fasta", label="Genome", relation={"type": "group", "npartitions": "none"}),
    field("data2", "data:", label="Any data", required=False),
    {
        "name": "advanced",
        "type": "basic:group",
        "label": "Advanced",
        "description": "More",
        "hidden": False,
        "disabled": True,
        "collapsed": True,
        "group": ADVANCED,
    },
    {
        "name": "advanced2",
        "type": "basic:group",
        "label": "Positional group label",
        "hidden": False,
        "disabled": False,
        "collapsed": False,
        "group": ADVANCED,
    },
]


def test_every_field_class_and_option():
    definition = one(FIELDS)
    assert definition["input"] == EXPECTED_INPUT
    assert [f["name"] for f in definition["input"]] == [f["name"] for f in EXPECTED_INPUT]  # the order as written
    assert definition["output"] == [
        field("out", "basic:string", label="Out"),
        field("count", "basic:integer", label="Count"),
    ]
    # Key order as Resolwe's to_schema() writes it.
    assert list(definition["input"][0]) == list(EXPECTED_INPUT[0])
    assert list(definition["input"][-2]) == list(EXPECTED_INPUT[-2])
    normalized = normalize_process(definition)
    assert validate_process(normalized) == []
    assert normalized["input"][0]["type"] == "basic:string:"
    assert normalized["input"][-1]["type"] == "basic:group"  # Resolwe leaves group types alone
    assert normalized["input"][-1]["group"][0]["type"] == "basic:integer:"


def test_field_order_and_reassignment():
    schema = one(
        process_class(
            """
            class Input:
                b = StringField(label="B")
                a = StringField(label="A")
                b = IntegerField(label="B again")
                not_a_field = 3
            """
        )
    )["input"]
    # As in Resolwe's ordered dict, a name assigned twice keeps its first place and its last value.
    assert [(f["name"], f["type"]) for f in schema] == [("b", "basic:integer"), ("a", "basic:string")]


def test_positional_arguments_follow_resolwe_signatures():
    # IntegerField's first parameter is range, UrlField's url_type, DataField's data_type.
    assert input_field('x = IntegerField([1, 2], "Label")\n')["range"] == [1, 2]
    assert input_field('x = UrlField("download", "Label")\n')["type"] == "basic:url:download"
    data = input_field('x = DataField("reads", "series", 3, "Label", False)\n')
    assert data["relation"] == {"type": "series", "npartitions": 3}
    assert (data["label"], data["required"]) == ("Label", False)
    assert input_field('x = StringField("L", False, "D", "v")\n') == field(
        "x", "basic:string", required=False, label="L", description="D", default="v"
    )
    assert input_field('x = ListField(inner=StringField(), label="L")\n')["type"] == "list:basic:string"
    assert input_field('x = JsonField(label="L", unknown_keyword=object())\n') == field("x", "basic:json", label="L")


def test_group_defined_at_module_level():
    definition = one(
        "class Options:\n    k = IntegerField(label='K')\n\n\n"
        + process_class("class Input:\n    options = GroupField(Options, label='Options')\n")
    )
    assert definition["input"][0]["group"] == [field("k", "basic:integer", label="K")]


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        ('x = UrlField("ftp", label="L")', "Input.x: url_type must be one of: download, view, link"),
        ("x = UrlField(label='L')", "Input.x: UrlField() missing required argument: 'url_type'"),
        (
            'x = DataField("a", label="L", relation_npartitions=2)',
            "Input.x: relation_type should be set when relation_npartition is not None.",
        ),
        (
            'x = ListField(DataField("a"), "series", relation_type="group")',
            "Input.x: to_list_schema() got multiple values for argument 'relation_type'",
        ),
        ('x = ListField("a", label="L")', "Input.x: inner field must be an instance of Field, not 'a'"),
        ('x = GroupField(Missing, label="L")', "Input.x: GroupField needs a class of fields defined before it"),
        (
            'class G:\n        y = StringField(label="Y")\n    x = GroupField(G, label="L", default=1)',
            "Input.x: GroupField() got an unexpected keyword argument 'default'",
        ),
        (
            'class G:\n        y = StringField(label="Y")\n    x = GroupField(G, "a", "b", False, False, False, 1)',
            "Input.x: GroupField() takes at most 6 positional arguments",
        ),
        ('x = StringField("L", label="L")', "Input.x: StringField() got multiple values for argument 'label'"),
        ("x = StringField(**OPTIONS)", "Input.x: **arguments cannot be read statically"),
        ('x = TupleField(label="L")', "Input.x: TupleField is not a field class"),
        ('x = StringField(label="L", choices=["a", "b"])', "Input.x: choices must be a list of (value, label) pairs"),
        ("x = StringField(label=3)", "Input.x: label must be a string, not int 3"),
    ],
)
def test_field_errors(body, reason):
    reasons = errors_of(process_class(f"class Input:\n    {body}\n"))
    assert any(r.startswith(reason) for r in reasons), reasons


def test_a_schema_violation_is_left_to_validation():
    # Resolwe's parser accepts these; the meta-schema rejects them at registration.
    definition = one(
        process_class("class Input:\n    x = StringField()\n    y = ListField(ListField(StringField()))\n")
    )
    assert definition["input"][1]["type"] == "list:list:basic:string"
    errors = validate_process(definition)
    assert any("input.x" in e and "'label' is a required property" in e for e in errors), errors


# --- values ---------------------------------------------------------------------------------------


def test_expressions():
    source = """
    PREFIX = "data:"
    SPECIES = ["Homo sapiens", "Mus musculus"]
    CHOICES = [(s, s) for s in SPECIES]
    BASE_REQ = {"expression-engine": "jinja"}
    NEGATIVE = -5


    class P(Process):
        slug = "p-" + "x"
        name = "Name" " implicit"
        version = "1.0." + "0"
        process_type = PREFIX + "test"
        requirements = {**BASE_REQ, "resources": {"cores": 1 + 1, "memory": -(-1024)}, 1: (1, 2)}

        class Input:
            species = StringField(label="Species", choices=[(s, s) for s in []] if False else [("a", "b")])
            n = IntegerField(label="N", default=NEGATIVE, range=[NEGATIVE, +10])
            l = ListField(StringField(), label="L", default=SPECIES + ["Rattus"])
            t = StringField(label="T", default=UrlField.DOWNLOAD, choices=(("download", "D"),))
    """
    module = parse(source)
    (error,) = module.errors  # the conditional expression is refused, the rest is read
    assert error.reasons == [
        "Input.species: cannot read [(s, s) for s in []] if False else [('a', 'b')]: only literals, lists, tuples, "
        "dicts, +, constants assigned at module level in this file and members of SchedulingClass, Persistence and "
        "UrlField can be used"
    ]
    assert (error.slug, error.version) == ("p-x", "1.0.0")
    fixed = source.replace('[(s, s) for s in []] if False else [("a", "b")]', "CHOICES_OK").replace(
        "NEGATIVE = -5", 'NEGATIVE = -5\n    CHOICES_OK = [("a", "b")]'
    )
    definition = one(fixed)
    assert (definition["slug"], definition["name"], definition["version"]) == ("p-x", "Name implicit", "1.0.0")
    assert definition["type"] == "data:test:"
    assert definition["requirements"] == {
        "expression-engine": "jinja",
        "resources": {"cores": 2, "memory": 1024},
        "1": [1, 2],
    }
    species, n, list_, t = definition["input"]
    assert species["choices"] == [{"label": "b", "value": "a"}]
    assert (n["default"], n["range"]) == (-5, [-5, 10])
    assert list_["default"] == ["Homo sapiens", "Mus musculus", "Rattus"]
    assert (t["default"], t["choices"]) == ("download", [{"label": "D", "value": "download"}])


@pytest.mark.parametrize(
    ("line", "reason"),
    [
        ("category = LATER", "category: name 'LATER' is not assigned at module level before line"),
        ("category = os.sep", "category: cannot read os.sep"),
        ("category = IMPORTED", "category: name 'IMPORTED' (line 6) is imported"),
        ("category = helper()", "category: cannot read helper()"),
        ('category = f"{PREFIX}"', "category: cannot read f'{PREFIX}'"),
        ("category = 1", "category: must be a string, not int 1"),
        ("category = None", "category: must be a string, not NoneType None"),
        ("requirements = [1]", "requirements: must be a dictionary, not list [1]"),
        ("entity = {'type': 1e999}", "entity: 1e309 is not a finite number"),
        ('category = "a" + 1', "category: cannot add str 'a' and int 1"),
        ("category = -'a'", "category: cannot read -'a': str 'a' has no sign"),
        ('scheduling_class = "batch"', "scheduling_class: must be an attribute of SchedulingClass"),
        ("scheduling_class = Persistence.RAW", "scheduling_class: must be an attribute of SchedulingClass"),
        ("persistence = Persistence.KEPT", "persistence: Persistence has no member KEPT (RAW, CACHED, TEMP)"),
    ],
)
def test_value_errors(line, reason):
    head = "import os\nfrom somewhere import IMPORTED\nPREFIX = 'x'\n\n\n"
    source = process_class(line, head=head) + "\n\nLATER = 'x'\n"
    reasons = errors_of(source)
    assert any(r.startswith(reason) for r in reasons), reasons


def test_enum_through_module_attribute():
    definition = one(process_class("scheduling_class = process.SchedulingClass.BATCH"))
    assert definition["scheduling_class"] == "batch"


# --- which classes are processes ------------------------------------------------------------------


def test_inherit_through_module_attribute():
    source = """
    import resolwe.process as rp
    from resolwe.process import runtime


    class A(process.Process):
        slug = "a"
        name = "A"
        version = "1.0.0"
        process_type = "data:a"


    class B(rp.Process):
        slug = "b"
        name = "B"
        version = "1.0.0"
        process_type = "data:b"


    class C(runtime.Process):
        slug = "c"
        name = "C"
        version = "1.0.0"
        process_type = "data:c"


    class NotAProcess(Exception):
        slug = "not"


    class AlsoNot(rp.models.Data):
        slug = "not-either"
    """
    module = parse(source)
    assert [p.slug for p in module.processes] == ["a", "b", "c"] and module.errors == []


def test_base_class_in_the_same_file():
    source = '''
    class Base(Process):
        """Not a process: it is abstract."""

        _abstract = True
        process_type = "data:base"
        version = "2.0.0"
        requirements = {"expression-engine": "jinja"}

        class Input:
            common = StringField(label="Common")

        def helper(self):
            return 1


    class Middle(Base):
        _abstract = True
        category = "Middle"


    class Child(Middle):
        """Child docs."""

        slug = "child"
        name = "Child"


    class Override(Middle):
        slug = "override"
        name = "Override"
        version = "3.0.0"
        process_type = "data:override"

        class Input:
            own = IntegerField(label="Own")
    '''
    module = parse(source)
    assert module.errors == []
    child, override = (p.definition for p in module.processes)
    assert (child["slug"], child["type"], child["version"], child["category"]) == (
        "child",
        "data:base:",
        "2.0.0",
        "Middle",
    )
    assert child["requirements"] == {"expression-engine": "jinja"}
    assert child["description"] == "Child docs."  # a docstring is not inherited
    assert child["input"] == [field("common", "basic:string", label="Common")]
    assert (override["type"], override["version"]) == ("data:override:", "3.0.0")
    assert override["input"] == [field("own", "basic:integer", label="Own")]
    assert "description" not in override


def test_a_base_without_slug_that_is_not_abstract_is_an_error():
    module = parse(
        "class Base(Process):\n    process_type = 'data:x'\n\n\n"
        + process_class(base="Base").replace('process_type = "data:test"', "")
    )
    assert [p.slug for p in module.processes] == ["p"]
    (error,) = module.errors
    assert error.class_name == "Base"
    assert "process '<unknown>' is missing required meta attribute: slug" in error.reasons


def write(root, files):
    for name, content in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(content))
    return root


RUNTIME = '''
    """A package runtime, like resolwe_bio/process/runtime.py."""

    from resolwe.process.runtime import Process


    class ProcessBio(Process):
        _abstract = True
        requirements = {"expression-engine": "jinja", "executor": {"docker": {"image": "bio"}}}

        def add_variants(self, variants):
            raise RuntimeError("never executed")
'''


def test_base_class_from_the_same_package(tmp_path):
    write(
        tmp_path,
        {
            "bio/__init__.py": "",
            "bio/process/__init__.py": "from .runtime import ProcessBio as Reexported\n",
            "bio/process/runtime.py": RUNTIME,
            "bio/processes/annotation/variants.py": """
                from bio.process.runtime import ProcessBio
                from bio.process import Reexported
                from bio import process as bio_process


                class Annotate(ProcessBio):
                    slug = "annotate"
                    name = "Annotate"
                    version = "1.0.0"
                    process_type = "data:annotate"


                class ThroughInit(Reexported):
                    slug = "through-init"
                    name = "Through init"
                    version = "1.0.0"
                    process_type = "data:annotate"


                class ThroughModule(bio_process.runtime.ProcessBio):
                    slug = "through-module"
                    name = "Through module"
                    version = "1.0.0"
                    process_type = "data:annotate"
            """,
            "bio/process/relative.py": """
                from .runtime import ProcessBio


                class Relative(ProcessBio):
                    slug = "relative"
                    name = "Relative"
                    version = "1.0.0"
                    process_type = "data:relative"
            """,
        },
    )
    reader = PythonReader()
    module = reader.read(tmp_path / "bio/processes/annotation/variants.py")
    assert module.errors == []
    assert [p.slug for p in module.processes] == ["annotate", "through-init", "through-module"]
    for process in module.processes:
        assert process.definition["requirements"]["executor"] == {"docker": {"image": "bio"}}
        # The program is the process's own module, not the base's.
        assert process.definition["run"]["program"] == (tmp_path / "bio/processes/annotation/variants.py").read_text()
    relative = reader.read(tmp_path / "bio/process/relative.py")
    assert [p.slug for p in relative.processes] == ["relative"]
    # The base module is a base, not a process, and is parsed once for the whole tree.
    assert reader.read(tmp_path / "bio/process/runtime.py").processes == []


def test_unreadable_base_from_the_same_package_is_an_error(tmp_path):
    write(
        tmp_path,
        {
            "bio/__init__.py": "",
            "bio/process/__init__.py": "",
            "bio/process/broken.py": "class (:\n",
            "bio/processes/a.py": """
                from bio.process.missing import ProcessBio
                from bio.process.broken import Broken
                from bio.process import Nothing
                from elsewhere import Mixin


                class Missing(ProcessBio):
                    slug = "missing"


                class FromBroken(Broken):
                    slug = "from-broken"


                class NoSuchName(Nothing):
                    slug = "no-such-name"


                class External(Mixin):
                    slug = "external"
            """,
        },
    )
    module = read_python_processes(tmp_path / "bio/processes/a.py")
    assert module.processes == []
    missing, broken, no_such = module.errors
    assert missing.class_name == "Missing" and missing.reasons[0].startswith("cannot find module bio.process.missing")
    assert broken.reasons[0].startswith("cannot read module bio.process.broken: invalid Python: line 1")
    assert no_such.reasons == [f"cannot find class Nothing in {tmp_path / 'bio/process/__init__.py'}"]


def test_circular_bases_are_an_error(tmp_path):
    write(
        tmp_path,
        {
            "pkg/__init__.py": "",
            "pkg/a.py": "from pkg.b import B\n\n\nclass A(B):\n    pass\n",
            "pkg/b.py": "from pkg.a import A as B\n",
        },
    )
    (error,) = read_python_processes(tmp_path / "pkg/a.py").errors
    assert "circular" in error.reasons[0]


# --- errors and files -----------------------------------------------------------------------------


def test_errors_are_per_class_and_do_not_stop_the_others(tmp_path):
    path = tmp_path / "procs.py"
    path.write_text(
        HEADER
        + process_class(slug="first")
        + "\n\nclass Broken(Process):\n"
        + '    slug = "broken"\n    version = "2.0.0"\n    process_type = "data:Bad_Type"\n'
        + "    category = unknown_name\n\n    class Input:\n        x = StringField(label=1)\n\n\n"
        + process_class(slug="second").replace("class P(", "class Q(")
    )
    module = read_python_processes(path)
    assert [p.slug for p in module.processes] == ["first", "second"]
    (error,) = module.errors
    assert (error.file, error.class_name, error.line, error.slug, error.version) == (
        str(path),
        "Broken",
        13,
        "broken",
        "2.0.0",
    )
    assert error.reasons == [
        "category: name 'unknown_name' is not assigned at module level before line 13",
        "Input.x: label must be a string, not int 1",
        "process 'broken' is missing required meta attribute: name",
        "process 'broken' has invalid type: data:Bad_Type",
    ]
    assert str(error).startswith(f"{path}: class Broken (line 13): category: name 'unknown_name'")


@pytest.mark.parametrize(
    ("content", "reason"),
    [
        ("class (:\n", "invalid Python: line 1"),
        (b"x = '\xff'\n", "not UTF-8 text"),
        ("x = 1\0\n", "invalid Python"),
    ],
)
def test_file_errors(tmp_path, content, reason):
    path = tmp_path / "bad.py"
    path.write_bytes(content if isinstance(content, bytes) else content.encode())
    with pytest.raises(PythonFileError) as info:
        read_python_processes(path)
    assert info.value.file == str(path) and info.value.reason.startswith(reason)
    assert str(info.value).startswith(f"{path}: ")


def test_missing_file(tmp_path):
    with pytest.raises(PythonFileError, match="cannot read file"):
        read_python_processes(tmp_path / "missing.py")


def test_nothing_is_imported_or_executed(tmp_path):
    marker = tmp_path / "executed"
    path = tmp_path / "evil.py"
    path.write_text(
        f"open({str(marker)!r}, 'w').write('x')\nimport this_module_does_not_exist\n\n\n"
        + HEADER
        + process_class(
            f"class Input:\n    x = StringField(label='X')\n\ndef run(self, inputs, outputs):\n"
            f"    open({str(marker)!r}, 'w')\n"
        )
    )
    (process,) = read_python_processes(path).processes
    assert process.slug == "p" and not marker.exists()


def test_the_parser_needs_no_django():
    code = (
        "import sys; import resolwe_prefect.processes.python_definitions; "
        "sys.exit(any(m == 'django' or m.startswith('django.') for m in sys.modules))"
    )
    assert subprocess.run([sys.executable, "-c", code], cwd=Path(__file__).parents[2]).returncode == 0


# --- the conformance corpus -----------------------------------------------------------------------

needs_corpus = pytest.mark.skipif(not CONFORMANCE.is_dir(), reason="conformance corpus not available")


def corpus_processes():
    reader = PythonReader()
    processes = {}
    for path in sorted((CONFORMANCE / "processes" / "python").glob("*.py")):
        module = reader.read(path)
        assert module.errors == [], [str(e) for e in module.errors]
        for process in module.processes:
            processes[process.slug] = normalize_process(process.definition)
    return processes


def corpus_case(case_id):
    for path in (CONFORMANCE / "cases").glob("*.yaml"):
        for case in yaml.safe_load(path.read_text())["cases"]:
            if case["id"] == case_id:
                return case
    raise AssertionError(f"no case {case_id}")


@needs_corpus
def test_corpus_python_files_parse_and_validate():
    processes = corpus_processes()
    assert len(processes) == 29
    for slug, definition in processes.items():
        assert validate_process(definition) == [], slug
    assert processes["upload-file"]["description"] == "Upload file process."  # the docstring, not the attribute
    assert processes["upload-file"]["category"] == "Import:"
    assert processes["test-python-process-2"]["requirements"] == DEFAULT_REQUIREMENTS


@needs_corpus
def test_corpus_registration_attributes():
    """registration/python-process-attributes: what the stored process must hold."""
    processes = corpus_processes()
    (expect, registry) = corpus_case("registration/python-process-attributes")["expect"]
    spec = expect["registry_process"]
    process = processes[spec["slug"]]
    assert process["version"] == spec["version"]
    columns = {**process, "entity_type": process["entity"]["type"], "entity_input": process["entity"].get("input")}
    for key, value in spec["fields"].items():
        assert columns[key] == value, key
    inputs = {f["name"]: f for f in process["input"]}
    for name, expected in spec["input_schema_fields"].items():
        if "group_names" in expected:
            assert [f["name"] for f in inputs[name]["group"]][: len(expected["group_names"])] == expected["group_names"]
        for key, value in expected.items():
            if key != "group_names":
                assert inputs[name][key] == value, (name, key)
    assert processes[registry["registry"]["slug"]]["version"] in registry["registry"]["versions"]


@needs_corpus
def test_corpus_group_defaults():
    """python-processes/group-defaults: the defaults the case's second object gets."""
    inputs = {f["name"]: f for f in corpus_processes()["test-python-process-group-field"]["input"]}
    assert inputs["my_group"]["group"][0]["default"] == 42
    assert "default" not in inputs["my_group"]["group"][1]
    assert inputs["my_subgroup"]["group"][0]["group"][0]["default"] == 2
    assert [f["name"] for f in inputs.values()] == ["my_group", "my_group2", "my_subgroup"]
    assert json.dumps(inputs["my_group2"]["group"]) == json.dumps(
        [
            {
                "name": "foo",
                "type": "basic:integer:",
                "required": False,
                "label": "Foo",
                "hidden": False,
                "disabled": False,
            }
        ]
    )
