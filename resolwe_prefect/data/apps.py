from django.apps import AppConfig


class DataConfig(AppConfig):
    name = "resolwe_prefect.data"
    label = "data"
    verbose_name = "Data"

    def ready(self) -> None:
        from . import lifecycle

        lifecycle.connect()
