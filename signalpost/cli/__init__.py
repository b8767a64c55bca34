"""The `signalpost` command: run the service, administer it, and respond to incidents from a shell.

server.py: run, web, worker, probe, migrate, createadmin, token, demo, publish, export.
monitoring.py: monitors list, export, apply.
responder.py: incident, maintenance, component (the responders' commands).
backends.py: where those act: the local database (through the API's own operations) or a server's API.
"""

import argparse
import sys

from .common import CliError, setup_django  # noqa: F401  (what the commands share)


def build_parser() -> argparse.ArgumentParser:
    from signalpost import __version__

    from . import monitoring, responder, server

    parser = argparse.ArgumentParser(
        prog="signalpost",
        description="Signalpost: a self-hosted status page and incident communication platform.",
    )
    parser.add_argument("--version", action="version", version=f"signalpost {__version__}")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")
    commands.required = True
    server.add_commands(commands)
    responder.add_commands(commands)
    monitoring.add_commands(commands)
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
