from django.apps import AppConfig


class StorageConfig(AppConfig):
    name = "resolwe_prefect.storage"
    label = "storage"
    verbose_name = "Storage"

    def ready(self) -> None:
        from . import downloads, record

        record.connect()  # every Data object that finishes OK has its files recorded
        downloads.connect()  # /data/<id>/<path> serves them from object storage when the local copy is gone
