"""Server and administration commands: run, web, worker, probe, migrate, createadmin, token, demo, publish."""

import argparse
import os
import secrets
import signal
import subprocess
import sys
import time

from .common import CliError, setup_django


def _port(value: str) -> int:
    try:
        port = int(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{value!r} is not a port number") from None
    if not 0 < port < 65536:
        raise argparse.ArgumentTypeError(f"{value} is not a port number (1-65535)")
    return port


def add_commands(commands: argparse._SubParsersAction) -> None:
    run = commands.add_parser(
        "run", help="everything on one machine: migrate, demo data on first start, web server, the worker's jobs",
        description="Migrate the database, load demo data on first start (SIGNALPOST_DEMO=0 skips it), print "
        "the console login, then serve on HOST:PORT with one worker process per job (`signalpost worker "
        "--list`), each started again if it dies. Ctrl-C stops everything.",
    )
    run.add_argument("--host", default=os.environ.get("SIGNALPOST_HOST", "127.0.0.1"))
    run.add_argument("--port", type=_port, default=os.environ.get("SIGNALPOST_PORT", "8000"))
    run.set_defaults(func=cmd_run)

    web = commands.add_parser("web", help="the web server alone (production: one or more per machine)",
                              description="Serve the public pages, the API and the console with Granian.")
    web.add_argument("--host", default=os.environ.get("SIGNALPOST_HOST", "127.0.0.1"))
    web.add_argument("--port", type=_port, default=os.environ.get("SIGNALPOST_PORT", "8000"))
    web.add_argument("--workers", type=int, default=None, help="worker processes (default SIGNALPOST_WEB_WORKERS or 1)")
    web.set_defaults(func=cmd_web)

    worker = commands.add_parser("worker", help="the background worker alone (publishing, maintenance, mail)",
                                 description="Run the background jobs: the publisher and the other consumers of "
                                 "events, maintenance transitions, and the clock. Several workers may run at once "
                                 "safely. SIGTERM finishes the item in hand, then exits.")
    worker.add_argument("--once", action="store_true", help="do one pass of each job and exit")
    worker.add_argument("--only", action="append", metavar="JOB",
                        help="run only this job (repeatable); `signalpost worker --list` names them")
    worker.add_argument("--list", action="store_true", help="list the jobs and exit")
    worker.set_defaults(func=cmd_worker)

    probe = commands.add_parser("probe", help="the monitors' probe alone (checks and verdicts)",
                                description="Run the probe engine: check every monitor on its interval and turn "
                                "the verdicts into component status (`signalpost run` and `signalpost worker` "
                                "run it as their probe job). SIGTERM writes the results in hand, then exits.")
    probe.add_argument("--location", default=None, metavar="NAME",
                       help="the place these checks are made from (default SIGNALPOST_MONITOR_LOCATION or local)")
    probe.add_argument("--server", metavar="URL", default=None,
                       help="probe for a server elsewhere: fetch its monitors and send it the results over its API "
                            "(no database on this machine)")
    probe.add_argument("--token", metavar="TOKEN", default=None,
                       help="with --server: a token of scope probe (default: $SIGNALPOST_TOKEN or "
                            "$SIGNALPOST_TOKEN_FILE)")
    probe.add_argument("--buffer", metavar="DIR", default=None,
                       help="with --server: where results wait while the server is unreachable "
                            "(default: SIGNALPOST_DATA_DIR/probe-<location>)")
    probe.add_argument("--buffer-max", metavar="RESULTS", type=int, default=None,
                       help="with --server: results the buffer holds at most; beyond, the oldest are dropped "
                            "(default 500000)")
    probe.set_defaults(func=cmd_probe)

    migrate = commands.add_parser("migrate", help="create or upgrade the database schema",
                                  description="Apply database migrations (never drops data) and record that the "
                                  "public pages must be republished; the worker does that in the background while "
                                  "readers keep getting the previous pages.")
    migrate.set_defaults(func=cmd_migrate)

    admin = commands.add_parser("createadmin", help="create a console administrator, or reset its password",
                                description="Create (or reset the password of) an administrator account. "
                                "A password is generated and printed unless --password-stdin is given.")
    admin.add_argument("--username", default="admin")
    admin.add_argument("--email", default="")
    admin.add_argument("--password-stdin", action="store_true", help="read the password from standard input")
    admin.set_defaults(func=cmd_createadmin)

    token = commands.add_parser("token", help="management API tokens: create, list, revoke",
                                description="Tokens for the management API. The token is shown once.")
    token_commands = token.add_subparsers(dest="token_command", metavar="ACTION")
    token_commands.required = True
    create = token_commands.add_parser("create", help="create a token and print it once")
    create.add_argument("--scope", required=True, choices=["read", "write", "admin", "probe"],
                        help="read: GET only; write: incidents and maintenance; admin: also components and page; "
                             "probe: a remote probe's (its monitors and its results, nothing else)")
    create.add_argument("--name", default="cli", help="what the token is for")
    create.add_argument("--for", dest="for_user", metavar="USERNAME", default=None,
                        help="the console user the token acts for (needed to approve postmortems through it); "
                             "without it the token acts for no one")
    create.set_defaults(func=cmd_token_create)
    listing = token_commands.add_parser("list", help="list tokens (prefix, name, scope, last used)")
    listing.set_defaults(func=cmd_token_list)
    revoke = token_commands.add_parser("revoke", help="revoke a token by its prefix")
    revoke.add_argument("prefix")
    revoke.set_defaults(func=cmd_token_revoke)

    demo = commands.add_parser("demo", help="load demo data (components, past incidents, upcoming maintenance)",
                               description="Load the demo page. Refuses when the page already has components.")
    demo.add_argument("--force", action="store_true", help="load even if components exist")
    demo.set_defaults(func=cmd_demo)

    publish = commands.add_parser("publish", help="re-render every public page into the snapshot",
                                  description="Record a republication of every public page and work on it until "
                                  "it is done (normally automatic: the worker's publisher does it).")
    publish.set_defaults(func=cmd_publish)

    export = commands.add_parser("export", help="write the public pages as a static site into a directory",
                                 description="Write every published page (with .gz twins) and the public "
                                 "stylesheet and script into DIRECTORY, for nginx, a CDN or object storage.")
    export.add_argument("directory")
    export.set_defaults(func=cmd_export)


def _migrate(verbosity: int = 1) -> None:
    from django.core.management import call_command

    call_command("migrate", interactive=False, verbosity=verbosity)


def _record_republish(forced: bool = False):
    """Record that every page must be rendered again: after an upgrade (once per version of the code
    that renders them), or when asked. Returns the event, or None if this version's is recorded."""
    from django.db import transaction

    from signalpost.events.record import record
    from signalpost.public.fingerprint import renderer_fingerprint

    key = None if forced else f"snapshot.republish:{renderer_fingerprint()}"
    with transaction.atomic():
        return record("snapshot.republish", "snapshot", key=key, data={"reason": "asked" if forced else "upgrade"})


def cmd_migrate(args) -> int:
    setup_django()
    _migrate()
    if _record_republish() is not None:
        print("the public pages will be republished in the background by the worker", flush=True)
    return 0


def _create_admin(username: str, email: str = "", password: str | None = None) -> tuple[str, bool]:
    from django.contrib.auth import get_user_model
    from django.contrib.auth.password_validation import validate_password
    from django.core.exceptions import ValidationError

    User = get_user_model()
    password = password or secrets.token_urlsafe(12)
    try:
        validate_password(password)
    except ValidationError as error:
        raise CliError("password: " + " ".join(error.messages)) from None
    from django.db import transaction

    from signalpost.accounts import audit
    from signalpost.accounts.models import Profile, Role
    from signalpost.accounts.sessions import end_sessions

    with transaction.atomic():
        user, created = User.objects.get_or_create(username=username, defaults={"email": email})
        user.is_staff = user.is_superuser = True
        user.is_active = True
        user.set_password(password)
        user.save()
        Profile.objects.update_or_create(user=user, defaults={"role": Role.OWNER})
        if not created:
            end_sessions(user)  # a new password: no browser stays signed in with the old one
        audit.record("user.create" if created else "user.password_reset", user, object_repr=username,
                     after={"role": Role.OWNER})
    return password, created


def cmd_createadmin(args) -> int:
    setup_django()
    password = sys.stdin.readline().strip() if args.password_stdin else None
    password, created = _create_admin(args.username, args.email, password)
    print(f"{'created' if created else 'reset password of'} administrator {args.username!r}")
    if not args.password_stdin:
        print(f"password: {password}")
    return 0


def cmd_token_create(args) -> int:
    setup_django()
    from django.contrib.auth import get_user_model

    from signalpost.accounts.tokens import create_token

    person = None
    if args.for_user is not None:
        person = get_user_model().objects.filter(username=args.for_user, is_active=True).first()
        if person is None:
            raise CliError(f'--for: no active user "{args.for_user}"')
    token, plain = create_token(args.name, args.scope, created_by=person)
    print(plain)
    print(f"token {token.prefix}… ({args.scope}) created; it is shown only this once", file=sys.stderr)
    return 0


def cmd_token_list(args) -> int:
    setup_django()
    from signalpost.accounts.models import ApiToken

    for token in ApiToken.objects.order_by("created_at"):
        state = "revoked" if token.revoked_at else "active"
        used = token.last_used_at.isoformat(timespec="seconds") if token.last_used_at else "never"
        print(f"{token.prefix}\t{token.scope}\t{state}\tlast used {used}\t{token.name}")
    return 0


def cmd_token_revoke(args) -> int:
    setup_django()
    from signalpost.accounts.models import ApiToken
    from signalpost.accounts.tokens import revoke_token

    tokens = list(ApiToken.objects.filter(prefix__startswith=args.prefix, revoked_at__isnull=True))
    if not tokens:
        raise CliError(f'no active token with prefix "{args.prefix}"')
    if len(tokens) > 1:
        raise CliError(f'prefix "{args.prefix}" matches {len(tokens)} tokens; give more of it')
    revoke_token(tokens[0])
    print(f"revoked {tokens[0].prefix}…")
    return 0


def cmd_demo(args) -> int:
    setup_django()
    from signalpost import demo
    from signalpost.status.models import Component

    from signalpost.errors import InvalidInput

    if Component.objects.exists() and not args.force:
        raise CliError("the page already has components; use --force to add the demo data anyway")
    try:
        demo.load_demo()
    except InvalidInput as error:  # e.g. the demo's groups are there already: nothing was added
        raise CliError(f"the demo data was not added: {error.field} {error.message}") from None
    print("demo data loaded")
    return 0


def cmd_publish(args) -> int:
    setup_django()
    from signalpost.events.models import Handling, HandlingState
    from signalpost.events.work import work_once

    event = _record_republish(forced=True)
    consumer = snapshot_consumer()
    while Handling.objects.filter(event=event, consumer=consumer.name, state=HandlingState.PENDING).exists():
        if not work_once(consumer):
            time.sleep(0.2)  # another worker holds it: wait for that one
    handling = Handling.objects.get(event=event, consumer=consumer.name)
    if handling.state != HandlingState.DONE:
        raise CliError(f"republishing failed: {handling.last_error}")
    # Pages that failed to render were set to be retried on their own (the worker does): say which.
    retried = Handling.objects.filter(consumer=consumer.name, event__kind="snapshot.pages", event_id__gt=event.pk,
                                      state=HandlingState.PENDING).select_related("event").first()
    if retried is not None:
        paths = retried.event.data.get("paths", [])
        raise CliError(f"published every page but {len(paths)}, which failed to render and are retried by the "
                       f"worker: {', '.join(paths[:5])}{' ...' if len(paths) > 5 else ''} (see /healthz)")
    print("published every page")
    return 0


def snapshot_consumer():
    from signalpost.events import consumers

    return consumers.get("publisher")


def cmd_export(args) -> int:
    from pathlib import Path

    setup_django()
    from signalpost.public.export import export_site

    target = Path(args.directory)
    if target.exists() and not target.is_dir():
        raise CliError(f"{target} exists and is not a directory")
    try:
        count = export_site(target)
    except OSError as error:
        raise CliError(f"cannot write to {target}: {error.strerror or error}") from None
    if not count:
        raise CliError("nothing is published yet; run `signalpost publish` first")
    print(f"exported {count} pages to {target}")
    return 0


def cmd_worker(args) -> int:
    setup_django()
    from signalpost.worker import Worker

    if args.list:
        for job in Worker().jobs:
            print(f"{job.name}\t{job.description}")
        return 0
    try:
        worker = Worker(only=args.only)
    except LookupError as error:
        raise CliError(str(error).strip("'\"")) from None
    if args.once:
        worker.run_once()
        return 0
    worker.install_signal_handlers()
    worker.run()
    return 0


def cmd_probe(args) -> int:
    if args.location is not None:
        name = args.location.strip()
        if not name or len(name) > 64:
            raise CliError("--location: give a name of 1 to 64 characters")
        os.environ["SIGNALPOST_MONITOR_LOCATION"] = name
    if args.server is not None:
        return _remote_probe(args)
    for option in ("token", "buffer", "buffer_max"):
        if getattr(args, option) is not None:
            raise CliError(f"--{option.replace('_', '-')}: only with --server (a probe for a server elsewhere)")
    setup_django()
    from signalpost.worker import Worker

    worker = Worker(only=["probe"])
    worker.install_signal_handlers()
    worker.run()
    return 0


def _remote_probe(args) -> int:
    from pathlib import Path

    from signalpost.env import envstr

    server = args.server.strip().rstrip("/")
    if not server.startswith(("http://", "https://")):
        raise CliError(f'--server: "{server}" is not a URL (e.g. https://status.example.com)')
    if args.location is None:
        raise CliError("--location: a probe for a server elsewhere needs the name of its location")
    try:
        token = (args.token or envstr("SIGNALPOST_TOKEN")).strip()
    except OSError as error:
        raise CliError(f"SIGNALPOST_TOKEN_FILE: cannot read {error.filename}: {error.strerror}") from None
    if not token:
        raise CliError("--token: give a token of scope probe, or set SIGNALPOST_TOKEN or SIGNALPOST_TOKEN_FILE")
    if args.buffer_max is not None and args.buffer_max < 1000:
        raise CliError("--buffer-max: give at least 1000 results")
    setup_django()
    import threading

    from django.conf import settings

    from signalpost.monitors.remote import BUFFER_MAX, BufferInUse, RemoteProbe

    location = args.location.strip()
    directory = Path(args.buffer) if args.buffer else settings.DATA_DIR / f"probe-{location}"
    try:
        probe = RemoteProbe(server, token, location, directory, args.buffer_max or BUFFER_MAX)
    except BufferInUse as error:
        raise CliError(f"--buffer: {error}") from None
    except OSError as error:
        raise CliError(f"--buffer: cannot use {directory}: {error.strerror or error}") from None
    stopping = threading.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: stopping.set())
    probe.run(stopping)
    return 0


