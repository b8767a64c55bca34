from django.apps import AppConfig


class ApiConfig(AppConfig):
    name = "signalpost.api"
    label = "api"
    verbose_name = "Management API"
