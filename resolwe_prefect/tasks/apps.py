from django.apps import AppConfig


class TasksConfig(AppConfig):
    name = "resolwe_prefect.tasks"
    label = "tasks"
    verbose_name = "Background tasks"
