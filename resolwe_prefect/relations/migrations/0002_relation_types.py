"""Seed Resolwe's relation types: its fixtures ``group`` and ``series``, and resdk's ``compare`` and ``background``."""

from django.db import migrations

RELATION_TYPES = [("group", False), ("series", True), ("compare", False), ("background", False)]


def seed(apps, schema_editor):
    RelationType = apps.get_model("relations", "RelationType")
    for name, ordered in RELATION_TYPES:
        RelationType.objects.get_or_create(name=name, defaults={"ordered": ordered})


class Migration(migrations.Migration):

    dependencies = [("relations", "0001_initial")]

    operations = [migrations.RunPython(seed, migrations.RunPython.noop)]
