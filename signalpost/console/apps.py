from django.apps import AppConfig


class ConsoleConfig(AppConfig):
    name = "signalpost.console"
    label = "console"
    verbose_name = "Responders' console"
