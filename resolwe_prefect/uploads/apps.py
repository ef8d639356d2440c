from django.apps import AppConfig


class UploadsConfig(AppConfig):
    name = "resolwe_prefect.uploads"
    label = "uploads"
    verbose_name = "Uploads"
