"""Responder commands: incident open/update/resolve/backfill/edit/list, maintenance schedule/update/list,
component list/override/clear, postmortem publish.

Each command parses its arguments into the management API's request body once; backends.py sends it
to a server (remote mode) or hands it to the status services on the local database (local mode).
"""

import argparse
import json
import re
import sys
from datetime import date, datetime, timedelta
from datetime import timezone as dt_timezone
from typing import Any, Callable
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from signalpost.status.ranges import RANGE_TEXT, day_problem, instant_problem

from .common import CliError
from .backends import backend, json_default

INCIDENT_STATUSES = "investigating, identified, monitoring, resolved"
MAINTENANCE_STATUSES = "scheduled, in_progress, verifying, completed, cancelled (before it started)"
COMPONENT_STATUSES = "operational, degraded_performance, partial_outage, major_outage, under_maintenance"
IMPACTS = "none, minor, major, critical"

# --- parsing the command line ----------------------------------------------------------------------


class ResponderParser(argparse.ArgumentParser):
    """Refuses bad arguments in one line (the on-call engineer reads one line, not a usage dump), and
    takes "-15m" as a value: argparse would otherwise mistake a relative time for an option."""

    def __init__(self, *args: Any, **kwargs: Any):
        kwargs.setdefault("formatter_class", argparse.RawDescriptionHelpFormatter)
        super().__init__(*args, **kwargs)
        self._negative_number_matcher = re.compile(r"^-\d+$|^-\d*\.\d+$|^-(\d+[smhdw])+$")

    def error(self, message: str):  # type: ignore[override]
        self.exit(2, f'signalpost: {message} (see "{self.prog} --help")\n')


def _common_options() -> argparse.ArgumentParser:
    common = argparse.ArgumentParser(add_help=False)
    where = common.add_argument_group("where to act (default: the local database)")
    where.add_argument("--server", metavar="URL", help="a Signalpost server to talk to over its API "
                       "(default: $SIGNALPOST_SERVER)")
    where.add_argument("--token", metavar="TOKEN", help="an API token for --server (default: $SIGNALPOST_TOKEN "
                       "or the file named by $SIGNALPOST_TOKEN_FILE)")
    common.add_argument("--json", action="store_true", help="print the API object instead of a line of text")
    common.add_argument("--tz", metavar="ZONE", help='read times written without an offset in this zone '
                        '(e.g. Europe/Zurich), and show times in it')
    return common


def _message_options(parser: argparse.ArgumentParser, what: str) -> None:
    group = parser.add_mutually_exclusive_group()
    group.add_argument("-m", "--message", metavar="TEXT", help=f"the {what} (Markdown)")
    group.add_argument("--message-file", metavar="FILE", help=f'read the {what} from FILE ("-": standard input)')


def _impact_options(parser: argparse.ArgumentParser, clearable: bool = False) -> None:
    clear = '; "none" removes it' if clearable else ""
    parser.add_argument("--impact-started", metavar="DATETIME",
                        help=f"when customers began to be affected, if not when it began{clear}")
    parser.add_argument("--impact-ended", metavar="DATETIME",
                        help=f"when customers stopped being affected, if not when it ended{clear}")


def _impact_payload(args: argparse.Namespace, zone: ZoneInfo | None, clearable: bool = False) -> dict:
    payload: dict = {}
    for option, key in (("impact_started", "impact_started_at"), ("impact_ended", "impact_ended_at")):
        value = getattr(args, option)
        if value is None:
            continue
        flag = "--" + option.replace("_", "-")
        payload[key] = None if clearable and value.strip().lower() == "none" else parse_when(value, flag, zone)
    return payload


def _component_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--component", metavar="REF=STATUS", action="append", default=[],
                        help=f"an affected component and the status it is in; repeatable. REF is a component "
                        f'id, its exact name, or "Group/Name". STATUS: {COMPONENT_STATUSES}')


