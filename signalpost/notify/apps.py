from django.apps import AppConfig


class NotifyConfig(AppConfig):
    name = "signalpost.notify"
    label = "notify"
    verbose_name = "Subscribers and notifications"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from signalpost.events.consumers import register

        from . import consumer, signup, team

        register(consumer.CONSUMER)
        register(signup.CONSUMER)
        register(team.CONSUMER)
