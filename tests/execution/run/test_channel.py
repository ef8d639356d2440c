"""The channel a Python process's program asks for objects (docs/python-processes.md, part 3), on the real database.

The commands are exercised as handlers (as the contributor of a running
Data object, with a second user's objects to be refused with Resolwe's
messages), the server through its Unix socket and its TCP form with a token,
and the whole path once through the local sandbox: the program, as its own
uid, reaches the socket and reads its Data object.
"""

from __future__ import annotations

import asyncio
import json
import os
import socket
import stat
import types
import uuid
from pathlib import Path

import pytest

from resolwe_prefect.annotations.services import define_fields, entity_annotations
from resolwe_prefect.data.models import Data, DataDependency, Storage
from resolwe_prefect.entities.models import Collection, Entity
from resolwe_prefect.execution.backends import get_backend
from resolwe_prefect.execution.run import channel as channel_module
from resolwe_prefect.execution.run import program
from resolwe_prefect.execution.run.channel import Channel
from resolwe_prefect.execution.run.object_api import HANDLERS, NOT_READABLE, ChannelError, Requester
from resolwe_prefect.execution.run.plan import prepare_run
from resolwe_prefect.execution.run.steps import open_channel
from resolwe_prefect.permissions import services as permissions
from resolwe_prefect.permissions.models import Permission
from resolwe_prefect.relations.models import Relation, RelationPartition, RelationType
from tests.data.conftest import make_process

DOCKER_IMAGE = "resolwe-prefect/base:bookworm-py"
SOURCE = [{"name": "src", "label": "Source", "type": "data:channel:src:", "required": False}]
PROGRAM_INPUTS = [
    {"name": "src", "label": "Source", "type": "data:channel:src:", "required": False},
    {"name": "greeting", "label": "Greeting", "type": "basic:string:", "default": "hi"},
    {"name": "reads", "label": "Reads", "type": "basic:file:", "required": False},
]
OUTPUTS = [
    {"name": "out", "label": "Out", "type": "basic:file:", "required": False},
    {"name": "text", "label": "Text", "type": "basic:string:", "required": False},
]


@pytest.fixture(autouse=True)
def directories(settings, tmp_path):
    settings.FLOW_EXECUTOR = {
        **settings.FLOW_EXECUTOR,
        "DATA_DIR": tmp_path / "data",
        "BACKEND": "local",
        "SANDBOX": "bwrap",
        "RUN_AS": "",
    }
    settings.STATE_DIR = tmp_path / "state"


def _owned(obj, user):
    permissions.on_created(obj)
    return obj


@pytest.fixture
def world(contributor, django_user_model):
    """The contributor's running Data object (with an input) and a second user's objects."""
    victim = django_user_model.objects.create_user("victim", "victim@example.com", "pw")
    source_process = make_process(contributor, "channel-src", outputs=OUTPUTS, type="data:channel:src:")
    permissions.on_created(source_process)
    running_process = make_process(contributor, "channel-run", inputs=PROGRAM_INPUTS, outputs=OUTPUTS)
    running_process.run = {"language": "python", "program": "x"}
    running_process.save()
    permissions.on_created(running_process)
    collection = _owned(Collection.objects.create(name="Mine", contributor=contributor), contributor)
    source = Data.objects.create(
        name="source",
        contributor=contributor,
        process=source_process,
        status="OK",
        output={"out": {"file": "reads.fq", "size": 3, "refs": ["reads.fq.gz"]}, "text": "t"},
    )
    _owned(source, contributor)
    running = Data.objects.create(
        name="running",
        named_by_user=True,
        contributor=contributor,
        process=running_process,
        status="WT",
        flow_run_id=uuid.uuid4(),
        input={"src": source.pk, "greeting": "hi"},
        collection=collection,
        tags=["t1"],
    )
    _owned(running, contributor)
    DataDependency.objects.create(parent=source, child=running, kind=DataDependency.KIND_IO)
    theirs = _owned(Data.objects.create(name="theirs", contributor=victim, process=source_process), victim)
    their_entity = _owned(Entity.objects.create(name="Their sample", contributor=victim), victim)
    shared_entity = _owned(Entity.objects.create(name="Shared sample", contributor=victim), victim)
    permissions.set_permission(shared_entity, contributor, Permission.VIEW)
    their_collection = _owned(Collection.objects.create(name="Theirs", contributor=victim), victim)
    shared_collection = _owned(Collection.objects.create(name="Shared", contributor=victim), victim)
    permissions.set_permission(shared_collection, contributor, Permission.VIEW)
    plan = prepare_run(running.pk, str(running.flow_run_id))
    assert plan is not None
    backend = get_backend("local")
    requester = Requester.of(running.pk, Channel(plan, backend)._file_path)
    return types.SimpleNamespace(**locals())


