from django.apps import AppConfig


class StorageConfig(AppConfig):
    name = "resolwe_prefect.storage"
    label = "storage"
    verbose_name = "Storage"

    def ready(self) -> None:
        from resolwe_prefect.uploads.views import UPLOAD_CONFIG_PROVIDERS, UPLOAD_CREDENTIALS_PROVIDERS

        from . import direct_uploads, downloads, duplicates, record

        record.connect()  # every Data object that finishes OK has its files recorded
        downloads.connect()  # /data/<id>/<path> serves them from object storage when the local copy is gone
        duplicates.connect()  # a duplicate of Data kept only in object storage gets its files there
        # upload_config offers direct uploads to S3 when FLOW_STORAGE["upload"] names a connector.
        if direct_uploads.upload_config not in UPLOAD_CONFIG_PROVIDERS:
            UPLOAD_CONFIG_PROVIDERS.append(direct_uploads.upload_config)
            UPLOAD_CREDENTIALS_PROVIDERS.append(direct_uploads.upload_credentials)
