from django.apps import AppConfig


class PostmortemsConfig(AppConfig):
    name = "signalpost.postmortems"
    label = "postmortems"
    verbose_name = "Postmortems"
