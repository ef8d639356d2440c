from django.apps import AppConfig


class DescriptorsConfig(AppConfig):
    name = "resolwe_prefect.descriptors"
    label = "descriptors"
    verbose_name = "Descriptor schemas"
