from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "signalpost.accounts"
    label = "accounts"
    verbose_name = "Accounts"

    def ready(self) -> None:
        from django.contrib.auth.signals import user_logged_in

        from .sessions import stamp_session

        user_logged_in.connect(stamp_session, dispatch_uid="signalpost.accounts.stamp_session")
