"""resolwe-bio 65.1.1 (its 66 YAML and 118 Python processes) registers whole, as it does in Resolwe 45.

The release is downloaded from PyPI once into the test cache
(``tests/support/pypi_cache.py``); the test is skipped only when PyPI cannot
be reached.
"""

import json
from collections import Counter
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import call_command

from resolwe_prefect.descriptors.models import DescriptorSchema
from resolwe_prefect.processes.models import Process
from resolwe_prefect.processes.python_definitions import PythonReader
from tests.support import pypi_cache

VERSION = "65.1.1"
YAML_PROCESSES = 66
PYTHON_PROCESSES = 118
DESCRIPTOR_SCHEMAS = 4


@pytest.fixture(scope="module")
def resolwe_bio() -> Path:
    try:
        return pypi_cache.distribution("resolwe-bio", VERSION) / "resolwe_bio"
    except pypi_cache.Unavailable as error:
        pytest.skip(f"resolwe-bio {VERSION} is not cached and PyPI is unreachable: {error}")


def test_every_python_process_parses(resolwe_bio):
    reader = PythonReader()
    processes, errors = [], []
    for path in sorted((resolwe_bio / "processes").rglob("*.py")):
        module = reader.read(path)
        processes += module.processes
        errors += [str(e) for e in module.errors]
    assert errors == []
    assert len(processes) == PYTHON_PROCESSES
    assert len({p.slug for p in processes}) == PYTHON_PROCESSES


@pytest.mark.django_db
def test_the_whole_tree_registers(resolwe_bio, admin):
    out, err = StringIO(), StringIO()
    call_command(
        "register",
        "--path",
        str(resolwe_bio / "processes"),
        "--descriptor-path",
        str(resolwe_bio / "descriptors"),
        "--json",
        stdout=out,
        stderr=err,
    )
    outcomes = json.loads(out.getvalue())
    rejected = [o for o in outcomes if o["outcome"] == "rejected"]
    assert rejected == [], err.getvalue()
    descriptors = [o for o in outcomes if o["file"].startswith(str(resolwe_bio / "descriptors"))]
    processes = [o for o in outcomes if o["file"].startswith(str(resolwe_bio / "processes"))]
    assert Counter(o["outcome"] for o in descriptors) == {"inserted": DESCRIPTOR_SCHEMAS}
    assert Counter((Path(o["file"]).suffix, o["outcome"]) for o in processes) == {
        (".yml", "inserted"): YAML_PROCESSES,
        (".py", "inserted"): PYTHON_PROCESSES,
    }
    assert DescriptorSchema.objects.count() == DESCRIPTOR_SCHEMAS
    assert Process.objects.count() == YAML_PROCESSES + PYTHON_PROCESSES
    assert Process.objects.filter(run__language="python").count() == PYTHON_PROCESSES

    # A ProcessBio subclass (resolwe_bio/process/runtime.py, read statically as its base class).
    vep = Process.objects.get(slug="variant-annotation")
    source = (resolwe_bio / "processes" / "annotation" / "variant_annotation.py").read_text()
    assert vep.run == {"language": "python", "program": source}
    assert vep.type.endswith(":") and all(f["type"].endswith(":") for f in vep.output_schema)
