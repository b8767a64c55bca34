from django.apps import AppConfig


class PresentationConfig(AppConfig):
    name = "signalpost.presentation"
    label = "presentation"
    verbose_name = "Presentation shared by the public pages, the console and postmortems"