def add_commands(commands: argparse._SubParsersAction) -> None:
    common = _common_options()

    def leaf(verbs: argparse._SubParsersAction, name: str, summary: str, epilog: str,
             run: Callable[[argparse.Namespace], int | None], times: bool = True) -> argparse.ArgumentParser:
        epilog = "examples:\n" + epilog.rstrip("\n") + ("\n\n" + TIMES_HELP if times else "") + "\n\n" + WHERE_HELP
        parser = verbs.add_parser(name, help=summary, description=summary, parents=[common], epilog=epilog)
        parser.set_defaults(func=run)
        return parser

    # incident ...
    incident = commands.add_parser(
        "incident", help="open, update, resolve, backfill and list incidents",
        description="Tell readers what is broken and what is being done about it.",
        epilog=TIMES_HELP + "\n\n" + WHERE_HELP, formatter_class=argparse.RawDescriptionHelpFormatter)
    verbs = incident.add_subparsers(dest="verb", metavar="VERB", parser_class=ResponderParser)
    verbs.required = True

    p = leaf(verbs, "open", "open an incident and post its first update", """\
  signalpost incident open "Elevated API error rates" -m "We are investigating." \\
      --component "Switzerland/zh1.single=partial_outage" --impact major
  signalpost incident open "Mail delays" --status identified --at -15m --no-notify
  signalpost incident open "Login failures" --server https://status.example.com --token sp_... --json""",
             cmd_incident_open)
    p.add_argument("title", metavar="TITLE", help="what readers see as the incident's title")
    p.add_argument("--status", default="investigating", help=f"{INCIDENT_STATUSES} (default: investigating)")
    p.add_argument("--impact", default="minor", help=f"{IMPACTS} (default: minor)")
    _message_options(p, "first update's text")
    _component_option(p)
    p.add_argument("--at", metavar="DATETIME", help="when it started, if earlier than now (e.g. -15m); a date alone "
                                                "(2026-11-25) when the time is not known")
    p.add_argument("--no-notify", action="store_true", help="do not notify subscribers of this update")
    _impact_options(p)

    p = leaf(verbs, "update", "post an update to an incident", """\
  signalpost incident update kctbh9vrtdwd --status identified -m "A failed switch; traffic moved."
  signalpost incident update kctbh9vrtdwd --status monitoring --component zh1.single=operational
  signalpost incident update kctbh9vrtdwd --status investigating --reopen -m "The errors are back."
""", cmd_incident_update)
    p.add_argument("id", metavar="ID", help="the incident's id (as in its URL)")
    p.add_argument("--status", required=True, help=INCIDENT_STATUSES)
    _message_options(p, "update's text")
    _component_option(p)
    p.add_argument("--impact", help=f"change the incident's impact: {IMPACTS}")
    p.add_argument("--reopen", action="store_true", help="post to a resolved incident, reopening it")
    p.add_argument("--at", metavar="DATETIME", help="show the update as posted at this earlier time (or on this date "
                                                "alone: 2026-11-25)")
    p.add_argument("--no-notify", action="store_true", help="do not notify subscribers of this update")

    p = leaf(verbs, "resolve", "resolve an incident; its components return to operational", """\
  signalpost incident resolve kctbh9vrtdwd
  signalpost incident resolve kctbh9vrtdwd -m "Fixed by rolling back the 14:02 deploy." --at -5m
""", cmd_incident_resolve)
    p.add_argument("id", metavar="ID", help="the incident's id (as in its URL)")
    _message_options(p, "resolution's text")
    p.add_argument("--at", metavar="DATETIME", help="when it was resolved, if earlier than now (or a date alone)")
    p.add_argument("--no-notify", action="store_true", help="do not notify subscribers of this update")

    p = leaf(verbs, "backfill", "record a past incident after the fact (retroactive, never notifies)", """\
  signalpost incident backfill "Storage latency in zh1" --started "2026-11-25T20:00:00Z" \\
      --resolved "2026-11-25 21:40+01:00" --impact major --component zh1.single=degraded_performance
  signalpost incident backfill "DNS outage" --started "2026-11-25 20:00" --resolved "2026-11-25 20:30" \\
      --tz Europe/Zurich -m "Our resolvers did not answer."
""", cmd_incident_backfill)
    p.add_argument("title", metavar="TITLE", help="the incident's title")
    p.add_argument("--started", required=True, metavar="DATETIME", help="when it started (a date alone, 2015-07-22, "
                                                                     "when the time is not known)")
    p.add_argument("--resolved", required=True, metavar="DATETIME", help="when it was resolved (or a date alone)")
    p.add_argument("--impact", default="minor", help=f"{IMPACTS} (default: minor)")
    _message_options(p, "first update's text")
    _component_option(p)
    _impact_options(p)

    p = leaf(verbs, "edit", "correct an incident's title, impact or customer impact window (nobody is told)", """  signalpost incident edit kctbh9vrtdwd --impact-started "2022-06-08T16:30:00Z"
  signalpost incident edit kctbh9vrtdwd --impact-started none --impact-ended none
""", cmd_incident_edit)
    p.add_argument("id", metavar="ID", help="the incident's id (as in its URL)")
    p.add_argument("--title", help="a new title")
    p.add_argument("--impact", help=f"a new impact: {IMPACTS}")
    _impact_options(p, clearable=True)

    p = leaf(verbs, "list", "list incidents, newest first", """\
  signalpost incident list --open
  signalpost incident list --json
""", cmd_incident_list)
    p.add_argument("--open", action="store_true", help="only those not resolved yet")

    # maintenance ...
    maintenance = commands.add_parser(
        "maintenance", help="schedule, update and list maintenance",
        description="Announce planned work; the page starts and completes it on time by itself.",
        epilog=TIMES_HELP + "\n\n" + WHERE_HELP, formatter_class=argparse.RawDescriptionHelpFormatter)
    verbs = maintenance.add_subparsers(dest="verb", metavar="VERB", parser_class=ResponderParser)
    verbs.required = True

    p = leaf(verbs, "schedule", "schedule a maintenance window", """\
  signalpost maintenance schedule "Storage firmware upgrade" --start "2026-12-02T22:00:00Z" --duration 2h \\
      --component zh1.single --component "Switzerland/zh2.cluster" -m "Volumes may pause for seconds."
  signalpost maintenance schedule "Database failover test" --start "2026-12-03 06:00" --end "2026-12-03 06:30" \\
      --tz Europe/Zurich --no-auto-complete --remind 2h,15m
""", cmd_maintenance_schedule)
    p.add_argument("title", metavar="TITLE", help="the maintenance's title")
    p.add_argument("--start", required=True, metavar="DATETIME", help="when the window opens")
    end = p.add_mutually_exclusive_group(required=True)
    end.add_argument("--end", metavar="DATETIME", help="when the window closes")
    end.add_argument("--duration", metavar="DURATION", help="how long the window lasts (e.g. 30m, 2h, 1h30m)")
    p.add_argument("--component", metavar="REF", action="append", default=[],
                   help='a component under maintenance (id, exact name or "Group/Name"); repeatable')
    _message_options(p, "announcement's text")
    p.add_argument("--no-auto-start", action="store_true", help="do not start it by itself at --start")
    p.add_argument("--no-auto-complete", action="store_true", help="do not complete it by itself at the end")
    remind = p.add_mutually_exclusive_group()
    remind.add_argument("--remind", metavar="TIMES", help="remind subscribers this long before it starts (e.g. "
                                                          "24h,1h or 30m; default: the page's reminders)")
    remind.add_argument("--no-remind", action="store_true", help="send no reminders before it starts")
    _impact_options(p)

    p = leaf(verbs, "update", "post an update to a maintenance (start, extend, complete or cancel it)", """\
  signalpost maintenance update m4qz1h7x0abc --status in_progress
  signalpost maintenance update m4qz1h7x0abc --status in_progress --until "2026-12-03T01:00:00Z" \\
      -m "The upgrade is taking longer than anticipated."
  signalpost maintenance update m4qz1h7x0abc --status in_progress --overrun
  signalpost maintenance update m4qz1h7x0abc --status completed
  signalpost maintenance update m4qz1h7x0abc --status completed --at 2017-09-13
  signalpost maintenance update m4qz1h7x0abc --status cancelled -m "Postponed to next week."
""", cmd_maintenance_update)
    p.add_argument("id", metavar="ID", help="the maintenance's id (as in its URL)")
    p.add_argument("--status", required=True, help=MAINTENANCE_STATUSES)
    _message_options(p, "update's text")
    p.add_argument("--until", metavar="DATETIME", help="move the end of the window (an overrun)")
    p.add_argument("--overrun", action="store_true",
                   help="it takes longer than planned: without --until, the window stays open until completed")
    p.add_argument("--at", metavar="DATETIME", help="show the update as posted at this earlier time (or on this date "
                                                "alone: 2026-11-25)")

    p = leaf(verbs, "list", "list maintenance, newest first", """\
  signalpost maintenance list --upcoming
  signalpost maintenance list --active --json
""", cmd_maintenance_list)
    when = p.add_mutually_exclusive_group()
    when.add_argument("--upcoming", action="store_true", help="only maintenance not started yet")
    when.add_argument("--active", action="store_true", help="only maintenance in progress")

    # postmortem ...
    postmortem = commands.add_parser(
        "postmortem", help="publish an approved postmortem",
        description="Postmortems are written and reviewed in the console or through the API; this publishes one.",
        epilog=TIMES_HELP + "\n\n" + WHERE_HELP, formatter_class=argparse.RawDescriptionHelpFormatter)
    verbs = postmortem.add_subparsers(dest="verb", metavar="VERB", parser_class=ResponderParser)
    verbs.required = True
    p = leaf(verbs, "publish", "publish an approved postmortem, now or at the time it was published elsewhere", """\
  signalpost postmortem publish p3x8k2m1q9zd
  signalpost postmortem publish p3x8k2m1q9zd --at "2017-09-13 10:41" --tz Europe/Zurich
""", cmd_postmortem_publish)
    p.add_argument("id", metavar="ID", help="the postmortem's id (as in its URL)")
    p.add_argument("--at", metavar="DATETIME", help="when it was published, for one entered after the fact "
                                                     "(default: now)")

    # component ...
    component = commands.add_parser(
        "component", help="list components and override their status by hand",
        description="Components and their current (derived) status.", epilog=WHERE_HELP,
        formatter_class=argparse.RawDescriptionHelpFormatter)
    verbs = component.add_subparsers(dest="verb", metavar="VERB", parser_class=ResponderParser)
    verbs.required = True

    leaf(verbs, "list", "a table of components and their current status", """\
  signalpost component list
  signalpost component list --server https://status.example.com --json
""", cmd_component_list, times=False)

    p = leaf(verbs, "add", "add a component to the page", """\
  signalpost component add zh1.single --group Switzerland
  signalpost component add "Mail delivery" --third-party --description "Sent through our mail provider."
""", cmd_component_add, times=False)
    p.add_argument("name", metavar="NAME", help="the component's name, as readers see it")
    p.add_argument("--group", metavar="GROUP", help="the group it belongs to (id or name; see `signalpost group add`)")
    p.add_argument("--description", default="", help="a line readers see under its name")
    p.add_argument("--position", type=int, help="where it goes (default: last)")
    p.add_argument("--third-party", action="store_true", help="run by a provider (e.g. a mail service)")
    p.add_argument("--hidden", action="store_true", help="tracked, but not shown on the public page")

    p = leaf(verbs, "override", "force a component's status by hand until cleared", """\
  signalpost component override zh1.single major_outage --reason "Monitoring is blind; the rack is down."
  signalpost component override "Switzerland/zh2.cluster" degraded_performance
""", cmd_component_override, times=False)
    p.add_argument("ref", metavar="REF", help='the component: id, exact name, or "Group/Name"')
    p.add_argument("status", metavar="STATUS", help=COMPONENT_STATUSES)
    p.add_argument("--reason", default="", help="why, for the team (not shown to readers)")

    p = leaf(verbs, "clear", "clear a manual override; the status is derived again", """\
  signalpost component clear zh1.single
""", cmd_component_clear, times=False)
    p.add_argument("ref", metavar="REF", help='the component: id, exact name, or "Group/Name"')

    # group ...
    group = commands.add_parser(
        "group", help="add component groups (regions, product areas)",
        description="Component groups, such as a region holding its data centres.", epilog=WHERE_HELP,
        formatter_class=argparse.RawDescriptionHelpFormatter)
    verbs = group.add_subparsers(dest="verb", metavar="VERB", parser_class=ResponderParser)
    verbs.required = True
    p = leaf(verbs, "add", "add a component group to the page", """\
  signalpost group add Switzerland
  signalpost group add "Third-party services" --description "Providers we depend on."
""", cmd_group_add, times=False)
    p.add_argument("name", metavar="NAME", help="the group's name, as readers see it")
    p.add_argument("--description", default="", help="a line readers see under its name")
    p.add_argument("--position", type=int, help="where it goes among groups and ungrouped components (default: last)")
    p.add_argument("--hidden", action="store_true", help="not shown on the public page")


