from django.apps import AppConfig


class StatusConfig(AppConfig):
    name = "signalpost.status"
    label = "status"
    verbose_name = "Status"
