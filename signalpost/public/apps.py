from django.apps import AppConfig


class PublicConfig(AppConfig):
    name = "signalpost.public"
    label = "public"
    verbose_name = "Public pages"

    def ready(self) -> None:
        from signalpost.events.consumers import register

        from .publisher import CONSUMER

        register(CONSUMER)
