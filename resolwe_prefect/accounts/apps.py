from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "resolwe_prefect.accounts"
    label = "accounts"
    verbose_name = "Accounts"
