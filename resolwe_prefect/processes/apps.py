from django.apps import AppConfig


class ProcessesConfig(AppConfig):
    name = "resolwe_prefect.processes"
    label = "processes"
    verbose_name = "Processes"
