from django.apps import AppConfig


class ConsoleConfig(AppConfig):
    name = "signalpost.console"
    label = "console"
    verbose_name = "Responders' console"

    def ready(self) -> None:
        from signalpost.events.consumers import register

        from .mail import CONSUMER

        register(CONSUMER)