def ask(world, command: str, **args):
    return HANDLERS[command](world.requester, args)


def refused(world, command: str, **args) -> str:
    with pytest.raises(ChannelError) as error:
        ask(world, command, **args)
    return str(error.value)


# --- reading -----------------------------------------------------------------------------------


pytestmark = pytest.mark.django_db


def test_filter_sees_own_objects_and_inputs_never_a_second_users(world):
    rows = ask(world, "filter", model="Data", filters={}, fields=["name", "status"])
    assert [row["name"] for row in rows] == ["source", "running"]
    assert ask(world, "filter", model="Data", filters={"name": "theirs"}) == []
    assert ask(world, "filter", model="Data", filters={"name__startswith": "r"}) == [{"id": world.running.pk}]
    limited = ask(world, "filter", model="Data", filters={}, order_by=["-name"], limit=1, fields=["name"])
    assert limited == [{"id": world.source.pk, "name": "source"}]
    entities = ask(world, "filter", model="Entity", filters={}, fields=["name"])
    assert [e["name"] for e in entities] == ["Shared sample"]  # view permission only, still readable


def test_inputs_are_readable_even_without_permission_on_them(world):
    permissions.set_permission(world.source, world.contributor, Permission.NONE)
    assert permissions.filter_for_user(Data.objects.filter(pk=world.source.pk), world.contributor).count() == 0
    assert ask(world, "get", model="Data", filters={"id": world.source.pk}) == {"id": world.source.pk}
    process = ask(world, "fields", model="Process", id=world.source_process.pk, names=["slug"])
    assert process == {"slug": "channel-src"}


def test_output_paths_are_the_programs(world):
    output = ask(world, "fields", model="Data", id=world.source.pk, names=["output", "process", "entity_id"])
    src = world.source.pk
    assert output["output"]["out"] == {
        "file": f"/inputs/{src}/reads.fq",
        "size": 3,
        "refs": [f"/inputs/{src}/reads.fq.gz"],
    }
    assert output["output"]["text"] == "t"
    assert output["process"] == world.source_process.pk and output["entity_id"] is None


def test_get_is_one_readable_object_or_resolwes_message(world):
    assert ask(world, "get", model="Data", filters={"name": "running"}, fields=["tags"]) == {
        "id": world.running.pk,
        "tags": ["t1"],
    }
    assert refused(world, "get", model="Data", filters={"name": "theirs"}) == NOT_READABLE
    assert refused(world, "get", model="Data", filters={"name": "nothing"}) == NOT_READABLE
    assert refused(world, "get", model="Data", filters={}).startswith(
        "Exactly one object should match the given criteria, received"
    )
    assert refused(world, "get", model="Entity", filters={"id": world.their_entity.pk}) == NOT_READABLE


