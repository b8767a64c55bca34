from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "signalpost.accounts"
    label = "accounts"
    verbose_name = "Accounts"
