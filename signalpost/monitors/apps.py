from django.apps import AppConfig


class MonitorsConfig(AppConfig):
    name = "signalpost.monitors"
    label = "monitors"
    verbose_name = "Monitors"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from signalpost.events.consumers import register

        from . import alerts, incidents

        register(incidents.CONSUMER)
        register(alerts.CONSUMER)
