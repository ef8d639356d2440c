"""The permission matrix: every kind of object × every kind of caller × every operation.

The expected outcome of each case is not written out by hand: it is derived
from the contract (§4) by ``expected()`` from three declarative pieces,

* ``ACTORS``: the level each caller holds (none < view < edit < share < owner;
  public is capped at view and counts for everybody, logged in or not);
* ``RULES``: for each operation, the level it needs and what the caller gets
  when they have it, when they can see the object but lack the level (403),
  when they cannot see it at all (404, or "absent" from a list, or 400 where
  the object is named inside a request body, like an unknown id), and when
  they are anonymous (403 "Authentication credentials were not provided.");
* ``KINDS``: which operations each kind of object supports and its few
  deviations (Process and DescriptorSchema have no update or delete, presets
  no delete: 405; contained objects refuse permission changes with 400).

So a leak (an outcome better than the level allows) and a wrongful refusal
(worse than the level allows) both fail the same assertion. A refusal must
also leave the object as it was (name, existence, permissions, no new Data).

An allowed DELETE may answer 204 or 200 with a BackgroundTask (the contract
allows both): the request's on-commit work runs inline, and the object must
be gone afterwards either way. Refusals are exact statuses.

A disagreement with the contract that cannot be fixed here goes into
``KNOWN_BUGS`` (strict xfail, so the case fails again once it is fixed).

The objects are built once per module (no password hashing, no processes
started); each case runs in its own savepoint, so writes, deletes and
permission changes are rolled back before the next case.
"""

from __future__ import annotations

import shutil
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.db import transaction
from rest_framework.test import APIClient

from resolwe_prefect.annotations.models import AnnotationField, AnnotationGroup, AnnotationPreset, AnnotationValue
from resolwe_prefect.data.models import Data, DataStatus, Storage
from resolwe_prefect.descriptors.models import DescriptorSchema
from resolwe_prefect.entities.models import Collection, Entity
from resolwe_prefect.permissions import services as permissions
from resolwe_prefect.permissions.models import Permission
from resolwe_prefect.processes.models import Process

pytestmark = pytest.mark.django_db

NONE, VIEW, EDIT, SHARE, OWNER = (Permission.NONE, Permission.VIEW, Permission.EDIT, Permission.SHARE, Permission.OWNER)
DOWNLOAD_NAME = "out.txt"
DOWNLOAD_BYTES = b"matrix\n"


# --- the declarative tables ----------------------------------------------------------


@dataclass(frozen=True)
class Actor:
    """A caller: the user it logs in as (``None`` = anonymous), its level, and which object it targets.

    ``public`` actors target the object on which only the owner and public
    hold rows, so their level comes from public alone.
    """

    user: str | None
    level: Permission
    public: bool = False

    @property
    def anonymous(self) -> bool:
        return self.user is None


ACTORS: dict[str, Actor] = {
    "owner": Actor("alice", OWNER),  # the contributor, owner through creation
    "user_view": Actor("viewer", VIEW),
    "user_edit": Actor("editor", EDIT),
    "user_share": Actor("sharer", SHARE),
    "user_owner": Actor("coowner", OWNER),  # shared at the owner level
    "group_view": Actor("gviewer", VIEW),  # member of a group holding the level
    "group_edit": Actor("geditor", EDIT),
    "group_share": Actor("gsharer", SHARE),  # groups can never hold owner
    "stranger": Actor("stranger", NONE),
    "anonymous": Actor(None, NONE),
    "stranger_public": Actor("stranger", VIEW, public=True),  # public view counts for logged-in users too
    "anonymous_public": Actor(None, VIEW, public=True),
}

#: Outcomes. Integers are HTTP statuses; the strings are checked by the case runner.
LISTED, ABSENT, DELETED, NOT_ALLOWED = "listed", "absent", "deleted", 405


@dataclass(frozen=True)
class Rule:
    """What an operation needs, and what each kind of caller gets."""

    level: Permission
    allowed: Any
    below: Any = 403  # visible, but the level is too low
    invisible: Any = 404
    anonymous: Any = None  # None: like a logged-in caller with the same level (reads)


