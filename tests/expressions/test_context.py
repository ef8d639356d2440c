"""Tests of template-context building, and of corpus bash programs rendered with it."""

import copy
import json
import subprocess
from pathlib import Path

import pytest
import yaml

from resolwe_prefect.expressions import (
    HydratedPath,
    build_name_context,
    build_program_context,
    get_engine,
    hydrate_input_references,
    hydrate_input_uploads,
)

CONFORMANCE = Path(__file__).parents[2].parent / "shared/conformance"

UPSTREAM_SCHEMA = [
    {"name": "fasta", "type": "basic:file:"},
    {"name": "index", "type": "basic:dir:"},
    {"name": "chunks", "type": "list:basic:file:"},
    {"name": "dirs", "type": "list:basic:dir:"},
    {"name": "stats", "type": "basic:json:"},
    {"name": "grp", "group": [{"name": "inner", "type": "basic:file:"}, {"name": "n", "type": "basic:integer:"}]},
    {"name": "parent", "type": "data:"},
]


def _record(data_id, **extra):
    record = {
        "id": data_id,
        "slug": f"genome-{data_id}",
        "name": f"Genome {data_id}",
        "type": "data:genome:fasta:",
        "descriptor": {"species": "Homo sapiens"},
        "output": {
            "fasta": {"file": "genome.fa", "refs": ["genome.fa.fai"]},
            "index": {"dir": "idx"},
            "chunks": [{"file": "c1.fa"}, {"file": "c2.fa", "refs": ["c2.idx"]}],
            "dirs": [{"dir": "d1"}],
            "stats": 99,
            "grp": {"inner": {"file": "in/ner.txt"}, "n": 3},
        },
        "output_schema": UPSTREAM_SCHEMA,
        "entity_id": 70 + data_id,
        "entity_name": f"Sample {data_id}",
        "process_slug": "upload-genome",
    }
    record.update(extra)
    return record


DB = {1: _record(1), 2: _record(2, output={"fasta": {"file": "two.fa"}}), 3: _record(3, input={"src": 1})}


def load_data(data_id):
    return copy.deepcopy(DB.get(data_id))


def file_path(data_id, relative):
    return f"/inputs/{data_id}/{relative}"


INPUT_SCHEMA = [
    {"name": "genome", "type": "data:genome:fasta:"},
    {"name": "genomes", "type": "list:data:genome:"},
    {"name": "optional", "type": "data:genome:", "required": False},
    {"name": "reads", "type": "basic:file:"},
    {"name": "opts", "group": [{"name": "ref", "type": "data:genome:"}, {"name": "k", "type": "basic:integer:"}]},
    {"name": "k", "type": "basic:integer:"},
]

PROCESS = {
    "slug": "align",
    "type": "data:alignment:",
    "requirements": {"expression-engine": "jinja", "executor": {"docker": {"image": "x"}}},
}
REQUIREMENTS = {"resources": {"cores": 2, "memory": 4096, "network": False, "storage": 10}}
INPUTS = {
    "genome": 1,
    "genomes": [1, 2],
    "optional": None,
    "reads": {"file": "reads.fq", "file_temp": "/uploads/abc123"},
    "opts": {"ref": 2, "k": 5},
    "k": 31,
}


@pytest.fixture
def context():
    return build_program_context(
        inputs=INPUTS,
        input_schema=INPUT_SCHEMA,
        process=PROCESS,
        data={"id": 10, "slug": "align-1", "name": "Align", "dir": "/data/10"},
        requirements=REQUIREMENTS,
        load_data=load_data,
        file_path=file_path,
        extra={"custom": "x"},
    )


def test_data_reference_hydrated(context):
    genome = context["genome"]
    assert genome["__id"] == 1
    assert genome["__type"] == "data:genome:fasta:"
    assert genome["__name"] == "Genome 1"
    assert genome["__slug"] == "genome-1"
    assert genome["__descriptor"] == {"species": "Homo sapiens"}
    assert genome["__entity_id"] == 71
    assert genome["__entity_name"] == "Sample 1"
    assert genome["__output_schema"] == UPSTREAM_SCHEMA
    assert "__input" not in genome
    assert genome["stats"] == 99  # basic:json left alone without load_storage


