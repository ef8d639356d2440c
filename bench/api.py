"""Bench the REST API on a realistic project: list, detail and create as a non-superuser.

    python bench/api.py [--repeat 15] [--database-url URL] [--reseed]

Seeds (once; ``--reseed`` to start over) 10,000 Data objects in 50
collections and 500 entities, all of one process, into its own PostgreSQL
database (created and migrated here). A plain user sees everything through
a Django group holding VIEW on each collection's permission group, the way
lab members do, which is the slow path: a superuser skips every permission
check. The requests go through the whole Django stack (middleware, session
authentication, DRF) with the test ``Client`` after ``force_login``; no HTTP
server, so the figures are the server's own time.

Submission to Prefect is switched off (``lifecycle.register(None)``):
the POST measures what the API does, not a flow run. Each row prints the
median, min and max of ``--repeat`` timed requests (after one warm-up) and
the SQL queries of one more, next to Resolwe 45.2 on the same operations.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path
from urllib.parse import urlparse

HERE = Path(__file__).resolve().parent
DEFAULT_DATABASE_URL = "postgres://postgres@127.0.0.1:5432/resolwe_prefect_bench_api"

DATA_COUNT, COLLECTION_COUNT, ENTITY_COUNT = 10_000, 50, 500
SLUG_PREFIX = "bench-api"
READER = "bench-reader"

#: Resolwe 45.2 on the same three requests: (milliseconds, SQL queries).
RESOLWE = {
    "GET /api/data?limit=100": (995, 12),
    "GET /api/data/<id>": (191, 14),
    "POST /api/data": (59, 51),
}


def ensure_database(url: str) -> None:
    """Create the bench database when it does not exist (trust authentication, like the tests)."""
    import psycopg

    parsed = urlparse(url)
    name = parsed.path.lstrip("/")
    admin_url = parsed._replace(path="/postgres").geturl()
    with psycopg.connect(admin_url, autocommit=True) as connection:
        exists = connection.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone()
        if not exists:
            connection.execute(f'CREATE DATABASE "{name}"')


def setup_django(database_url: str) -> None:
    os.environ["DATABASE_URL"] = database_url
    os.environ.setdefault("RESOLWE_PREFECT_HOME", tempfile.mkdtemp(prefix="resolwe-prefect-bench-api-"))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "django_project.settings")
    sys.path.insert(0, str(HERE.parent))
    import django

    django.setup()
    from resolwe_prefect.data import lifecycle

    lifecycle.register(None)  # nothing reaches Prefect
    from django.test.utils import setup_test_environment

    setup_test_environment()  # lets the test Client's "testserver" host through ALLOWED_HOSTS


def seed(reseed: bool) -> None:
    """The project: one public process, 50 collections of 10 entities with 20 Data objects each."""
    from django.contrib.auth import get_user_model
    from django.contrib.auth.models import Group
    from django.db import transaction

    from resolwe_prefect.data.models import Data, DataStatus
    from resolwe_prefect.entities.models import Collection, Entity
    from resolwe_prefect.permissions import services as permissions
    from resolwe_prefect.permissions.models import Permission, PermissionGroup, PermissionModel
    from resolwe_prefect.processes.models import Process

    User = get_user_model()
    if reseed:
        with transaction.atomic():
            Data.objects.filter(slug__startswith=SLUG_PREFIX).delete()
            Entity.objects.filter(slug__startswith=SLUG_PREFIX).delete()
            Collection.objects.filter(slug__startswith=SLUG_PREFIX).delete()
    if Data.objects.filter(slug__startswith=f"{SLUG_PREFIX}-d").count() == DATA_COUNT:
        return
    started = time.perf_counter()
    with transaction.atomic():
        owner, _ = User.objects.get_or_create(username="bench-owner", defaults={"email": "owner@example.com"})
        reader, _ = User.objects.get_or_create(username=READER, defaults={"email": "reader@example.com"})
        lab, _ = Group.objects.get_or_create(name="bench-lab")
        reader.groups.add(lab)
        process = Process.objects.filter(slug="bench-trivial").first()
        if process is None:
            process = Process.objects.create(
                slug="bench-trivial", name="Bench trivial", version="1.0.0", type="data:bench:", contributor=owner,
                input_schema=[{"name": "n", "label": "N", "type": "basic:integer:", "default": 0}],
                output_schema=[{"name": "n", "label": "N", "type": "basic:integer:"}],
                run={"language": "bash", "program": "re-save n {{ n }}"},
            )  # fmt: skip
            permissions.on_created(process)
            permissions.set_permission(process, permissions.PUBLIC, Permission.VIEW)
        groups = PermissionGroup.objects.bulk_create([PermissionGroup() for _ in range(COLLECTION_COUNT)])
        PermissionModel.objects.bulk_create(
            [PermissionModel(permission_group=g, user=owner, value=Permission.OWNER) for g in groups]
            + [PermissionModel(permission_group=g, group=lab, value=Permission.VIEW) for g in groups]
        )
        collections = Collection.objects.bulk_create([
            Collection(name=f"Collection {i}", slug=f"{SLUG_PREFIX}-c{i}", contributor=owner, permission_group=g)
            for i, g in enumerate(groups)
        ])  # fmt: skip
        per_collection = ENTITY_COUNT // COLLECTION_COUNT
        entities = Entity.objects.bulk_create([
            Entity(name=f"Sample {i}", slug=f"{SLUG_PREFIX}-e{i}", contributor=owner, type="sample",
                   collection=collections[i // per_collection],
                   permission_group_id=collections[i // per_collection].permission_group_id)
            for i in range(ENTITY_COUNT)
        ])  # fmt: skip
        per_entity = DATA_COUNT // ENTITY_COUNT
        statuses = [DataStatus.DONE] * 8 + [DataStatus.ERROR, DataStatus.PROCESSING]
        Data.objects.bulk_create(
            [
                Data(
                    name=f"Data {i}",
                    slug=f"{SLUG_PREFIX}-d{i}",
                    contributor=owner,
                    process=process,
                    input={"n": i},
                    output={"n": i},
                    status=statuses[i % len(statuses)],
                    entity=entities[i // per_entity],
                    collection_id=entities[i // per_entity].collection_id,
                    permission_group_id=entities[i // per_entity].permission_group_id,
                )  # fmt: skip
                for i in range(DATA_COUNT)
            ],
            batch_size=2000,
        )
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")  # fresh tables have no statistics; a real database would have them
    print(f"seeded {DATA_COUNT} Data, {ENTITY_COUNT} entities, {COLLECTION_COUNT} collections "
          f"in {time.perf_counter() - started:.1f} s")  # fmt: skip


def inbox(reader):
    """The reader's own collection that POSTs go into (EDIT needed); emptied on every run."""
    from resolwe_prefect.data.models import Data
    from resolwe_prefect.entities.models import Collection
    from resolwe_prefect.permissions import services as permissions

    collection = Collection.objects.filter(slug=f"{SLUG_PREFIX}-inbox").first()
    if collection is None:
        collection = Collection.objects.create(name="Inbox", slug=f"{SLUG_PREFIX}-inbox", contributor=reader)
        permissions.on_created(collection)
    Data.objects.filter(collection=collection).delete()
    return collection