def test_only_allow_listed_fields_are_read_filtered_or_ordered(world):
    message = refused(world, "filter", model="Data", filters={"permission_group": 1})
    assert message == "Field 'permission_group' of Data is not readable (in 'permission_group')."
    assert "flow_run_id" in refused(world, "fields", model="Data", id=world.running.pk, names=["flow_run_id"])
    assert "not readable" in refused(world, "filter", model="Data", filters={"entity__permission_group": 1})
    assert "Only the id" in refused(world, "filter", model="Data", filters={"contributor__password": "x"})
    assert "Only the id" in refused(world, "filter", model="Data", filters={"entity__collection__name": "x"})
    assert "not readable" in refused(world, "filter", model="Data", filters={}, order_by=["-attempt"])
    assert "cannot be filtered" in refused(world, "filter", model="Data", filters={"parents": 1})
    assert refused(world, "filter", model="Secret", filters={}).startswith("Unknown model 'Secret'")
    # One step along a relation, into the related model's readable fields; JSON keys of readable fields.
    found = ask(world, "filter", model="Data", filters={"process__slug": "channel-src", "output__text": "t"})
    assert found == [{"id": world.source.pk}]
    assert ask(world, "filter", model="Data", filters={"collection__name": "Mine"}) == [{"id": world.running.pk}]


def test_fields_of_related_objects_are_lists_of_readable_ids(world):
    storage = Storage.objects.create(name="s", contributor=world.contributor, json={"a": 1})
    storage.data.add(world.source)
    hidden = Storage.objects.create(name="h", contributor=world.victim, json={"secret": 1})
    hidden.data.add(world.theirs)
    values = ask(world, "fields", model="Data", id=world.running.pk, names=["parents", "children", "collection"])
    assert values == {"parents": [world.source.pk], "children": [], "collection": world.collection.pk}
    assert ask(world, "fields", model="Data", id=world.source.pk, names=["storages"]) == {"storages": [storage.pk]}
    assert ask(world, "storage", id=storage.pk) == {"a": 1}
    assert refused(world, "storage", id=hidden.pk) == NOT_READABLE
    assert ask(world, "fields", model="Collection", id=world.collection.pk, names=["data"]) == {
        "data": [world.running.pk]
    }


def test_relations_show_type_and_partitions(world):
    relation = Relation.objects.create(
        collection=world.collection,
        contributor=world.contributor,
        type=RelationType.objects.get_or_create(name="series", defaults={"ordered": True})[0],
        category="time",
    )
    entity = _owned(Entity.objects.create(name="E", contributor=world.contributor, collection=world.collection), None)
    RelationPartition.objects.create(relation=relation, entity=entity, position=1, label="t1")
    rows = ask(world, "filter", model="Relation", filters={"collection": world.collection.pk},
               fields=["type", "ordered", "category", "partitions"])  # fmt: skip
    partition = {"id": relation.partitions.get().pk, "entity": entity.pk, "entity_id": entity.pk}
    assert rows == [
        {
            "id": relation.pk,
            "type": "series",
            "ordered": True,
            "category": "time",
            "partitions": [{**partition, "position": 1, "label": "t1"}],
        }
    ]
    assert ask(world, "filter", model="Relation", filters={"collection": world.their_collection.pk}) == []


def test_users_other_than_the_contributor_are_not_readable(world):
    assert ask(world, "fields", model="User", id=world.contributor.pk, names=["username"]) == {
        "username": "contributor"
    }
    assert refused(world, "fields", model="User", id=world.victim.pk, names=["username"]) == NOT_READABLE


def test_process_latest_is_the_latest_active_version_the_contributor_may_view(world):
    newer = make_process(world.contributor, "channel-src", version="2.0.0", outputs=OUTPUTS)
    permissions.on_created(newer)
    hidden = make_process(world.victim, "channel-src", version="3.0.0")
    permissions.on_created(hidden)
    latest = ask(world, "process_latest", slug="channel-src")
    assert latest["id"] == newer.pk and latest["version"] == "2.0.0" and latest["output_schema"] == OUTPUTS
    assert refused(world, "process_latest", slug="nothing") == NOT_READABLE
    only_theirs = make_process(world.victim, "their-process")
    permissions.on_created(only_theirs)
    assert refused(world, "process_latest", slug="their-process") == NOT_READABLE