TIMES_HELP = """\
times (DATETIME):
  ISO 8601 with an offset or Z: "2026-11-25T20:00:00Z", "2026-11-25 21:00+01:00"
  relative to now: "now", "-15m", "-2h", "+1d"
  a time without an offset is refused unless --tz ZONE says where it was written
  where the help says so, a date alone ("2015-07-22") when the time is not known: pages show the date only"""

WHERE_HELP = """\
where:
  with --server URL (or $SIGNALPOST_SERVER) and a token (--token, $SIGNALPOST_TOKEN or
  $SIGNALPOST_TOKEN_FILE), commands go to that server's API; otherwise to the local database."""

# --- times, durations, texts -------------------------------------------------------------------------

_DURATION = re.compile(r"^(?:(\d+)w)?(?:(\d+)d)?(?:(\d+)h)?(?:(\d+)m)?(?:(\d+)s)?$")


def parse_duration(text: str, option: str = "--duration") -> timedelta:
    match = _DURATION.match(text.strip().lower())
    if not text.strip() or match is None or not any(match.groups()):
        raise CliError(f'{option}: "{text}" is not a duration (e.g. 30m, 2h, 1h30m)')
    weeks, days, hours, minutes, seconds = (int(part or 0) for part in match.groups())
    try:
        return timedelta(weeks=weeks, days=days, hours=hours, minutes=minutes, seconds=seconds)
    except OverflowError:
        raise CliError(f'{option}: "{text}" is longer than any accepted window') from None


