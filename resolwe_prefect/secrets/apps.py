from django.apps import AppConfig


class SecretsConfig(AppConfig):
    name = "resolwe_prefect.secrets"
    label = "secrets"
    verbose_name = "Secrets"