# --- writing -----------------------------------------------------------------------------------


def test_update_of_the_running_data_object(world):
    assert ask(world, "update", model="Data", id=world.running.pk, fields={"name": "renamed"}) == {}
    ask(world, "update", model="Data", id=world.running.pk, fields={"descriptor": {"general.species": "Mus"}})
    ask(world, "update", model="Data", id=world.running.pk, fields={"descriptor": {"general.strain": "B6"}})
    running = Data.objects.get(pk=world.running.pk)
    assert running.name == "renamed" and running.descriptor == {"general": {"species": "Mus", "strain": "B6"}}
    assert running.status == "PP", "the update touched nothing else"
    assert refused(world, "update", model="Data", id=world.running.pk, fields={"status": "OK", "output": {}}) == (
        "Not allowed to set output, status."
    )
    assert refused(world, "update", model="Collection", id=world.collection.pk, fields={"name": "x"}) == (
        "Collection objects cannot be updated by a process."
    )


def test_update_of_a_second_users_objects_is_refused_with_resolwes_messages(world):
    entity = world.shared_entity
    assert refused(world, "update", model="Entity", id=entity.pk, fields={"name": "pwned"}) == (
        f"No edit permission for entity with id {entity.pk}."
    )
    assert refused(world, "update", model="Entity", id=world.their_entity.pk, fields={"name": "x"}) == NOT_READABLE
    assert refused(world, "update", model="Data", id=world.theirs.pk, fields={"name": "x"}) == NOT_READABLE
    permissions.set_permission(world.theirs, world.contributor, Permission.VIEW)
    assert refused(world, "update", model="Data", id=world.theirs.pk, fields={"name": "x"}) == (
        f"No edit permission for data with id {world.theirs.pk}."
    )
    assert Entity.objects.get(pk=entity.pk).name == "Shared sample"
    permissions.set_permission(entity, world.contributor, Permission.EDIT)
    ask(world, "update", model="Entity", id=entity.pk, fields={"name": "edited", "tags": ["a"]})
    assert Entity.objects.get(pk=entity.pk).name == "edited"


def test_create_collection_and_entity_owned_by_the_contributor(world):
    created = ask(world, "create", model="Collection", fields={"name": "Made", "tags": ["x"]})
    collection = Collection.objects.get(pk=created["id"])
    assert collection.contributor == world.contributor and collection.tags == ["x"]
    assert permissions.user_level(world.contributor, collection) == Permission.OWNER
    assert permissions.user_level(world.victim, collection) == Permission.NONE
    entity = Entity.objects.get(
        pk=ask(world, "create", model="Entity", fields={"name": "S", "collection": collection.pk})["id"]
    )
    assert entity.collection == collection and entity.permission_group_id == collection.permission_group_id
    shared = world.shared_collection.pk
    assert refused(world, "create", model="Entity", fields={"name": "S", "collection": shared}) == (
        f"No edit permission for collection with id {shared}."
    )
    hidden = world.their_collection.pk
    assert refused(world, "create", model="Entity", fields={"collection": hidden}) == NOT_READABLE
    assert refused(world, "create", model="Entity", fields={"slug": "x"}) == "Not allowed to set slug."
    assert refused(world, "create", model="Storage", fields={}) == "Storage objects cannot be created by a process."


def test_create_data_is_a_child_of_the_running_object(world, django_capture_on_commit_callbacks):
    created = ask(world, "create", model="Data", fields={"process": "channel-run", "input": {"src": world.source.pk}})
    child = Data.objects.get(pk=created["id"])
    assert child.contributor == world.contributor and child.collection == world.collection
    assert child.tags == ["t1"] and child.input == {"src": world.source.pk, "greeting": "hi"}
    assert DataDependency.objects.filter(parent=world.running, child=child, kind="subprocess").exists()
    assert DataDependency.objects.filter(parent=world.source, child=child, kind="io").exists()
    assert child.status == "RE"


