"""Python processes of tests/e2e/test_python_processes.py, in Resolwe's ``resolwe.process`` syntax.

Registered by those tests only (never imported here: registration reads the
file statically, the program runs it in its own sandbox or container).
"""

import json
import os

from resolwe.process import DataField, FileField, IntegerField, Process, StringField
from resolwe.process.models import Collection, Data, Entity

#: The local base image (python3): without requirements a Python process gets Resolwe's public image.
REQUIREMENTS = {"executor": {"docker": {"image": "resolwe-prefect/base:bookworm-py"}}}


class Hello(Process):
    """The smallest Python process: an input, an output, a line of output."""

    slug = "e2e-python-hello"
    name = "Python hello"
    version = "1.0.0"
    process_type = "data:e2e:python:hello"
    requirements = REQUIREMENTS

    class Input:
        name = StringField(label="Name", default="world")

    class Output:
        greeting = StringField(label="Greeting")

    def run(self, inputs, outputs):
        print(f"Hello from Data {self.data.id}")
        outputs.greeting = f"Hello, {inputs.name}!"


class Source(Process):
    """A Data object with a string and a file, for the reader."""

    slug = "e2e-python-source"
    name = "Python source"
    version = "1.0.0"
    process_type = "data:e2e:python:source"
    requirements = REQUIREMENTS

    class Input:
        text = StringField(label="Text")

    class Output:
        text = StringField(label="Text")
        file = FileField(label="File")

    def run(self, inputs, outputs):
        with open("source.txt", "w") as handle:
            handle.write(inputs.text)
        outputs.text = inputs.text
        outputs.file = "source.txt"


class FileChild(Process):
    """Reads the file it was given: the child of the spawner."""

    slug = "e2e-python-file-child"
    name = "Python file child"
    version = "1.0.0"
    process_type = "data:e2e:python:filechild"
    requirements = REQUIREMENTS

    class Input:
        src = FileField(label="File")

    class Output:
        content = StringField(label="Content")

    def run(self, inputs, outputs):
        outputs.content = open(inputs.src.import_file()).read()


class Spawner(Process):
    """``run_process`` with a file of its own, then finds the child and renames it, as resolwe-bio's merge does."""

    slug = "e2e-python-spawner"
    name = "Python spawner"
    version = "1.0.0"
    process_type = "data:e2e:python:spawner"
    requirements = REQUIREMENTS

    class Input:
        text = StringField(label="Text")

    class Output:
        child = IntegerField(label="Child")

    def run(self, inputs, outputs):
        with open("note.txt", "w") as handle:
            handle.write(inputs.text)
        self.run_process("e2e-python-file-child", {"src": "note.txt"})
        children = Data.filter(process__slug="e2e-python-file-child")
        children.sort(key=lambda data: data.id)
        child = children[-1]
        child.name = f"Spawned by {self.data.id}"
        outputs.child = child.id


class Reader(Process):
    """Reads its Data input's outputs (the file from its input mount) and creates an Entity."""

    slug = "e2e-python-reader"
    name = "Python reader"
    version = "1.0.0"
    process_type = "data:e2e:python:reader"
    requirements = REQUIREMENTS

    class Input:
        source = DataField("e2e:python:source", label="Source")
        sample = StringField(label="Name of the new sample")

    class Output:
        source_name = StringField(label="Name of the source")
        source_text = StringField(label="Text of the source")
        file_path = StringField(label="Where the source's file is")
        file_content = StringField(label="What the source's file holds")
        entity_id = IntegerField(label="The new sample")

    def run(self, inputs, outputs):
        source = inputs.source
        outputs.source_name = source.name
        outputs.source_text = source.output.text
        outputs.file_path = str(source.output.file.path)
        with open(source.output.file.path) as handle:
            outputs.file_content = handle.read()
        outputs.entity_id = Entity.create(name=inputs.sample).id


class Attack(Process):
    """What a hostile process tries through the object API, and in its own environment."""

    slug = "e2e-python-attack"
    name = "Python attack"
    version = "1.0.0"
    process_type = "data:e2e:python:attack"
    requirements = REQUIREMENTS

    class Input:
        action = StringField(label="Action")
        target = IntegerField(label="Id of the object attacked", required=False)

    class Output:
        report = StringField(label="What it saw", required=False)

    def run(self, inputs, outputs):
        if inputs.action == "read-data":
            outputs.report = Data.get(id=inputs.target).name
        elif inputs.action == "read-entity":
            outputs.report = Entity.get(id=inputs.target).name
        elif inputs.action == "edit-entity":
            entity = Entity.get(id=inputs.target)
            entity.name = "pwned"
            outputs.report = "renamed"
        elif inputs.action == "create-in-collection":
            outputs.report = str(Entity.create(name="planted", collection=Collection(inputs.target)).id)
        elif inputs.action == "list-data":
            outputs.report = json.dumps(sorted(data.id for data in Data.filter()))
        elif inputs.action == "environment":
            seen = dict(os.environ)
            for path in ("/proc/1/environ", "/proc/self/environ"):
                try:
                    with open(path, "rb") as handle:
                        seen[path] = handle.read().decode(errors="replace")
                except OSError as error:
                    seen[path] = str(error)
            outputs.report = json.dumps(seen, sort_keys=True)
        else:
            self.error(f"Unknown action {inputs.action}")