RULES: dict[str, Rule] = {
    "list": Rule(VIEW, LISTED, invisible=ABSENT),
    "detail": Rule(VIEW, 200),
    "update": Rule(EDIT, 200, anonymous=403),
    "delete": Rule(EDIT, DELETED, anonymous=403),
    "perms_get": Rule(VIEW, 200),
    "perms_post": Rule(SHARE, 200, anonymous=403),
    "grant_owner": Rule(OWNER, 200, anonymous=403),  # "Only owners can grant/revoke owner permission"
    # Naming an object in a POST /api/data body: an invisible one does not exist (400, like an unknown id).
    "run_input": Rule(VIEW, 201, invisible=400, anonymous=403),
    "run_target": Rule(EDIT, 201, invisible=400, anonymous=403),
    "download": Rule(VIEW, 200, below=403, invisible=403),  # /data/<id>/<file>: 403 for any refusal
    "browse": Rule(VIEW, 200, below=403, invisible=403),
}


@dataclass(frozen=True)
class Kind:
    """One kind of object: its endpoint, its operations and its deviations from ``RULES``."""

    endpoint: str
    ops: tuple[str, ...]
    contained: bool = False  # shares its collection's permission group
    overrides: dict[str, Any] = field(default_factory=dict)  # op -> outcome for every authenticated caller
    model_key: str | None = None  # the world object, when it differs from the kind's name


READ_WRITE = ("list", "detail", "update", "delete", "perms_get", "perms_post", "grant_owner")
READ_ONLY_VERSIONED = ("list", "detail", "update", "delete", "perms_get", "perms_post", "grant_owner", "run_input")

KINDS: dict[str, Kind] = {
    "collection": Kind("collection", (*READ_WRITE, "run_target")),
    "entity": Kind("entity", (*READ_WRITE, "run_target"), contained=True),
    # The alias serves the same viewset: reads and writes prove it filters the same way.
    "sample": Kind("sample", ("list", "detail", "update", "delete", "perms_get"), contained=True, model_key="entity"),
    "data": Kind("data", (*READ_WRITE, "run_input", "download", "browse"), contained=True),
    "data_top": Kind("data", (*READ_WRITE, "run_input", "download", "browse")),  # Data with its own group
    "process": Kind("process", READ_ONLY_VERSIONED, overrides={"update": NOT_ALLOWED, "delete": NOT_ALLOWED}),
    "descriptorschema": Kind(
        "descriptorschema", READ_ONLY_VERSIONED, overrides={"update": NOT_ALLOWED, "delete": NOT_ALLOWED}
    ),
    "storage": Kind("storage", ("detail",)),  # visible through its Data; Resolwe has no list
    "annotation_value": Kind("annotation_value", ("list", "detail", "update", "delete")),  # from its entity
    "annotation_preset": Kind("annotation_preset", READ_WRITE, overrides={"delete": NOT_ALLOWED}),  # no DELETE
}

#: Cases where the implementation disagrees with the contract; each is a reported bug in code this
#: test's author does not own. ``strict`` makes the test fail once the bug is fixed.
KNOWN_BUGS: dict[tuple[str, str, str], str] = {}


def expected(kind_name: str, actor_name: str, op: str) -> Any:
    """The contract's outcome for one case."""
    kind, actor, rule = KINDS[kind_name], ACTORS[actor_name], RULES[op]
    if actor.anonymous and rule.anonymous is not None:
        return rule.anonymous
    if op in kind.overrides:
        return kind.overrides[op]
    if actor.level < VIEW:
        return rule.invisible
    if kind.contained and op in ("perms_post", "grant_owner") and actor.level >= SHARE:
        return 400  # "Permissions can only be set on top-level objects" (the container's are shown)
    if actor.level < rule.level:
        return rule.below
    return rule.allowed