def test_create_data_checks_what_the_api_checks(world):
    hidden_process = make_process(world.victim, "their-only")
    permissions.on_created(hidden_process)
    assert refused(world, "create", model="Data", fields={"process": "their-only"}) == (
        "process: Process with slug 'their-only' does not exist."
    )
    message = refused(
        world, "create", model="Data", fields={"process": "channel-run", "input": {"src": world.theirs.pk}}
    )
    assert message == f"Input Data object {world.theirs.pk}: {NOT_READABLE}"
    assert "greeting" in refused(
        world, "create", model="Data", fields={"process": "channel-run", "input": {"greeting": 5}}
    )
    assert refused(world, "create", model="Data", fields={"process": "channel-run", "output": {}}) == (
        "Not allowed to set output."
    )
    shared = world.shared_collection.pk
    assert refused(world, "create", model="Data", fields={"process": "channel-run", "collection": shared}) == (
        f"No edit permission for collection with id {shared}."
    )
    assert Data.objects.filter(process__slug="channel-run").count() == 1  # nothing left behind


def test_run_creates_a_child_now_with_its_exported_files_as_uploads(world):
    from resolwe_prefect.data import layout
    from resolwe_prefect.uploads.storage import upload_path

    data_dir = layout.data_dir(world.running.pk)
    data_dir.mkdir(parents=True, exist_ok=True)
    (data_dir / "reads.fq").write_text("@r\n")
    created = ask(
        world, "run", process="channel-run", input={"src": world.source.pk, "reads": "reads.fq"}, export=["reads.fq"]
    )
    child = Data.objects.get(pk=created["id"])
    assert child.input["reads"]["file"] == "reads.fq"
    assert upload_path(child.input["reads"]["file_temp"]).read_text() == "@r\n"
    assert (data_dir / "reads.fq").is_file(), "the program still has its file"
    assert child.tags == ["t1"] and child.collection == world.collection and child.contributor == world.contributor
    assert DataDependency.objects.filter(parent=world.running, child=child, kind="subprocess").exists()
    assert child.status == "RE"


def test_run_refuses_what_the_contributor_may_not_read_and_unexported_files(world, tmp_path):
    data_dir = world.running.pk
    assert refused(world, "run", process="channel-run", input={"src": world.theirs.pk}) == (
        f"Input Data object {world.theirs.pk}: {NOT_READABLE}"
    )
    assert refused(world, "run", process="nope", input={}) == (
        "Error while preparing spawned Data objects: Process 'nope' does not exist."
    )
    outside = tmp_path / "secret.txt"
    outside.write_text("secret")
    message = refused(world, "run", process="channel-run", input={"reads": str(outside)}, export=[str(outside)])
    assert message == (
        f"Error while preparing spawned Data objects: File '{outside}' given to input 'reads' was not exported "
        "with re-export."
    )
    assert refused(world, "run", process="channel-run", export="x") == "export must be a list of file names."
    assert Data.objects.filter(process__slug="channel-run").exclude(pk=data_dir).count() == 0


