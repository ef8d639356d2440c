"""Give objects created before the permission system a permission group.

Containers first, so contained objects can join them; top-level objects get
their own group with the contributor as owner (what creating them now does).
"""

from django.db import migrations

OWNER = 8


def backfill(apps, schema_editor):
    PermissionGroup = apps.get_model("permissions", "PermissionGroup")
    PermissionModel = apps.get_model("permissions", "PermissionModel")

    def own_group(obj):
        group = PermissionGroup.objects.create()
        PermissionModel.objects.create(permission_group=group, user_id=obj.contributor_id, value=OWNER)
        return group

    for label, name in (("processes", "Process"), ("descriptors", "DescriptorSchema"), ("entities", "Collection")):
        for obj in apps.get_model(label, name).objects.filter(permission_group__isnull=True):
            obj.permission_group = own_group(obj)
            obj.save(update_fields=["permission_group"])
    Entity = apps.get_model("entities", "Entity")
    for entity in Entity.objects.filter(permission_group__isnull=True).select_related("collection"):
        entity.permission_group = entity.collection.permission_group if entity.collection else own_group(entity)
        entity.save(update_fields=["permission_group"])
    Data = apps.get_model("data", "Data")
    for data in Data.objects.filter(permission_group__isnull=True).select_related("collection", "entity"):
        container = data.collection or data.entity
        data.permission_group = container.permission_group if container else own_group(data)
        data.save(update_fields=["permission_group"])


class Migration(migrations.Migration):
    dependencies = [
        ("permissions", "0002_public_user"),
        ("processes", "0002_process_permission_group"),
        ("descriptors", "0002_descriptorschema_permission_group"),
        ("entities", "0002_collection_permission_group_entity_permission_group"),
        ("data", "0002_data_permission_group"),
    ]

    operations = [migrations.RunPython(backfill, migrations.RunPython.noop)]
