"""The monitors' commands: list them with their state, list the locations that report, export them as
YAML, apply a YAML file (this machine's database)."""

import argparse
import sys
from pathlib import Path

from .common import CliError, setup_django


def add_commands(commands: argparse._SubParsersAction) -> None:
    monitors = commands.add_parser("monitors", help="monitors: list, locations, export as YAML, apply a YAML file",
                                   description="Monitors as code: `export` writes every monitor as YAML, "
                                   "`apply FILE` makes the monitors match the file. See docs/monitoring.md.")
    actions = monitors.add_subparsers(dest="monitors_command", metavar="ACTION")
    actions.required = True
    listing = actions.add_parser("list", help="every monitor with its state and its last failure or warning")
    listing.set_defaults(func=cmd_list)
    places = actions.add_parser("locations", help="every location results come from, with when it last reported",
                                description="One line per location: its name, when it last sent results, how "
                                "many it sent, and the token it used (remote probes), or its monitors' last "
                                "results (probes on this machine's database).")
    places.set_defaults(func=cmd_locations)
    export = actions.add_parser("export", help="write every monitor as YAML (to standard output)")
    export.set_defaults(func=cmd_export)
    apply = actions.add_parser("apply", help="create, change and pause monitors to match a YAML file",
                               description="Make the monitors match FILE ('-' reads standard input): create "
                               "those it adds, change those it changes, pause those it marks paused. The "
                               "changes are printed. A file with mistakes changes nothing.")
    apply.add_argument("file")
    apply.add_argument("--dry-run", action="store_true", help="print what would change, change nothing")
    apply.add_argument("--prune", action="store_true", help="also remove the monitors the file does not name")
    apply.set_defaults(func=cmd_apply)


def cmd_list(args) -> int:
    setup_django()
    from signalpost.monitors.models import LocationState, Monitor

    rows = [("NAME", "KIND", "TARGET", "EVERY", "STATE", "SINCE", "LAST PROBLEM")]
    failures = {}  # the latest failure or warning (a certificate about to expire) at any location
    for state in LocationState.objects.exclude(last_reason="").order_by("last_at"):
        failures[state.monitor_id] = f"{state.location}: {state.last_reason}"
    for monitor in Monitor.objects.order_by("name"):
        state = "paused" if monitor.paused else monitor.state
        since = monitor.state_changed_at.isoformat(timespec="seconds") if monitor.state_changed_at else "-"
        rows.append((monitor.name, monitor.kind, _target(monitor), _every(monitor), state, since,
                     failures.get(monitor.pk, "")))
    if len(rows) == 1:
        print("no monitors (create them with `signalpost monitors apply FILE`)", file=sys.stderr)
        return 0
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]) - 1)]
    for row in rows:
        print("  ".join(cell.ljust(width) for cell, width in zip(row, widths)) + "  " + row[-1])
    return 0


def _target(monitor) -> str:
    """What is checked: a heartbeat's ping URL (its secret: the list is for the server's admins), a DNS
    monitor's record type and name."""
    from signalpost.monitors.heartbeat import ping_path
    from signalpost.monitors.models import MonitorKind

    if monitor.kind == MonitorKind.HEARTBEAT:
        return ping_path(monitor)
    if monitor.kind == MonitorKind.DNS:
        return f"{monitor.record_type} {monitor.target}" + (f" @{monitor.resolver}" if monitor.resolver else "")
    return monitor.target


def _every(monitor) -> str:
    from signalpost.monitors.models import MonitorKind

    if monitor.kind == MonitorKind.HEARTBEAT:
        schedule = f"cron '{monitor.cron}' {monitor.cron_zone}" if monitor.cron else f"{monitor.interval_seconds}s"
        return f"{schedule} +{monitor.grace_seconds}s"
    return f"{monitor.interval_seconds}s"


def cmd_locations(args) -> int:
    setup_django()
    from django.db.models import Count, Max

    from signalpost.monitors.locations import locations
    from signalpost.monitors.models import LocationState

    remote = {place.name: place for place in locations()}
    seen = {row["location"]: row for row in LocationState.objects.values("location").annotate(
        monitors=Count("id"), last=Max("last_at"))}
    rows = [("LOCATION", "LAST SEEN", "RESULTS", "MONITORS", "TOKEN")]
    for name in sorted(set(remote) | set(seen)):
        place, states = remote.get(name), seen.get(name)
        last = place.last_seen_at if place else states["last"]
        token = f"{place.token_name} ({place.token_prefix}…)" if place and place.token_prefix else (
            "remote" if place else "on this database")
        rows.append((name, last.isoformat(timespec="seconds") if last else "-",
                     str(place.results_received) if place else "-", str(states["monitors"] if states else 0), token))
    if len(rows) == 1:
        print("no location has reported yet", file=sys.stderr)
        return 0
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]) - 1)]
    for row in rows:
        print("  ".join(cell.ljust(width) for cell, width in zip(row, widths)) + "  " + row[-1])
    return 0


def cmd_export(args) -> int:
    setup_django()
    from signalpost.monitors import config

    sys.stdout.write(config.export())
    return 0


def cmd_apply(args) -> int:
    setup_django()
    from signalpost.monitors import config

    try:
        text = sys.stdin.read() if args.file == "-" else Path(args.file).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as error:
        raise CliError(f"{args.file}: cannot read it ({getattr(error, 'strerror', None) or error})") from None
    try:
        specs = config.parse(text)
    except config.BadFile as bad:
        for line in bad.errors:
            print(f"signalpost: {args.file}: {line}", file=sys.stderr)
        return 1
    for line in config.warnings(specs):
        print(f"signalpost: {args.file}: warning: {line}", file=sys.stderr)
    changes = config.apply(specs, prune=args.prune, dry_run=args.dry_run)
    for change in changes:
        print(change.line())
    counts = {action: sum(c.action == action for c in changes) for action in ("create", "change", "remove")}
    if not changes:
        print("no change: the monitors match the file")
    else:
        summary = ", ".join(f"{n} to {action}" if args.dry_run else f"{n} {action}d"
                            for action, n in counts.items() if n)
        print(f"{summary}{' (dry run: nothing changed)' if args.dry_run else ''}")
    return 0
