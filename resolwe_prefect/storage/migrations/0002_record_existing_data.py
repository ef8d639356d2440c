"""Record the files of every Data object that was already OK before the storage app existed."""

from django.db import migrations

from resolwe_prefect.storage.hashing import CHUNK_SIZE


def record_existing(apps, schema_editor):
    import stat

    from django.conf import settings

    from resolwe_prefect.data import layout
    from resolwe_prefect.runtime import safepath
    from resolwe_prefect.storage.hashing import compute_hashes

    Data = apps.get_model("data", "Data")
    FileStorage = apps.get_model("storage", "FileStorage")
    StorageLocation = apps.get_model("storage", "StorageLocation")
    ReferencedPath = apps.get_model("storage", "ReferencedPath")
    local = getattr(settings, "STORAGE_LOCAL_CONNECTOR", None) or "local"
    for data in Data.objects.filter(status="OK", location__isnull=True).order_by("pk").iterator():
        storage = FileStorage.objects.create(data=data)
        location = StorageLocation.objects.create(file_storage=storage, url=str(data.pk), connector_name=local, status="OK")
        root = layout.data_dir(data.pk)
        paths = [
            ReferencedPath(file_storage=storage, path=path.relative_to(root).as_posix(), size=info.st_size,
                           chunk_size=CHUNK_SIZE, **compute_hashes(path))
            for path, info in safepath.walk(root)
            if stat.S_ISREG(info.st_mode)
        ]  # fmt: skip
        ReferencedPath.objects.bulk_create(paths)
        location.files.set(ReferencedPath.objects.filter(file_storage=storage))


class Migration(migrations.Migration):
    dependencies = [("storage", "0001_initial")]

    operations = [migrations.RunPython(record_existing, migrations.RunPython.noop)]