def _cases() -> list:
    cases = []
    for kind_name, kind in KINDS.items():
        for actor_name in ACTORS:
            for op in kind.ops:
                reason = KNOWN_BUGS.get((kind_name, actor_name, op))
                marks = [pytest.mark.xfail(strict=True, reason=reason)] if reason else []
                cases.append(pytest.param(kind_name, actor_name, op, marks=marks, id=f"{kind_name}-{actor_name}-{op}"))
    return cases


# --- the world ------------------------------------------------------------------------


@dataclass
class World:
    users: dict[str, Any]
    bystander: Any
    objects: dict[tuple[str, bool], Any]  # (model key, public) -> object
    run_process: Process
    consume_process: Process


def _user(username: str):
    """Users without a password: hashing one costs a third of a second and nobody logs in with it."""
    return get_user_model().objects.create(username=username, email=f"{username}@example.com")


def _grant_levels(obj, users: dict, groups: dict) -> None:
    for name, level in (("viewer", VIEW), ("editor", EDIT), ("sharer", SHARE), ("coowner", OWNER)):
        permissions.set_permission(obj, users[name], level)
    for name, level in (("g_view", VIEW), ("g_edit", EDIT), ("g_share", SHARE)):
        permissions.set_permission(obj, groups[name], level)


def _build_world() -> World:
    names = ["alice", "viewer", "editor", "sharer", "coowner", "gviewer", "geditor", "gsharer", "stranger"]
    users = {name: _user(name) for name in names}
    bystander = _user("bystander")
    groups = {name: Group.objects.create(name=f"matrix-{name}") for name in ("g_view", "g_edit", "g_share")}
    users["gviewer"].groups.add(groups["g_view"])
    users["geditor"].groups.add(groups["g_edit"])
    users["gsharer"].groups.add(groups["g_share"])
    alice = users["alice"]

    def top_level(obj, public: bool):
        permissions.on_created(obj)  # alice owns it
        if public:
            permissions.set_permission(obj, permissions.PUBLIC, VIEW)
        else:
            _grant_levels(obj, users, groups)
        return obj

    def published(process: Process) -> Process:
        permissions.on_created(process)
        permissions.set_permission(process, permissions.PUBLIC, VIEW)
        return process

    run_process = published(Process.objects.create(
        slug="matrix-run", name="Run", version="1.0.0", type="data:matrix:", contributor=alice,
        run={"language": "bash", "program": "true"},
    ))  # fmt: skip
    consume_process = published(Process.objects.create(
        slug="matrix-consume", name="Consume", version="1.0.0", type="data:matrix:consume:", contributor=alice,
        input_schema=[{"name": "src", "label": "Source", "type": "data:"}], run={"language": "bash", "program": "true"},
    ))  # fmt: skip
    annotation_group = AnnotationGroup.objects.create(name="matrix", label="Matrix", sort_order=1)
    annotation_field = AnnotationField.objects.create(
        name="note", label="Note", type="STRING", group=annotation_group, sort_order=1
    )

    objects: dict[tuple[str, bool], Any] = {}
    for public in (False, True):
        suffix = "public" if public else "private"
        collection = top_level(Collection.objects.create(name=f"Collection {suffix}", contributor=alice), public)
        entity = Entity.objects.create(name=f"Sample {suffix}", contributor=alice, collection=collection)
        permissions.on_created(entity)
        data = Data.objects.create(
            name=f"Data {suffix}", contributor=alice, process=run_process, collection=collection, entity=entity,
            status=DataStatus.DONE,
        )  # fmt: skip
        permissions.on_created(data)
        data_top = top_level(
            Data.objects.create(name=f"Loose {suffix}", contributor=alice, process=run_process, status=DataStatus.DONE),
            public,
        )
        storage = Storage.objects.create(name=f"Storage {suffix}", contributor=alice, json={"genes": ["A"]})
        storage.data.add(data)
        process = top_level(
            Process.objects.create(
                slug=f"matrix-{suffix}", name=f"Process {suffix}", version="1.0.0", type="data:matrix:",
                contributor=alice, run={"language": "bash", "program": "true"},
            ),
            public,
        )  # fmt: skip
        schema = top_level(
            DescriptorSchema.objects.create(
                slug=f"matrix-schema-{suffix}", name="Schema", version="1.0.0", contributor=alice
            ),
            public,
        )
        preset = top_level(AnnotationPreset.objects.create(name=f"Preset {suffix}", contributor=alice), public)
        preset.fields.add(annotation_field)
        value = AnnotationValue.objects.create(
            entity=entity, field=annotation_field, _value={"value": "v", "label": "v"}, contributor=alice
        )
        objects.update({
            ("collection", public): collection, ("entity", public): entity, ("data", public): data,
            ("data_top", public): data_top, ("storage", public): storage, ("process", public): process,
            ("descriptorschema", public): schema, ("annotation_value", public): value,
            ("annotation_preset", public): preset,
        })  # fmt: skip
    return World(users, bystander, objects, run_process, consume_process)