def _zone(args: argparse.Namespace) -> ZoneInfo | None:
    if not getattr(args, "tz", None):
        return None
    try:
        return ZoneInfo(args.tz)
    except (ZoneInfoNotFoundError, ValueError):
        raise CliError(f'--tz: "{args.tz}" is not a known time zone (e.g. Europe/Zurich)') from None


_DATE_ONLY = re.compile(r"^\d{4}-\d{2}-\d{2}$")


def parse_when_or_date(text: str | None, option: str, zone: ZoneInfo | None = None) -> datetime | date | None:
    """A time, or a date alone ("2015-07-22") for one whose time is not known."""
    if text is not None and _DATE_ONLY.match(text.strip()):
        try:
            day = date.fromisoformat(text.strip())
        except ValueError:
            raise CliError(f'{option}: "{text}" is not a date (e.g. 2015-07-22)') from None
        problem = day_problem(day)
        if problem is not None:
            raise CliError(f"{option}: {problem}")
        return day
    return parse_when(text, option, zone)


def parse_when(text: str | None, option: str, zone: ZoneInfo | None = None,
               now: datetime | None = None) -> datetime | None:
    if text is None:
        return None
    text = text.strip()
    now = now or datetime.now(dt_timezone.utc)
    if text.lower() == "now":
        return now
    if text[:1] in "+-" and _DURATION.match(text[1:].lower()):
        offset = parse_duration(text[1:], option)
        try:
            return in_range(now - offset if text[0] == "-" else now + offset, option)
        except OverflowError:
            raise CliError(f"{option}: must be from {RANGE_TEXT}") from None
    try:
        value = datetime.fromisoformat(text)
    except ValueError:
        raise CliError(f'{option}: "{text}" is not a time; use ISO 8601 with an offset, '
                       f'e.g. 2026-11-25T20:00:00Z, or "now", "-15m"') from None
    if value.tzinfo is None:
        if zone is None:
            raise CliError(f'{option}: "{text}" has no time zone; add an offset or Z '
                           f'(e.g. {value.strftime("%Y-%m-%dT%H:%M")}:00Z), or give --tz ZONE')
        value = value.replace(tzinfo=zone)
    return in_range(value, option)


