"""The permission services: levels, the list format, visibility and containment."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import AnonymousUser

from resolwe_prefect.data.models import Data
from resolwe_prefect.entities.models import Collection
from resolwe_prefect.permissions import services as permissions
from resolwe_prefect.permissions.models import Permission, PermissionModel
from resolwe_prefect.processes.models import Process
from resolwe_prefect.processes.registration import register_processes

pytestmark = pytest.mark.django_db


def test_levels_are_linear_and_named_ascending():
    assert Permission.NONE < Permission.VIEW < Permission.EDIT < Permission.SHARE < Permission.OWNER
    assert Permission.SHARE.names() == ["view", "edit", "share"]
    assert Permission.NONE.names() == []
    assert Permission.from_name("owner") is Permission.OWNER


def test_set_and_get_permissions(owned_collection, contributor, bob, lab):
    permissions.set_permission(owned_collection, bob, Permission.EDIT)
    permissions.set_permission(owned_collection, lab, Permission.VIEW)
    permissions.set_permission(owned_collection, permissions.PUBLIC, Permission.VIEW)
    assert permissions.get_permissions(owned_collection) == [
        {"type": "user", "id": contributor.pk, "name": "contributor", "username": "contributor",
         "permissions": ["view", "edit", "share", "owner"]},
        {"type": "user", "id": bob.pk, "name": "Bob B", "username": "bob", "permissions": ["view", "edit"]},
        {"type": "group", "id": lab.pk, "name": "lab", "permissions": ["view"]},
        {"type": "public", "permissions": ["view"]},
    ]  # fmt: skip
    permissions.set_permission(owned_collection, bob, Permission.NONE)
    assert [e.get("username") for e in permissions.get_permissions(owned_collection)] == ["contributor", None, None]


def test_public_is_capped_and_groups_cannot_own(owned_collection, lab):
    with pytest.raises(ValueError, match="too open"):
        permissions.set_permission(owned_collection, permissions.PUBLIC, Permission.EDIT)
    with pytest.raises(ValueError, match="group"):
        permissions.set_permission(owned_collection, lab, Permission.OWNER)


def test_user_level_combines_user_groups_and_public(owned_collection, admin, contributor, bob, lab):
    assert permissions.user_level(admin, owned_collection) == Permission.OWNER  # superuser
    assert permissions.user_level(contributor, owned_collection) == Permission.OWNER
    assert permissions.user_level(bob, owned_collection) == Permission.NONE
    permissions.set_permission(owned_collection, permissions.PUBLIC, Permission.VIEW)
    assert permissions.user_level(bob, owned_collection) == Permission.VIEW
    assert permissions.user_level(AnonymousUser(), owned_collection) == Permission.VIEW
    permissions.set_permission(owned_collection, lab, Permission.SHARE)
    assert permissions.user_level(bob, owned_collection) == Permission.SHARE


def test_filter_for_user(owned_collection, contributor, bob, lab, admin):
    other = Collection.objects.create(name="Other", contributor=bob)
    permissions.on_created(other)
    everything = Collection.objects.all()
    assert list(permissions.filter_for_user(everything, contributor)) == [owned_collection]
    assert list(permissions.filter_for_user(everything, bob)) == [other]
    assert set(permissions.filter_for_user(everything, admin)) == {owned_collection, other}
    assert not permissions.filter_for_user(everything, AnonymousUser()).exists()

    permissions.set_permission(owned_collection, lab, Permission.VIEW)
    assert set(permissions.filter_for_user(everything, bob)) == {owned_collection, other}
    assert list(permissions.filter_for_user(everything, bob, Permission.EDIT)) == [other]
    # Public VIEW never counts as EDIT.
    permissions.set_permission(other, permissions.PUBLIC, Permission.VIEW)
    assert list(permissions.filter_for_user(everything, contributor, Permission.EDIT)) == [owned_collection]
    assert list(permissions.filter_for_user(everything, AnonymousUser())) == [other]


def test_filter_for_user_is_one_query(owned_collection, bob, django_assert_num_queries):
    with django_assert_num_queries(1):
        list(permissions.filter_for_user(Collection.objects.all(), bob))


def test_top_level_data_is_owned_by_its_contributor(make_data, contributor, bob):
    data = make_data()
    assert data.permission_group_id is not None
    assert permissions.user_level(contributor, data) == Permission.OWNER
    assert permissions.user_level(bob, data) == Permission.NONE


def test_contained_objects_share_the_container_group(make_data, make_entity, owned_collection):
    entity = make_entity(collection=owned_collection)
    in_collection = make_data(collection_id=owned_collection.pk)
    in_entity = make_data(entity_id=entity.pk)
    assert entity.permission_group_id == owned_collection.permission_group_id
    assert in_collection.permission_group_id == owned_collection.permission_group_id
    assert in_entity.permission_group_id == owned_collection.permission_group_id

    loose = make_entity(name="Loose")
    in_loose = make_data(entity_id=loose.pk)
    assert in_loose.permission_group_id == loose.permission_group_id != owned_collection.permission_group_id


def test_creating_in_a_collection_needs_edit(make_data, owned_collection, bob):
    from resolwe_prefect.data.services import DataError

    with pytest.raises(DataError) as error:
        make_data(user=bob, collection_id=owned_collection.pk)
    assert error.value.status_code == 400  # bob cannot even see it
    permissions.set_permission(owned_collection, bob, Permission.VIEW)
    with pytest.raises(DataError) as error:
        make_data(user=bob, collection_id=owned_collection.pk)
    assert error.value.status_code == 403
    permissions.set_permission(owned_collection, bob, Permission.EDIT)
    assert (
        make_data(user=bob, collection_id=owned_collection.pk).permission_group_id
        == owned_collection.permission_group_id
    )


def test_invisible_process_cannot_be_used(make_data, process, bob):
    from resolwe_prefect.data.services import DataError

    permissions.set_permission(process, permissions.PUBLIC, Permission.NONE)
    with pytest.raises(DataError):
        make_data(user=bob)


def test_children_outside_containers_copy_the_parent(make_data, contributor, bob, process):
    from resolwe_prefect.data.services import create_data

    parent = make_data()
    permissions.set_permission(parent, bob, Permission.VIEW)
    child = create_data(user=contributor, process_ref={"slug": process.slug}, parent=parent)
    assert child.permission_group_id != parent.permission_group_id
    assert permissions.get_permissions(child) == permissions.get_permissions(parent)
    # Later changes to the parent do not leak into the child.
    permissions.set_permission(parent, bob, Permission.NONE)
    assert permissions.user_level(bob, child) == Permission.VIEW


def test_new_process_version_copies_permissions(admin, bob):
    definition = {
        "slug": "versioned", "name": "Versioned", "type": "data:versioned", "version": "1.0.0",
        "run": {"language": "bash", "program": "true"},
    }  # fmt: skip
    register_processes([], user=admin, definitions=[(None, dict(definition))])
    first = Process.objects.get(slug="versioned")
    assert permissions.user_level(bob, first) == Permission.NONE
    permissions.set_permission(first, bob, Permission.VIEW)
    register_processes([], user=admin, definitions=[(None, {**definition, "version": "1.1.0"})])
    second = Process.objects.get(slug="versioned", version="1.1.0")
    assert second.permission_group_id != first.permission_group_id
    assert permissions.user_level(bob, second) == Permission.VIEW


def test_ensure_group_adopts_objects_made_outside_the_api(contributor, process):
    data = Data.objects.create(name="raw", contributor=contributor, process=process)
    assert data.permission_group_id is None
    permissions.ensure_group(data)
    assert PermissionModel.objects.get(permission_group=data.permission_group).user == contributor