@pytest.fixture(scope="module")
def world(django_db_setup, django_db_blocker):
    """Built once per module inside a transaction that is rolled back at the end.

    Each case's ``django_db`` transaction nests inside it as a savepoint, so
    a case's writes, deletes, grants and their on-commit work vanish before
    the next case runs.
    """
    with django_db_blocker.unblock():
        atomic = transaction.atomic()
        atomic.__enter__()
        world = None
        try:
            world = _build_world()
            yield world
        finally:
            if world is not None:  # the download cases' files
                for (key, _), obj in world.objects.items():
                    if key in ("data", "data_top"):
                        shutil.rmtree(Path(settings.FLOW_EXECUTOR["DATA_DIR"]) / str(obj.pk), ignore_errors=True)
            transaction.set_rollback(True)
            atomic.__exit__(None, None, None)


# --- the case runner ------------------------------------------------------------------


def _client(world: World, actor: Actor) -> APIClient:
    client = APIClient()
    if not actor.anonymous:
        client.force_authenticate(world.users[actor.user])
    return client


def _target(world: World, kind_name: str, actor: Actor):
    kind = KINDS[kind_name]
    return world.objects[(kind.model_key or kind_name, actor.public)]


def _highest(entries: list[dict]) -> Permission:
    """The level a ``current_user_permissions`` or permissions list grants (public capped at view)."""
    level = NONE
    for entry in entries:
        names = entry["permissions"]
        value = Permission.from_name(names[-1]) if names else NONE
        level = max(level, min(value, VIEW) if entry["type"] == "public" else value)
    return level


def _write_download(obj: Data) -> Path:
    """The file ``download`` fetches; rewritten per case because deleting Data removes its directory."""
    directory = Path(settings.FLOW_EXECUTOR["DATA_DIR"]) / str(obj.pk)
    directory.mkdir(parents=True, exist_ok=True)
    (directory / DOWNLOAD_NAME).write_bytes(DOWNLOAD_BYTES)
    return directory


def _run_body(world: World, kind_name: str, obj) -> dict:
    """A POST /api/data body that names ``obj`` the way resdk does."""
    run = {"process": {"slug": world.run_process.slug}}
    if kind_name in ("data", "data_top"):
        return {"process": {"slug": world.consume_process.slug}, "input": {"src": obj.pk}}
    if kind_name == "process":
        return {"process": {"id": obj.pk}}
    if kind_name == "descriptorschema":
        return {**run, "descriptor_schema": {"slug": obj.slug}}
    return {**run, kind_name: {"id": obj.pk}}


