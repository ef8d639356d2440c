from django.apps import AppConfig


class RelationsConfig(AppConfig):
    name = "resolwe_prefect.relations"
    label = "relations"
    verbose_name = "Relations"
