from django.apps import AppConfig


class EventsConfig(AppConfig):
    name = "signalpost.events"
    label = "events"
    verbose_name = "Events and their consumers"
