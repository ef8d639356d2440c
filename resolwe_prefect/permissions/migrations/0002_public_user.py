"""Create the ``public`` user that anonymous requests act as (services also create it lazily)."""

from django.conf import settings
from django.db import migrations


def create_public_user(apps, schema_editor):
    app_label, model_name = settings.AUTH_USER_MODEL.split(".")
    User = apps.get_model(app_label, model_name)
    if not User.objects.filter(username="public").exists():
        # An unusable password: nobody can log in as public.
        User.objects.create(username="public", password="!", is_active=True)


class Migration(migrations.Migration):
    dependencies = [
        ("permissions", "0001_initial"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [migrations.RunPython(create_public_user, migrations.RunPython.noop)]
