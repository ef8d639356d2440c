"""List endpoints cost the same number of SQL queries for a page of 5 as for a page of 50.

resdk pages through everything (``iterate()``, tables), so one query per
object on any list is what turns a 10,000-object project into a 10,000-query
request. ``tests/permissions/test_api.py`` already checks collection, sample,
data and process with bare objects; these cases use fully populated objects
(Data inside collections and entities with descriptor schemas, annotation
values with their fields and groups) so that every nested serializer and
every permission lookup is on the page, and they add entity, annotation
values and fields, and users.

The reader is a plain user who sees everything through a Django group that
holds VIEW on the collections and processes, the way lab members do.
"""

from __future__ import annotations

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.db import connection
from django.test.utils import CaptureQueriesContext
from rest_framework.test import APIClient

from resolwe_prefect.annotations.models import AnnotationField, AnnotationGroup, AnnotationValue
from resolwe_prefect.data.models import Data, DataStatus
from resolwe_prefect.descriptors.models import DescriptorSchema
from resolwe_prefect.entities.models import Collection, Entity
from resolwe_prefect.permissions.models import Permission, PermissionGroup, PermissionModel
from resolwe_prefect.processes.models import Process

pytestmark = pytest.mark.django_db

SMALL, LARGE = 5, 50
#: Enough objects of every kind that a page of LARGE is full.
COUNT = LARGE + 5
#: A page costs a handful of queries (count, page, prefetches, the caller's permission rows) whatever its size.
MAX_QUERIES = 8


def _bulk_groups(count: int, holder: Group) -> list[PermissionGroup]:
    groups = PermissionGroup.objects.bulk_create([PermissionGroup() for _ in range(count)])
    PermissionModel.objects.bulk_create(
        [PermissionModel(permission_group=group, group=holder, value=Permission.VIEW) for group in groups]
    )
    return groups


@pytest.fixture
def reader(db):
    """A non-superuser in the ``lab`` group (no password: hashing one is slow and nobody logs in)."""
    user = get_user_model().objects.create(username="reader", email="reader@example.com")
    user.groups.add(Group.objects.create(name="lab"))
    return user


@pytest.fixture
def reader_client(reader) -> APIClient:
    client = APIClient()
    client.force_authenticate(reader)
    return client


@pytest.fixture
def seeded(reader, admin) -> None:
    """COUNT objects of every listed kind, all visible to ``reader`` only through the ``lab`` group."""
    lab = reader.groups.get()
    owner = admin
    schema = DescriptorSchema.objects.create(slug="qc-schema", name="Schema", version="1.0.0", contributor=owner)
    processes = Process.objects.bulk_create([
        Process(slug=f"qc-proc-{i}", name=f"Proc {i}", version="1.0.0", type="data:qc:", contributor=owner,
                run={"language": "bash", "program": "true"}, permission_group=group)
        for i, group in enumerate(_bulk_groups(COUNT, lab))
    ])  # fmt: skip
    collections = Collection.objects.bulk_create([
        Collection(name=f"C{i}", slug=f"qc-c{i}", contributor=owner, descriptor_schema=schema, permission_group=group)
        for i, group in enumerate(_bulk_groups(COUNT, lab))
    ])  # fmt: skip
    entities = Entity.objects.bulk_create([
        Entity(name=f"E{i}", slug=f"qc-e{i}", contributor=owner, collection=c, descriptor_schema=schema,
               permission_group_id=c.permission_group_id)
        for i, c in enumerate(collections)
    ])  # fmt: skip
    statuses = [DataStatus.DONE, DataStatus.ERROR, DataStatus.PROCESSING]
    Data.objects.bulk_create([
        Data(name=f"D{i}", slug=f"qc-d{i}", contributor=owner, process=processes[i % 3], collection=e.collection,
             entity=e, descriptor_schema=schema, status=statuses[i % 3], permission_group_id=e.permission_group_id)
        for i, e in enumerate(entities)
    ])  # fmt: skip
    annotation_groups = AnnotationGroup.objects.bulk_create(
        [AnnotationGroup(name=f"g{i}", label=f"G{i}", sort_order=i) for i in range(5)]
    )
    fields = AnnotationField.objects.bulk_create([
        AnnotationField(name=f"f{i}", label=f"F{i}", type="STRING", group=annotation_groups[i % 5], sort_order=i)
        for i in range(COUNT)
    ])  # fmt: skip
    AnnotationValue.objects.bulk_create(
        [
            AnnotationValue(entity=entity, field=field, _value={"value": "x", "label": "x"}, contributor=owner)
            for entity, field in zip(entities, fields, strict=True)
        ]
    )
    get_user_model().objects.bulk_create(
        [get_user_model()(username=f"qc-user-{i}", email=f"qc-user-{i}@example.com") for i in range(COUNT)]
    )


def _count_queries(client: APIClient, url: str, limit: int) -> int:
    """Queries for one page; the page must be full, or the comparison would prove nothing."""
    separator = "&" if "?" in url else "?"
    with CaptureQueriesContext(connection) as captured:
        response = client.get(f"{url}{separator}limit={limit}")
    assert response.status_code == 200, response.content
    assert len(response.json()["results"]) == limit
    return len(captured)


@pytest.mark.parametrize(
    "url",
    [
        "/api/data",
        "/api/collection",
        "/api/entity",
        "/api/process",
        "/api/annotation_value",
        "/api/annotation_field",
        "/api/user",
    ],
)
def test_list_query_count_is_independent_of_page_size(seeded, reader_client, url):
    small = _count_queries(reader_client, url, SMALL)
    large = _count_queries(reader_client, url, LARGE)
    assert large == small, f"{url}: {small} queries for {SMALL} objects, {large} for {LARGE}"
    assert small <= MAX_QUERIES, f"{url}: {small} queries for one page"


def test_data_list_with_resdk_table_projection(seeded, reader_client):
    """resdk's tables ask for a projection; it must not fall back to per-object queries either."""
    url = "/api/data?fields=id,slug,modified,entity__name,entity__id,output,process__output_schema,process__slug"
    assert _count_queries(reader_client, url, LARGE) == _count_queries(reader_client, url, SMALL)
