"""Permissions through the REST API: the endpoint, 404 vs 403, anonymous access, filters, query counts."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from resolwe_prefect.entities.models import Collection
from resolwe_prefect.permissions import services as permissions
from resolwe_prefect.permissions.models import Permission
from resolwe_prefect.processes.models import Process

pytestmark = pytest.mark.django_db

OWNER = ["view", "edit", "share", "owner"]


def test_creating_a_collection_makes_the_caller_owner(user_client, contributor):
    response = user_client.post("/api/collection", {"name": "New"}, format="json")
    assert response.status_code == 201
    body = response.json()
    assert body["current_user_permissions"] == [
        {"type": "user", "id": contributor.pk, "name": "contributor", "username": "contributor", "permissions": OWNER}
    ]
    assert user_client.get(f"/api/collection/{body['id']}/permissions").json() == body["current_user_permissions"]


def test_invisible_is_404_visible_without_level_is_403(owned_collection, bob_client, bob):
    url = f"/api/collection/{owned_collection.pk}"
    assert bob_client.get(url).status_code == 404
    assert bob_client.patch(url, {"name": "x"}, format="json").status_code == 404
    assert bob_client.get("/api/collection").json() == []
    permissions.set_permission(owned_collection, bob, Permission.VIEW)
    assert bob_client.get(url).status_code == 200
    assert bob_client.patch(url, {"name": "x"}, format="json").status_code == 403
    assert bob_client.delete(url).status_code == 403
    assert bob_client.post(f"{url}/permissions", {"public": "view"}, format="json").status_code == 403
    permissions.set_permission(owned_collection, bob, Permission.EDIT)
    assert bob_client.patch(url, {"name": "x"}, format="json").status_code == 200


def test_permissions_endpoint_round_trip(owned_collection, user_client, contributor, bob, lab):
    url = f"/api/collection/{owned_collection.pk}/permissions"
    body = {"users": {"bob@example.com": "edit"}, "groups": {"lab": "view"}, "public": "view"}
    response = user_client.post(url, body, format="json")
    assert response.status_code == 200, response.json()
    assert response.json() == [
        {"type": "user", "id": contributor.pk, "name": "contributor", "username": "contributor", "permissions": OWNER},
        {"type": "user", "id": bob.pk, "name": "Bob B", "username": "bob", "permissions": ["view", "edit"]},
        {"type": "group", "id": lab.pk, "name": "lab", "permissions": ["view"]},
        {"type": "public", "permissions": ["view"]},
    ]
    # Downgrades and removals set the exact level; users are found by id too.
    response = user_client.post(url, {"users": {str(bob.pk): "view"}, "groups": {str(lab.pk): "none"}}, format="json")
    assert [e["permissions"] for e in response.json()] == [OWNER, ["view"], ["view"]]
    assert user_client.get(url).json() == response.json()


@pytest.mark.parametrize(
    ("body", "status", "message"),
    [
        ({"public": "edit"}, 403, "Permissions for public users are too open"),
        ({"users": {"nobody": "view"}}, 400, "Unknown user: nobody"),
        ({"groups": {"nogroup": "view"}}, 400, "Unknown group: nogroup"),
        ({"groups": {"lab": "owner"}}, 400, "Owner permission cannot be assigned to a group"),
        ({"users": {"contributor": "share"}}, 400, "Object must have at least one owner."),
        ({"users": {"bob": "superpower"}}, 400, "Unknown permission: superpower"),
        # Digits that are not ASCII, and ids beyond the database's integer: 400, never a 500.
        ({"users": {"\u00b2": "view"}}, 400, "Unknown user: \u00b2"),
        ({"groups": {"\u00b2": "view"}}, 400, "Unknown group: \u00b2"),
        ({"users": {"9" * 30: "view"}}, 400, f"Unknown user: {'9' * 30}"),
    ],
)
def test_permissions_endpoint_checks(owned_collection, user_client, lab, body, status, message):
    response = user_client.post(f"/api/collection/{owned_collection.pk}/permissions", body, format="json")
    assert response.status_code == status
    assert response.json() == {"detail": message}
    assert len(permissions.get_permissions(owned_collection)) == 1  # nothing changed


def test_only_owners_grant_or_revoke_owner(owned_collection, bob_client, bob, contributor):
    permissions.set_permission(owned_collection, bob, Permission.SHARE)
    url = f"/api/collection/{owned_collection.pk}/permissions"
    for body in ({"users": {"bob": "owner"}}, {"users": {"contributor": "view"}}):
        response = bob_client.post(url, body, format="json")
        assert response.status_code == 403
        assert response.json() == {"detail": "Only owners can grant/revoke owner permission"}
    # Sharing below owner, including one's own entry (resdk's copy_from sends it), is fine.
    assert bob_client.post(url, {"users": {"bob": "share", "public": "view"}}, format="json").status_code == 200


def test_contained_objects_show_but_do_not_set_permissions(owned_collection, make_entity, user_client):
    entity = make_entity(collection=owned_collection)
    url = f"/api/sample/{entity.pk}/permissions"
    assert user_client.get(url).json() == permissions.get_permissions(owned_collection)
    response = user_client.post(url, {"public": "view"}, format="json")
    assert response.status_code == 400


def test_without_share_only_own_entries_are_listed(owned_collection, bob_client, bob, lab):
    permissions.set_permission(owned_collection, lab, Permission.VIEW)
    body = bob_client.get(f"/api/collection/{owned_collection.pk}/permissions").json()
    assert body == [{"type": "group", "id": lab.pk, "name": "lab", "permissions": ["view"]}]


def test_superuser_sees_every_level(owned_collection, admin_client, admin):
    body = admin_client.get(f"/api/collection/{owned_collection.pk}").json()
    own = [e for e in body["current_user_permissions"] if e.get("id") == admin.pk]
    assert own[0]["permissions"] == OWNER
    # Superusers without rows are not listed by the endpoint.
    usernames = [
        e.get("username") for e in admin_client.get(f"/api/collection/{owned_collection.pk}/permissions").json()
    ]
    assert usernames == ["contributor"]


def test_anonymous_reads_public_objects_only(owned_collection, anon_client, make_data):
    data = make_data()
    assert anon_client.get("/api/collection").json() == []
    assert anon_client.get(f"/api/data/{data.pk}").status_code == 404
    permissions.set_permission(owned_collection, permissions.PUBLIC, Permission.VIEW)
    permissions.set_permission(data, permissions.PUBLIC, Permission.VIEW)
    body = anon_client.get("/api/collection").json()
    assert [c["id"] for c in body] == [owned_collection.pk]
    assert body[0]["current_user_permissions"] == [{"type": "public", "permissions": ["view"]}]
    assert anon_client.get(f"/api/data/{data.pk}").status_code == 200
    response = anon_client.patch(f"/api/collection/{owned_collection.pk}", {"name": "x"}, format="json")
    assert response.status_code == 403
    assert response.json() == {"detail": "Authentication credentials were not provided."}
    assert anon_client.post(f"/api/collection/{owned_collection.pk}/permissions", {}, format="json").status_code == 403


def test_process_permissions_and_visibility(process, admin_client, bob_client):
    assert [p["slug"] for p in bob_client.get("/api/process").json()] == ["perm-proc"]
    assert bob_client.get(f"/api/process/{process.pk}/permissions").json() == [
        {"type": "public", "permissions": ["view"]}
    ]
    admin_client.post(f"/api/process/{process.pk}/permissions", {"public": "none"}, format="json")
    assert bob_client.get("/api/process").json() == []
    response = bob_client.post("/api/data", {"process": {"slug": "perm-proc"}}, format="json")
    assert response.status_code == 400


def test_data_created_through_the_api(user_client, process, owned_collection, bob_client, bob):
    response = user_client.post("/api/data", {"process": {"slug": "perm-proc"}}, format="json")
    assert response.status_code == 201, response.json()
    assert response.json()["current_user_permissions"][0]["permissions"] == OWNER
    body = {"process": {"slug": "perm-proc"}, "collection": {"id": owned_collection.pk}}
    assert bob_client.post("/api/data", body, format="json").status_code == 400
    permissions.set_permission(owned_collection, bob, Permission.VIEW)
    assert bob_client.post("/api/data", body, format="json").status_code == 403
    permissions.set_permission(owned_collection, bob, Permission.EDIT)
    assert bob_client.post("/api/data", body, format="json").status_code == 201


def test_moving_into_a_collection_switches_permissions(user_client, owned_collection, make_entity, make_data, bob):
    entity = make_entity()
    data = make_data(entity_id=entity.pk)
    permissions.set_permission(entity, bob, Permission.VIEW)
    response = user_client.patch(f"/api/sample/{entity.pk}", {"collection": {"id": owned_collection.pk}}, format="json")
    assert response.status_code == 200, response.json()
    entity.refresh_from_db()
    data.refresh_from_db()
    assert entity.permission_group_id == data.permission_group_id == owned_collection.permission_group_id
    assert permissions.user_level(bob, data) == Permission.NONE  # replaced, not merged

    loose = make_data()
    response = user_client.patch(f"/api/data/{loose.pk}", {"collection": {"id": owned_collection.pk}}, format="json")
    assert response.status_code == 200
    loose.refresh_from_db()
    assert loose.permission_group_id == owned_collection.permission_group_id


def test_moving_needs_edit_on_the_destination(bob_client, bob, owned_collection):
    mine = Collection.objects.create(name="Bob's", contributor=bob)
    permissions.on_created(mine)
    response = bob_client.post("/api/sample", {"name": "s", "collection": {"id": owned_collection.pk}}, format="json")
    assert response.status_code == 400
    permissions.set_permission(owned_collection, bob, Permission.VIEW)
    response = bob_client.post("/api/sample", {"name": "s", "collection": {"id": owned_collection.pk}}, format="json")
    assert response.status_code == 403
    response = bob_client.post("/api/sample", {"name": "s", "collection": {"id": mine.pk}}, format="json")
    assert response.status_code == 201
    assert response.json()["current_user_permissions"][0]["permissions"] == OWNER


def test_list_filters(user_client, bob_client, contributor, bob, lab, owned_collection):
    shared = Collection.objects.create(name="Shared", contributor=bob)
    permissions.on_created(shared)
    permissions.set_permission(shared, contributor, Permission.EDIT)
    public = Collection.objects.create(name="Public", contributor=bob)
    permissions.on_created(public)
    permissions.set_permission(public, permissions.PUBLIC, Permission.VIEW)

    def names(query: str) -> list[str]:
        response = user_client.get(f"/api/collection?{query}")
        assert response.status_code == 200, response.json()
        return [c["name"] for c in response.json()]

    assert names("") == ["Mine", "Shared", "Public"]
    assert names(f"owners={contributor.pk}") == ["Mine"]
    assert names(f"owners={bob.pk}") == ["Shared", "Public"]
    assert names("owners_name=bob") == ["Shared", "Public"]
    assert names("shared_with_me=True") == ["Shared"]
    assert names("permission=edit") == ["Mine", "Shared"]
    assert names("permission=owner") == ["Mine"]
    permissions.set_permission(owned_collection, lab, Permission.VIEW)
    assert names(f"group={lab.pk}") == ["Mine"]
    assert [c["name"] for c in bob_client.get("/api/collection?shared_with_me=true").json()] == ["Mine"]


def _queries(client, url: str, expected_results: int) -> int:
    with CaptureQueriesContext(connection) as captured:
        response = client.get(url)
    assert response.status_code == 200
    assert len(response.json()["results"]) == expected_results
    return len(captured)


@pytest.mark.parametrize("endpoint", ["collection", "sample", "data", "process"])
def test_list_query_count_does_not_grow_with_page_size(endpoint, bob, bob_client, lab, make_data, make_entity, process):
    for index in range(12):
        collection = Collection.objects.create(name=f"C{index}", contributor=bob)
        permissions.on_created(collection)
        permissions.set_permission(collection, lab, Permission.VIEW)
        make_entity(user=bob, collection=collection)
        make_data(user=bob)
        extra = Process.objects.create(
            slug=f"extra-{index}", name="Extra", type="data:extra:", contributor=bob, run={"language": "bash"}
        )
        permissions.on_created(extra)
    total = 13 if endpoint == "process" else 12
    small = _queries(bob_client, f"/api/{endpoint}?limit=2", min(2, total))
    large = _queries(bob_client, f"/api/{endpoint}?limit=50", total)
    assert large == small
