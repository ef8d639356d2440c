from django.apps import AppConfig


class DataConfig(AppConfig):
    name = "resolwe_prefect.data"
    label = "data"
    verbose_name = "Data"

    def ready(self) -> None:
        from . import deletion, duplication, lifecycle

        lifecycle.connect()
        deletion.connect()  # the Data of deleted collections and entities goes with them
        duplication.connect()  # and is copied into the copies of duplicated ones