def test_annotations_read_and_written_with_edit_permission(world):
    define_fields(
        [
            {"group": "general", "name": "species", "type": "STRING"},
            {"group": "general", "name": "age", "type": "INTEGER"},
        ]
    )
    mine = _owned(Entity.objects.create(name="Mine", contributor=world.contributor), None)
    assert ask(world, "annotate", entity=mine.pk, values={"general.species": "Homo sapiens", "general.age": 3}) == {}
    assert ask(world, "annotations", entity=mine.pk) == {"general.species": "Homo sapiens", "general.age": 3}
    assert ask(world, "annotations", entity=mine.pk, paths=["general.age"]) == {"general.age": 3}
    ask(world, "annotate", entity=mine.pk, values={"general.age": 4}, replace=True)
    assert entity_annotations(mine) == {"general.age": 4}
    assert refused(world, "annotate", entity=mine.pk, values={"general.age": "old"}) == (
        "The value 'old' is not of the expected type 'int'."
    )
    assert refused(world, "annotate", entity=mine.pk, values={"general.nothing": 1}) == (
        "Field 'general.nothing' does not exist."
    )
    shared = world.shared_entity.pk
    assert refused(world, "annotate", entity=shared, values={"general.age": 1}) == (
        f"No edit permission for entity with id {shared}."
    )
    assert ask(world, "annotations", entity=shared) == {}
    assert refused(world, "annotations", entity=world.their_entity.pk) == NOT_READABLE


# --- the program's environment and files -----------------------------------------------------------


@pytest.mark.parametrize("backend_name", ["local", "docker", "kubernetes"])
def test_python_program_environment_has_the_runtime_and_the_channel_and_no_credentials(world, backend_name):
    backend = get_backend(backend_name)
    env = program.program_environment(world.plan, backend)
    assert env["PYTHONPATH"] == "/opt/resolwe/python"
    if backend_name == "kubernetes":
        assert "RESOLWE_CHANNEL" not in env  # tcp://..., known once the channel listens
    else:
        assert env["RESOLWE_CHANNEL"] == "/runtime/channel.sock"
    assert not [name for name in env if any(word in name for word in ("PREFECT", "DATABASE", "DJANGO", "SECRET"))]
    assert not [name for name in env if "TOKEN" in name or "PASSWORD" in name]
    job = program.program_job(world.plan, "true", backend)
    assert job.language == "python" and job.channel_token is None


def test_python_program_writes_the_module_and_run_json(world, settings, tmp_path):
    from django.utils import timezone

    from resolwe_prefect.uploads.models import Upload
    from resolwe_prefect.uploads.storage import upload_path

    settings.FLOW_EXECUTOR = {**settings.FLOW_EXECUTOR, "UPLOAD_DIR": tmp_path / "upload"}
    (tmp_path / "upload").mkdir()
    handle = "ab12"
    Path(upload_path(handle)).write_text("ACGT")
    Upload.objects.create(handle=handle, owner=world.contributor, total_size=4, size=4, completed=timezone.now())
    plan = world.plan
    plan.input = {"src": world.source.pk, "reads": {"file": "reads.fq", "file_temp": handle}}
    plan.process = type(plan.process)(
        **{**plan.process.as_dict(), "run": {"language": "python", "program": "# module\n"}}
    )
    script = program.python_program(plan, get_backend("local"))
    runtime = Path(plan.runtime_dir)
    assert script == "exec python3 -m resolwe.process.run /runtime/run.json\n"
    assert (runtime / "process.py").read_text() == "# module\n"
    spec = json.loads((runtime / "run.json").read_text())
    assert spec["source"] == "/runtime/process.py" and spec["slug"] == "channel-run"
    assert spec["data"] == {
        "id": world.running.pk,
        "name": "running",
        "slug": world.running.slug,
        "entity_id": None,
        "collection_id": world.collection.pk,
        "contributor_id": world.contributor.pk,
    }
    # Defaults filled, a Data input stays its id, an upload is staged for the run and mapped, as for bash.
    assert spec["inputs"] == {
        "src": world.source.pk,
        "greeting": "hi",
        "reads": {"file": "reads.fq", "file_temp": "/runtime/uploads/ab12"},
    }
    assert (runtime / "uploads" / "ab12").read_text() == "ACGT"
    assert spec["requirements"]["resources"]["cores"] == plan.limits["cores"]
    assert "run" not in spec["process"] and spec["process"]["input_schema"] == PROGRAM_INPUTS