def test_file_values_mapped(context):
    genome = context["genome"]
    assert genome["fasta"]["file"] == "/inputs/1/genome.fa"
    assert isinstance(genome["fasta"]["file"], HydratedPath)
    assert genome["fasta"]["file"].file_name == "genome.fa"
    assert genome["fasta"]["file"].data_id == 1
    assert genome["fasta"]["refs"] == ["/inputs/1/genome.fa.fai"]
    assert genome["index"]["dir"] == "/inputs/1/idx"
    assert [c["file"] for c in genome["chunks"]] == ["/inputs/1/c1.fa", "/inputs/1/c2.fa"]
    assert genome["chunks"][1]["refs"] == ["/inputs/1/c2.idx"]
    assert genome["dirs"][0]["dir"] == "/inputs/1/d1"
    assert genome["grp"]["inner"]["file"] == "/inputs/1/in/ner.txt"
    assert genome["grp"]["n"] == 3


def test_lists_groups_and_missing(context):
    assert [g["__id"] for g in context["genomes"]] == [1, 2]
    assert context["genomes"][1]["fasta"]["file"] == "/inputs/2/two.fa"
    assert context["opts"]["ref"]["__id"] == 2
    assert context["opts"]["k"] == 5
    assert context["optional"] is None
    assert context["k"] == 31


def test_uploads_proc_requirements_extra(context):
    assert context["reads"] == {"file": "reads.fq", "file_temp": "/uploads/abc123"}
    assert context["proc"] == {"data_id": 10, "data_dir": "/data/10"}
    assert context["requirements"]["resources"] == REQUIREMENTS["resources"]
    assert context["requirements"]["expression-engine"] == "jinja"
    assert context["requirements"]["executor"] == {"docker": {"image": "x"}}
    assert context["custom"] == "x"


def test_inputs_not_mutated(context):
    assert INPUTS["genome"] == 1 and INPUTS["opts"]["ref"] == 2
    assert DB[1]["output"]["fasta"]["file"] == "genome.fa"


def test_rendering_with_context(context):
    engine = get_engine()
    program = (
        "bwa {{ genome.fasta.file }} {{ genome | relative_path }} {{ genome.fasta | relative_path }} "
        "{{ genomes | id }} {{ proc.data_id }} {{ requirements.resources.cores }} {{ reads.file }}"
    )
    assert engine.evaluate_block(program, context, shell_escape=True) == (
        "bwa /inputs/1/genome.fa '' genome.fa '[1, 2]' 10 2 reads.fq"
    )


def test_missing_reference_is_empty_dict():
    ctx = build_program_context(
        inputs={"genome": 404, "genomes": [404, None, 1]},
        input_schema=INPUT_SCHEMA,
        process={},
        data={"id": 1},
        requirements={},
        load_data=load_data,
        file_path=file_path,
    )
    assert ctx["genome"] == {}
    assert [g.get("__id") for g in ctx["genomes"]] == [None, 1]
    assert ctx["proc"] == {"data_id": 1, "data_dir": None}
    assert ctx["requirements"] == {}


def test_nested_data_and_input_and_storage():
    schema = [{"name": "child", "type": "data:"}]
    db = {5: {"id": 5, "output": {"parent": 1}, "output_schema": UPSTREAM_SCHEMA, "input": {"a": 1}}, **DB}
    values = {"child": 5}
    hydrate_input_references(values, schema, db.get, file_path, load_storage=lambda sid: {"storage": sid})
    child = values["child"]
    assert child["__input"] == {"a": 1}
    assert child["parent"]["__id"] == 1
    assert child["parent"]["fasta"]["file"] == "/inputs/1/genome.fa"
    assert child["parent"]["stats"] == {"storage": 99}


def test_reference_cycle_terminates():
    db = {1: {"id": 1, "output": {"parent": 1}, "output_schema": [{"name": "parent", "type": "data:"}]}}
    values = {"x": 1}
    hydrate_input_references(values, [{"name": "x", "type": "data:"}], db.get, file_path)
    assert values["x"]["parent"]["parent"]["__id"] == 1


def test_hydrate_uploads():
    values = {
        "reads": {"file": "a.fq", "file_temp": "tmp123"},
        "more": [{"file": "b", "file_temp": "https://example.org/b"}, {"file": "c", "file_temp": "t2"}],
    }
    schema = [{"name": "reads", "type": "basic:file:"}, {"name": "more", "type": "list:basic:file:"}]
    hydrate_input_uploads(values, schema, lambda temp: f"/upload/{temp}")
    assert values["reads"]["file_temp"] == "/upload/tmp123"
    assert values["more"][0]["file_temp"] == "https://example.org/b"
    assert values["more"][1]["file_temp"] == "/upload/t2"


def test_name_context_keeps_relative_paths():
    ctx = build_name_context(inputs={"genome": 1}, input_schema=INPUT_SCHEMA, load_data=load_data)
    assert ctx["genome"]["fasta"]["file"] == "genome.fa"
    assert get_engine().evaluate_block("{{ genome | name }}: {{ genome.fasta.file }}", ctx) == "Genome 1: genome.fa"


