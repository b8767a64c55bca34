from django.apps import AppConfig


class PublicConfig(AppConfig):
    name = "signalpost.public"
    label = "public"
    verbose_name = "Public pages"
