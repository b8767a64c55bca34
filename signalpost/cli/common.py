"""What the commands share: one way to refuse, and Django set up once."""

import os

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "signalpost.settings")


class CliError(Exception):
    """One clear line on stderr and exit status 1."""


def setup_django() -> None:
    import django
    from django.apps import apps

    if not apps.ready:  # set up once: setting up again would reconfigure logging mid-run
        django.setup()
        from signalpost.accounts import audit

        # Writes made by this command on the server's own database are the CLI's in the audit log
        # (through --server they are the API token's).
        audit._actor.set(audit.cli_actor())