def in_range(value: datetime, option: str) -> datetime:
    problem = instant_problem(value)
    if problem is not None:
        raise CliError(f"{option}: {problem}")
    return value


def read_message(args: argparse.Namespace, default: str = "") -> str:
    if getattr(args, "message_file", None):
        name = args.message_file
        try:
            if name == "-":
                return sys.stdin.read().strip()
            with open(name, encoding="utf-8") as file:
                return file.read().strip()
        except (OSError, UnicodeDecodeError) as error:
            reason = getattr(error, "strerror", None) or str(error)
            raise CliError(f"--message-file: cannot read {name}: {reason}") from None
    if getattr(args, "message", None) is not None:
        return args.message
    return default


def component_statuses(pairs: list[str]) -> dict[str, str]:
    statuses: dict[str, str] = {}
    for pair in pairs:
        ref, sep, status = pair.rpartition("=")
        if not sep or not ref.strip() or not status.strip():
            raise CliError(f'components: "{pair}" needs a status: REF=STATUS (e.g. "zh1.single=major_outage")')
        statuses[ref.strip()] = status.strip()
    return statuses


def _show_time(value: str | datetime | None, zone: ZoneInfo | None) -> str:
    if not value:
        return "-"
    if isinstance(value, str) and _DATE_ONLY.match(value):
        return value  # known by its date alone
    if isinstance(value, date) and not isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    value = value.astimezone(zone or dt_timezone.utc)
    return value.strftime("%Y-%m-%d %H:%M ") + (value.tzname() or "")