def _granian_command(host: str, port: int, workers: int) -> list[str]:
    return [
        sys.executable, "-m", "granian", "--interface", "asgi", "--host", host, "--port", str(port),
        "--workers", str(workers), "--no-ws", "--log-level", "warning",
        # A worker stopped while Django requests are in flight can hang at exit (a2wsgi's threads wait
        # on sends the stopped event loop never completes): kill it rather than wait forever.
        "--workers-kill-timeout", "8",
        "signalpost.asgi:application",
    ]


def cmd_web(args) -> int:
    setup_django()
    from django.conf import settings

    workers = args.workers or settings.WEB_WORKERS
    print(f"signalpost web: serving on http://{args.host}:{args.port} ({workers} worker(s))", flush=True)
    os.execv(sys.executable, _granian_command(args.host, args.port, workers))
    return 0  # not reached


def _first_start(demo_enabled: bool) -> None:
    from django.contrib.auth import get_user_model

    from signalpost import demo
    from signalpost.status.models import Component

    if demo_enabled and not Component.objects.exists():
        demo.load_demo()
        print("loaded demo data (set SIGNALPOST_DEMO=0 to start with an empty page)")
    if not get_user_model().objects.filter(is_superuser=True).exists():
        password, _ = _create_admin("admin")
        print(f"console login: user admin, password {password} (shown once; reset with `signalpost createadmin`)")