def measure(name: str, request, repeat: int) -> dict:
    """Median, min and max over ``repeat`` timed calls after a warm-up, and the queries of one more."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    request()  # warm-up: connection, URL resolver, caches
    timings = []
    for _ in range(repeat):
        started = time.perf_counter()
        request()
        timings.append((time.perf_counter() - started) * 1000)
    with CaptureQueriesContext(connection) as captured:
        request()
    return {"name": name, "median": statistics.median(timings), "min": min(timings), "max": max(timings),
            "queries": len(captured)}  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database-url", default=DEFAULT_DATABASE_URL)
    parser.add_argument("--repeat", type=int, default=15)
    parser.add_argument("--reseed", action="store_true", help="delete the seeded objects and seed again")
    args = parser.parse_args()

    ensure_database(args.database_url)
    setup_django(args.database_url)
    from django.contrib.auth import get_user_model
    from django.core.management import call_command
    from django.test import Client

    from resolwe_prefect.data.models import Data

    call_command("migrate", verbosity=0)
    seed(args.reseed)
    reader = get_user_model().objects.get(username=READER)
    target = inbox(reader)
    client = Client()
    client.force_login(reader)
    detail_id = Data.objects.filter(slug=f"{SLUG_PREFIX}-d{DATA_COUNT // 2}").values_list("pk", flat=True).get()

    def expect(response, status: int):
        if response.status_code != status:
            raise SystemExit(f"{response.request['REQUEST_METHOD']} {response.request['PATH_INFO']}: "
                             f"{response.status_code} {response.content[:500]!r}")  # fmt: skip
        return response

    def list_page():
        body = expect(client.get("/api/data", {"limit": 100}), 200).json()
        assert body["count"] == DATA_COUNT + Data.objects.filter(collection=target).count(), body["count"]
        assert len(body["results"]) == 100

    def detail():
        expect(client.get(f"/api/data/{detail_id}"), 200)

    counter = iter(range(10**9))

    def create():
        body = {"process": {"slug": "bench-trivial"}, "input": {"n": next(counter)}, "collection": {"id": target.pk}}
        expect(client.post("/api/data", body, content_type="application/json"), 201)

    rows = [
        measure("GET /api/data?limit=100", list_page, args.repeat),
        measure("GET /api/data/<id>", detail, args.repeat),
        measure("POST /api/data", create, args.repeat),
    ]
    inbox(reader)  # leave the database as seeded

    from django.db import connection

    print(f"database: {connection.vendor} {connection.settings_dict['NAME']}; machine: {os.cpu_count()} cores; "
          f"{DATA_COUNT} Data / {ENTITY_COUNT} entities / {COLLECTION_COUNT} collections; "
          f"caller: non-superuser with VIEW through a group; {args.repeat} timed requests each")  # fmt: skip
    header = f"{'request':<26} {'median ms':>10} {'min ms':>8} {'max ms':>8} {'queries':>8}   {'Resolwe 45.2':>18}"
    print(header)
    print("-" * len(header))
    for row in rows:
        ms, queries = RESOLWE[row["name"]]
        print(f"{row['name']:<26} {row['median']:>10.1f} {row['min']:>8.1f} {row['max']:>8.1f} {row['queries']:>8}"
              f"   {f'{ms} ms / {queries} q':>18}")  # fmt: skip


if __name__ == "__main__":
    main()