# --- the commands ------------------------------------------------------------------------------------


def _print(args: argparse.Namespace, obj: Any, line: str) -> int:
    print(json.dumps(obj, indent=2, default=json_default) if args.json else line)
    return 0


def _describe(obj: dict, note: str = "") -> str:
    text = str(obj.get("id")) + (f" ({note})" if note else "")
    return f'{text}: {obj["url"]}' if obj.get("url") else text


def cmd_incident_open(args: argparse.Namespace) -> int:
    zone = _zone(args)
    payload: dict = {
        "name": args.title, "status": args.status, "impact": args.impact, "body": read_message(args),
        "components": component_statuses(args.component), "deliver_notifications": not args.no_notify,
    }
    if args.at:
        payload["display_at"] = parse_when_or_date(args.at, "--at", zone)
    payload.update(_impact_payload(args, zone))
    incident = backend(args).open_incident(payload)
    return _print(args, incident, f"opened incident {_describe(incident)}")


def cmd_incident_update(args: argparse.Namespace) -> int:
    zone = _zone(args)
    payload: dict = {"status": args.status, "body": read_message(args)}
    if args.component:
        payload["components"] = component_statuses(args.component)
    if args.impact:
        payload["impact"] = args.impact
    if args.reopen:
        payload["reopen"] = True
    if args.no_notify:
        payload["deliver_notifications"] = False
    if args.at:
        payload["display_at"] = parse_when_or_date(args.at, "--at", zone)
    incident = backend(args).post_update(args.id, payload)
    return _print(args, incident, f'updated incident {_describe(incident, incident.get("status", ""))}')