RESTART_PAUSE_SECONDS = 2.0


def _release_claims(pid: int) -> None:
    import socket

    from django.db import DatabaseError

    from signalpost.events.work import release_claims_of
    from signalpost.notify import delivery

    try:
        release_claims_of(f"{socket.gethostname()}:{pid}")
        delivery.release_claims_of(f"{socket.gethostname()}:{pid}")
    except DatabaseError:  # the database is away: the claims expire by themselves
        pass


def cmd_run(args) -> int:
    setup_django()
    from django.conf import settings

    from signalpost.jobs import job_names

    _migrate(verbosity=0)
    _record_republish()
    _first_start(settings.DEMO)
    base = f"http://{args.host}:{args.port}"
    print(f"Signalpost is running: status page {base}/  console {base}/console/  API {base}/api/v1/docs", flush=True)
    print("press Ctrl-C to stop", flush=True)

    # The web server, and one worker process for each job of jobs.py.
    commands = {"web": _granian_command(args.host, args.port, settings.WEB_WORKERS)}
    for name in job_names():
        commands[name] = [sys.executable, "-m", "signalpost", "worker", "--only", name]
    processes = {name: subprocess.Popen(command) for name, command in commands.items()}
    stopping = False

    def stop(*_):
        nonlocal stopping
        stopping = True

    signal.signal(signal.SIGINT, stop)
    signal.signal(signal.SIGTERM, stop)
    try:
        while not stopping:
            time.sleep(0.2)
            for name, process in processes.items():
                if process.poll() is None or stopping:
                    continue
                if name == "web":
                    raise CliError(f"the web server exited with status {process.returncode}; see the log above")
                # A job that dies is started again; what it had claimed is given back at once.
                print(f"the {name} job exited with status {process.returncode}; starting it again", flush=True)
                _release_claims(process.pid)
                time.sleep(RESTART_PAUSE_SECONDS)
                processes[name] = subprocess.Popen(commands[name])
    finally:
        for process in processes.values():
            if process.poll() is None:
                process.send_signal(signal.SIGTERM)
        deadline = time.monotonic() + 10
        for process in processes.values():
            try:
                process.wait(timeout=max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                process.kill()
    print("stopped", flush=True)
    return 0
