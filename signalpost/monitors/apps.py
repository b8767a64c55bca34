from django.apps import AppConfig


class MonitorsConfig(AppConfig):
    name = "signalpost.monitors"
    label = "monitors"
    verbose_name = "Monitors"
    default_auto_field = "django.db.models.BigAutoField"