def cmd_incident_resolve(args: argparse.Namespace) -> int:
    zone = _zone(args)
    payload: dict = {"status": "resolved", "body": read_message(args, "This incident has been resolved.")}
    if args.no_notify:
        payload["deliver_notifications"] = False
    if args.at:
        payload["display_at"] = parse_when_or_date(args.at, "--at", zone)
    incident = backend(args).post_update(args.id, payload)
    return _print(args, incident, f"resolved incident {_describe(incident)}")


def cmd_incident_backfill(args: argparse.Namespace) -> int:
    zone = _zone(args)
    payload = {
        "name": args.title, "impact": args.impact, "body": read_message(args),
        "components": component_statuses(args.component),
        "started_at": parse_when_or_date(args.started, "--started", zone),
        "resolved_at": parse_when_or_date(args.resolved, "--resolved", zone),
        **_impact_payload(args, zone),
    }
    incident = backend(args).backfill(payload)
    span = f'{_show_time(incident.get("started_at"), zone)} to {_show_time(incident.get("resolved_at"), zone)}'
    return _print(args, incident, f"recorded past incident {_describe(incident, span)}")


def cmd_incident_edit(args: argparse.Namespace) -> int:
    zone = _zone(args)
    payload: dict = _impact_payload(args, zone, clearable=True)
    if args.title is not None:
        payload["name"] = args.title
    if args.impact is not None:
        payload["impact"] = args.impact
    if not payload:
        raise CliError("nothing to change: give --title, --impact, --impact-started or --impact-ended")
    incident = backend(args).edit_incident(args.id, payload)
    window = f'customer impact {_show_time(incident.get("impact_started_at"), zone)} to ' \
             f'{_show_time(incident.get("impact_ended_at"), zone)}'
    return _print(args, incident, f"edited incident {_describe(incident, window)}")


def cmd_incident_list(args: argparse.Namespace) -> int:
    zone = _zone(args)
    items, count = backend(args).incidents(args.open)
    rows = [[i["id"], i["status"], i["impact"], _show_time(i.get("started_at"), zone), i["name"]] for i in items]
    empty = "no open incidents" if args.open else "no incidents"
    return _print(args, items, _table(["ID", "STATUS", "IMPACT", "STARTED", "TITLE"], rows, count, empty))


def cmd_maintenance_schedule(args: argparse.Namespace) -> int:
    zone = _zone(args)
    start = parse_when(args.start, "--start", zone)
    if args.duration:
        try:
            end = in_range(start + parse_duration(args.duration), "--duration")
        except OverflowError:
            raise CliError("--duration: the window would end after the accepted range") from None
    else:
        end = parse_when(args.end, "--end", zone)
    payload = {
        "name": args.title, "scheduled_for": start, "scheduled_until": end, "body": read_message(args),
        "components": args.component, "auto_start": not args.no_auto_start,
        "auto_complete": not args.no_auto_complete, **_impact_payload(args, zone),
    }
    if args.no_remind:
        payload["reminders"] = []
    elif args.remind is not None:
        payload["reminders"] = [part.strip() for part in args.remind.split(",") if part.strip()]
        if not payload["reminders"]:
            raise CliError('--remind: give times such as 24h,1h (or --no-remind for none)')
    maintenance = backend(args).schedule_maintenance(payload)
    window = (f'{_show_time(maintenance.get("scheduled_for"), zone)} to '
              f'{_show_time(maintenance.get("scheduled_until"), zone)}')
    return _print(args, maintenance, f"scheduled maintenance {_describe(maintenance, window)}")


