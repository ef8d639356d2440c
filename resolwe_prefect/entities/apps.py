from django.apps import AppConfig


class EntitiesConfig(AppConfig):
    name = "resolwe_prefect.entities"
    label = "entities"
    verbose_name = "Collections and entities"
