from django.apps import AppConfig


class AnnotationsConfig(AppConfig):
    name = "resolwe_prefect.annotations"
    label = "annotations"
    verbose_name = "Annotations"