def cmd_maintenance_update(args: argparse.Namespace) -> int:
    zone = _zone(args)
    payload: dict = {"status": args.status, "body": read_message(args)}
    if args.until:
        payload["scheduled_until"] = parse_when(args.until, "--until", zone)
    if args.overrun:
        payload["overrun"] = True
    if args.at:
        payload["display_at"] = parse_when_or_date(args.at, "--at", zone)
    maintenance = backend(args).post_maintenance_update(args.id, payload)
    note = maintenance.get("status", "")
    if args.until:
        note += f', until {_show_time(maintenance.get("scheduled_until"), zone)}'
    elif args.overrun:
        note += ", open until completed"
    return _print(args, maintenance, f"updated maintenance {_describe(maintenance, note)}")


def cmd_maintenance_list(args: argparse.Namespace) -> int:
    zone = _zone(args)
    items, count = backend(args).maintenances(args.upcoming, args.active)
    rows = [[m["id"], m["status"], _show_time(m.get("scheduled_for"), zone),
             _show_time(m.get("scheduled_until"), zone), m["name"]] for m in items]
    empty = "no upcoming maintenance" if args.upcoming else "no active maintenance" if args.active else "no maintenance"
    return _print(args, items, _table(["ID", "STATUS", "FROM", "UNTIL", "TITLE"], rows, count, empty))


def cmd_postmortem_publish(args: argparse.Namespace) -> int:
    zone = _zone(args)
    payload = {"published_at": parse_when(args.at, "--at", zone)} if args.at else {}
    postmortem = backend(args).publish_postmortem(args.id, payload)
    when = _show_time(postmortem.get("published_at"), zone)
    return _print(args, postmortem, f"published postmortem {_describe(postmortem, when)}")


def cmd_component_list(args: argparse.Namespace) -> int:
    items = backend(args).components()
    rows = [[c["id"], (c.get("group") or {}).get("name") or "-", c["name"], c["status"]] for c in items]
    return _print(args, items, _table(["ID", "GROUP", "NAME", "STATUS"], rows, len(items), "no components"))


def cmd_component_add(args: argparse.Namespace) -> int:
    payload = {"name": args.name, "group": args.group, "description": args.description, "position": args.position,
               "third_party": args.third_party, "hidden": args.hidden}
    component = backend(args).create_component(payload)
    group = (component.get("group") or {}).get("name")
    return _print(args, component, f'added component {component["id"]}: {group + "/" if group else ""}{component["name"]}')


def cmd_group_add(args: argparse.Namespace) -> int:
    payload = {"name": args.name, "description": args.description, "position": args.position, "hidden": args.hidden}
    group = backend(args).create_group(payload)
    return _print(args, group, f'added group {group["id"]}: {group["name"]}')


def cmd_component_override(args: argparse.Namespace) -> int:
    where = backend(args)
    result = where.override(args.ref, args.status, args.reason)
    return _print(args, result, f"{args.ref} is {args.status} until cleared "
                  f'(signalpost component clear "{args.ref}")')


def cmd_component_clear(args: argparse.Namespace) -> int:
    result = backend(args).clear_override(args.ref)
    return _print(args, result, f"{args.ref}: override cleared; its status is derived again")


def _table(header: list[str], rows: list[list[str]], count: int, empty: str) -> str:
    if not rows:
        return empty
    widths = [max(len(str(row[i])) for row in [header, *rows]) for i in range(len(header))]
    lines = ["  ".join(str(cell).ljust(width) for cell, width in zip(row, widths)).rstrip()
             for row in [header, *rows]]
    if count > len(rows):
        lines.append(f"(the newest {len(rows)} of {count})")
    return "\n".join(lines)
