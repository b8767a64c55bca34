"""The `signalpost` command: run the service, administer it, and respond to incidents from a shell."""

import argparse
import os
import sys

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


def build_parser() -> argparse.ArgumentParser:
    from signalpost import __version__, cli_responder, cli_server

    parser = argparse.ArgumentParser(
        prog="signalpost",
        description="Signalpost: a self-hosted status page and incident communication platform.",
    )
    parser.add_argument("--version", action="version", version=f"signalpost {__version__}")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")
    commands.required = True
    cli_server.add_commands(commands)
    cli_responder.add_commands(commands)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return args.func(args) or 0
    except CliError as error:
        print(f"signalpost: {error}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130
    except Exception as error:  # noqa: BLE001 - the last line of defence: one line, not a traceback
        from signalpost.env import ConfigError
        from signalpost.errors import InvalidInput, NotFound

        if isinstance(error, (ConfigError, InvalidInput, NotFound)):
            print(f"signalpost: {error}", file=sys.stderr)
            return 1
        raise