@pytest.mark.parametrize(("kind_name", "actor_name", "op"), _cases())
def test_matrix(world, kind_name, actor_name, op, settings, django_capture_on_commit_callbacks):
    actor = ACTORS[actor_name]
    kind = KINDS[kind_name]
    obj = _target(world, kind_name, actor)
    model = type(obj)
    client = _client(world, actor)
    outcome = expected(kind_name, actor_name, op)
    detail_url = f"/api/{kind.endpoint}/{obj.pk}"

    if op == "list":
        response = client.get(f"/api/{kind.endpoint}")
        assert response.status_code == 200
        ids = [item["id"] for item in response.json()]
        assert (LISTED if obj.pk in ids else ABSENT) == outcome

    elif op == "detail":
        response = client.get(detail_url)
        assert response.status_code == outcome
        body = response.json()
        if outcome == 200 and "current_user_permissions" in body:
            # The object reports exactly the level the caller holds: no more, no less.
            assert _highest(body["current_user_permissions"]) == actor.level

    elif op == "update":
        name_before = getattr(obj, "name", None)
        if kind_name == "annotation_value":
            response = client.put(detail_url, {"value": "changed"}, format="json")
        else:
            response = client.patch(detail_url, {"name": "Renamed"}, format="json")
        assert response.status_code == outcome, response.content
        fresh = model.objects.get(pk=obj.pk)
        if outcome == 200:
            assert (fresh.value if kind_name == "annotation_value" else fresh.name) in ("changed", "Renamed")
        elif name_before is not None:
            assert fresh.name == name_before  # a refusal changes nothing

    elif op == "delete":
        settings.RESOLWE_PREFECT_TASKS_SYNC = True  # a background delete runs when the request commits
        with django_capture_on_commit_callbacks(execute=True):
            response = client.delete(detail_url)
        if outcome == DELETED:
            # 204, or 200 with a BackgroundTask (the contract allows both); either way the object is gone.
            assert response.status_code in (200, 204), response.content
            if response.status_code == 200:
                task = response.json()
                assert {"id", "status"} <= task.keys()
                assert task["status"] != "ER", task
            assert not model.objects.filter(pk=obj.pk).exists()
        else:
            assert response.status_code == outcome, response.content
            assert model.objects.filter(pk=obj.pk).exists()

    elif op == "perms_get":
        response = client.get(f"{detail_url}/permissions")
        assert response.status_code == outcome
        if outcome == 200:
            entries = response.json()
            owners = [e for e in entries if e["type"] == "user" and e["username"] == "alice"]
            # The whole list for share and up; otherwise only the caller's own, group and public entries.
            assert bool(owners) == (actor.level >= SHARE)
            if actor.level < SHARE:
                assert _highest(entries) == actor.level

    elif op in ("perms_post", "grant_owner"):
        level = "owner" if op == "grant_owner" else "view"
        before = permissions.get_permissions(obj)
        response = client.post(f"{detail_url}/permissions", {"users": {"bystander": level}}, format="json")
        assert response.status_code == outcome, response.content
        after = permissions.get_permissions(model.objects.get(pk=obj.pk))
        if outcome == 200:
            granted = [e for e in after if e["type"] == "user" and e["username"] == "bystander"]
            assert granted and granted[0]["permissions"][-1] == level
            assert response.json() == after
        else:
            assert after == before

    elif op in ("run_input", "run_target"):
        count = Data.objects.count()
        response = client.post("/api/data", _run_body(world, kind_name, obj), format="json")
        assert response.status_code == outcome, response.content
        assert Data.objects.count() == count + (1 if outcome == 201 else 0)

    elif op in ("download", "browse"):
        _write_download(obj)
        url = f"/data/{obj.pk}/{DOWNLOAD_NAME}" if op == "download" else f"/data/{obj.pk}"
        response = client.get(url)
        assert response.status_code == outcome
        if outcome == 200 and op == "download":
            assert b"".join(response.streaming_content) == DOWNLOAD_BYTES
        elif outcome == 200:
            assert [entry["name"] for entry in response.json()] == [DOWNLOAD_NAME]
        else:
            assert DOWNLOAD_BYTES not in response.content

    else:  # pragma: no cover - a typo in the tables
        raise AssertionError(f"unknown operation {op}")


def test_matrix_covers_every_actor_and_operation():
    """The tables stay complete: every actor and every rule is exercised by at least one case."""
    params = [case.values for case in _cases()]
    assert {actor for _, actor, _ in params} == set(ACTORS)
    assert {op for _, _, op in params} == set(RULES)
    assert {kind for kind, _, _ in params} == set(KINDS)