# --- the server ------------------------------------------------------------------------------------


def _exchange(path: str, *lines: bytes, token: str | None = None, address=None) -> list[dict]:
    """Send raw lines, read one reply per non-empty line (or until the server hangs up)."""
    if address is None:
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        sock.connect(path)
    else:
        sock = socket.create_connection(address)
    sock.settimeout(30)
    replies = []
    with sock, sock.makefile("rb") as stream:
        if token is not None:
            sock.sendall(json.dumps({"token": token}).encode() + b"\n")
        for line in lines:
            try:
                sock.sendall(line)
                reply = stream.readline()
            except (BrokenPipeError, ConnectionResetError):
                break  # the server hung up after its last reply
            if not reply:
                break
            replies.append(json.loads(reply))
    return replies


def _request(request_id, command, **args) -> bytes:
    return json.dumps({"id": request_id, "command": command, "args": args}).encode() + b"\n"


async def _serve(world, call, **kwargs):
    channel = Channel(world.plan, world.backend, **kwargs)
    try:
        return await call(channel)
    finally:
        await channel.close()


@pytest.mark.django_db(transaction=True)
def test_unix_socket_serves_requests_and_survives_malformed_ones(world):
    socket_path = Path(world.plan.runtime_dir) / "channel.sock"

    async def scenario(channel):
        address = await channel.start_unix()
        assert address == "/runtime/channel.sock"
        assert stat.S_IMODE(socket_path.stat().st_mode) == 0o600 and stat.S_ISSOCK(socket_path.stat().st_mode)
        return await asyncio.to_thread(
            _exchange,
            str(socket_path),
            b"not json\n",
            b"[1, 2]\n",
            _request(2, "nothing"),
            json.dumps({"id": 3, "command": "get", "args": [1]}).encode() + b"\n",
            _request(4, "get", model="Data", filters={"nope": 1}),
            b'{"id": 5, "command": "fields", "args": {"model": "Data", "id": "x"}}\n',
            "\u00e9\n".encode("latin-1"),
            _request(6, "get", model="Data", filters={"name": "running"}, fields=["name"]),
        )

    replies = asyncio.run(_serve(world, scenario))
    assert replies[0]["id"] is None and replies[0]["error"].startswith("Malformed request")
    assert replies[1] == {"id": None, "error": "Malformed request: not a JSON object."}
    assert replies[2]["id"] == 2 and replies[2]["error"].startswith("Unknown command 'nothing'")
    assert replies[3] == {"id": 3, "error": "Malformed request: args must be an object."}
    assert replies[4] == {"id": 4, "error": "Field 'nope' of Data is not readable (in 'nope')."}
    assert replies[5] == {"id": 5, "error": "The id must be an integer."}
    assert replies[6]["error"].startswith("Malformed request")
    assert replies[7] == {"id": 6, "result": {"id": world.running.pk, "name": "running"}}
    assert not socket_path.exists(), "the socket is removed when the channel closes"


@pytest.mark.django_db(transaction=True)
def test_request_size_and_count_are_limited(world, monkeypatch):
    monkeypatch.setattr(channel_module, "MAX_REQUEST_BYTES", 4096)
    socket_path = str(Path(world.plan.runtime_dir) / "channel.sock")
    ping = _request(1, "filter", model="Collection", filters={"name": "Mine"})

    async def scenario(channel):
        await channel.start_unix()
        large = await asyncio.to_thread(_exchange, socket_path, b'{"id": 1, "x": "' + b"a" * 10_000 + b'"}\n', ping)
        counted = await asyncio.to_thread(_exchange, socket_path, ping, ping, ping)
        return large, counted, channel.requests

    large, counted, requests = asyncio.run(_serve(world, scenario, max_requests=2))
    # Answered, skipped to its end: the next request on the same connection is read whole.
    assert large == [
        {"id": None, "error": "Request too large: at most 4096 bytes."},
        {"id": 1, "result": [{"id": world.collection.pk}]},
    ]
    assert counted[0] == {"id": 1, "result": [{"id": world.collection.pk}]}
    assert counted[1] == {"id": None, "error": "Too many requests: at most 2 in a run."}
    assert len(counted) == 2 and requests == 3