def test_hydrated_path_copy_and_pickle():
    import pickle

    path = HydratedPath("/a/b", 3, "b")
    for clone in (copy.deepcopy(path), pickle.loads(pickle.dumps(path))):
        assert clone == "/a/b" and clone.data_id == 3 and clone.file_name == "b"


# --- corpus programs --------------------------------------------------------


def _corpus_processes():
    processes = {}
    for path in sorted((CONFORMANCE / "processes").glob("*.yml")):
        for entry in yaml.safe_load(path.read_text()) or []:
            processes.setdefault(entry["slug"], entry)
    return processes


def _corpus_case(area, case_id):
    document = yaml.safe_load((CONFORMANCE / "cases" / f"{area}.yaml").read_text())
    return next(case for case in document["cases"] if case["id"] == case_id)


def _run_bash(program):
    """Run a rendered program with a fake ``re-save``; return the saved outputs (JSON-parsed like re-save)."""
    prelude = 're-save() { printf \'%s\\t%s\\0\' "$1" "$2"; }\n'
    result = subprocess.run(["bash", "-c", prelude + program], capture_output=True, check=True)
    saved = {}
    for record in result.stdout.decode().split("\0")[:-1]:
        key, value = record.split("\t", 1)
        try:
            saved[key] = json.loads(value)
        except ValueError:
            saved[key] = value
    return saved


def _resolve(value, bound):
    """Resolve the corpus value markers used by the expression-filters cases."""
    if isinstance(value, dict) and "ref" in value:
        return bound[value["ref"]][value.get("attr", "id")]
    if isinstance(value, dict) and "fmt" in value:
        return value["fmt"].format(**{k: type("B", (), v) for k, v in bound.items()})
    if isinstance(value, dict):
        return {key: _resolve(item, bound) for key, item in value.items()}
    if isinstance(value, list):
        return [_resolve(item, bound) for item in value]
    return value


needs_corpus = pytest.mark.skipif(not CONFORMANCE.is_dir(), reason="conformance corpus missing")


def _render_process(slug, inputs, load=load_data):
    process = _corpus_processes()[slug]
    context = build_program_context(
        inputs=inputs,
        input_schema=process.get("input", []),
        process=process,
        data={"id": 99, "dir": "/data/99"},
        requirements={"resources": {"cores": 1}},
        load_data=load,
        file_path=file_path,
    )
    engine = get_engine(process["requirements"]["expression-engine"])
    return engine.evaluate_block(process["run"]["program"], context, shell_escape=True)


@needs_corpus
def test_corpus_data_attribute_filters():
    case = _corpus_case("expression-filters", "expression-filters/data-attribute-filters")
    inp = {
        "id": 17,
        "slug": "input-data-object",
        "name": "Input Data object",
        "type": "data:test:inputobject:",
        "descriptor": {"descriptions": {"text": "This is test Data object."}},
        "output": {"test_file": {"file": "path/to/file.txt"}},
        "output_schema": [{"name": "test_file", "type": "basic:file"}],
        "entity_id": None,
        "entity_name": None,
    }
    program = _render_process("cf-tt-data", {"input_data": 17, "input_data_list": [17]}, {17: inp}.get)
    saved = _run_bash(program)
    expected = next(e for e in case["expect"] if e["data"] == "d")["output"]
    assert saved == _resolve(expected, {"inp": inp})


@needs_corpus
def test_corpus_value_filters():
    case = _corpus_case("expression-filters", "expression-filters/value-filters")
    saved = _run_bash(_render_process("cf-tt-basic", {}))
    assert saved == next(e for e in case["expect"] if "output" in e)["output"]


@needs_corpus
def test_corpus_shell_escaping_and_safe():
    case = _corpus_case("expression-filters", "expression-filters/shell-escaping-and-safe")
    create = case["steps"][0]
    saved = _run_bash(_render_process(create["process"], create["input"]))
    assert saved == next(e for e in case["expect"] if "output" in e)["output"]


@needs_corpus
def test_corpus_naming_template():
    case = _corpus_case("naming", "naming/template-from-input-output")
    process = _corpus_processes()["cf-name-template"]
    src = {
        "id": 8,
        "name": "Name source",
        "type": "data:test:first:",
        "output": {"stat": "42"},
        "output_schema": _corpus_processes()["cf-name-src"]["output"],
    }
    ctx = build_name_context(inputs={"src": 8}, input_schema=process["input"], load_data={8: src}.get)
    name = get_engine().evaluate_block(process["data_name"], ctx)
    assert name == next(e for e in case["expect"] if e["data"] == "d1")["name"]
