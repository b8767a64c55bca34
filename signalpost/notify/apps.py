from django.apps import AppConfig


class NotifyConfig(AppConfig):
    name = "signalpost.notify"
    label = "notify"
    verbose_name = "Subscribers and notifications"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from django.utils.module_loading import import_string

        from signalpost.events.consumers import register

        # One line per consumer of this app.
        register(import_string("signalpost.notify.team.CONSUMER"))