@pytest.mark.django_db(transaction=True)
def test_tcp_channel_needs_the_runs_token(world):
    ping = _request(7, "fields", model="Data", id=world.running.pk, names=["name"])

    async def scenario(channel):
        address = await channel.start_tcp("127.0.0.1", 0, "flow-run.example")
        host_port = ("127.0.0.1", int(address.rsplit(":", 1)[1]))
        wrong = await asyncio.to_thread(_exchange, "", ping, token="guess", address=host_port)
        missing = await asyncio.to_thread(_exchange, "", ping, address=host_port)
        right = await asyncio.to_thread(_exchange, "", ping, token=channel.token, address=host_port)
        return address, wrong, missing, right

    address, wrong, missing, right = asyncio.run(_serve(world, scenario))
    assert address.startswith("tcp://flow-run.example:")
    assert wrong == missing == [{"id": None, "error": "Invalid channel token."}]
    assert right == [{"id": 7, "result": {"name": "running"}}]


@pytest.mark.django_db(transaction=True)
def test_a_deep_runtime_directory_is_bound_through_proc(world, tmp_path):
    deep = tmp_path / ("d" * 60) / ("e" * 60)
    deep.mkdir(parents=True)

    async def scenario(channel):
        await channel.start_unix(deep / "channel.sock")
        return await asyncio.to_thread(
            _exchange, f"/proc/self/fd/{os.open(deep, os.O_RDONLY)}/channel.sock", _request(1, "get", model="User",
            filters={"id": world.contributor.pk}, fields=["username"])
        )  # fmt: skip

    assert asyncio.run(_serve(world, scenario)) == [
        {"id": 1, "result": {"id": world.contributor.pk, "username": "contributor"}}
    ]


def _docker_image() -> None:
    try:
        import docker

        docker.from_env().images.get(DOCKER_IMAGE)
    except Exception as error:  # noqa: BLE001
        pytest.skip(f"no Docker engine with {DOCKER_IMAGE}: {error}")


@pytest.mark.django_db(transaction=True)
@pytest.mark.skipif(os.geteuid() != 0, reason="the run's own uid needs root")
@pytest.mark.parametrize("backend_name", ["local", "docker"])
def test_a_sandboxed_program_reaches_the_channel_as_its_own_uid(world, stub_python_runtime, backend_name, settings):
    """The whole path but Prefect: run.json and the module written, the runtime mounted, the socket served."""
    if backend_name == "docker":
        _docker_image()
        settings.FLOW_EXECUTOR = {**settings.FLOW_EXECUTOR, "DOCKER_DEFAULT_IMAGE": DOCKER_IMAGE, "DOCKER_USER": ""}
    plan, backend = world.plan, get_backend(backend_name)
    plan.process = type(plan.process)(
        **{**plan.process.as_dict(), "run": {"language": "python", "program": "# the module\n"}}
    )
    script = program.python_program(plan, backend)
    job = program.program_job(plan, script, backend)
    lines: list[str] = []

    async def scenario():
        channel = Channel(plan, backend)
        try:
            await open_channel(channel, job, backend)
            return await backend.run(job, lines.append)
        finally:
            await channel.close()

    result = asyncio.run(scenario())
    assert result.return_code == 0, lines
    reply = json.loads(lines[0].removeprefix("reply "))
    assert reply == {"id": 1, "result": {"name": "running"}}
    uid = backend.identity(job).uid
    assert lines[1].strip() == f"uid {uid} source # the module"
    assert not (Path(plan.runtime_dir) / "channel.sock").exists()
