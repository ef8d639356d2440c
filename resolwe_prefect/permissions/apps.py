from django.apps import AppConfig


class PermissionsConfig(AppConfig):
    name = "resolwe_prefect.permissions"
    label = "permissions"
    verbose_name = "Permissions"
    default_auto_field = "django.db.models.BigAutoField"
