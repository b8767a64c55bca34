"""The admin's verbs on subscribers and deliveries: add, remove, resume a paused webhook, export and
import as CSV, and retry deliveries that ran out of attempts. The console and the API call these; each
writes in one transaction with its one audit entry (and, for an address added unconfirmed, the event
that has the confirmation sent).

CSV import is all or nothing: every line is checked first, and when any line is bad nothing is written
and every bad line is reported (line number and column), so that a corrected file can simply be sent
again. Addresses already subscribed are skipped and counted, not refused: importing the same file twice
changes nothing the second time.
"""

import base64
import csv
import io
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime

from django.core.exceptions import ValidationError
from django.core.validators import EmailValidator
from django.db import transaction
from django.db.models import Q, QuerySet
from django.utils import timezone

from signalpost.accounts import audit
from signalpost.errors import InvalidInput
from signalpost.events import wake
from signalpost.events.record import record as record_event
from signalpost.status.models import Component
from signalpost.status.services import find_components

from . import delivery, formats, outbound, team
from .consumer import TOPIC
from .signup import address_key
from .models import (
    Channel,
    Delivery,
    DeliveryState,
    Source,
    Subscriber,
    TeamAlert,
    TeamChannel,
)

SUBSCRIBER_FIELDS = ("channel", "address", "all_components", "confirmed_at", "paused_at", "source")
CSV_COLUMNS = ("channel", "address", "components", "confirmed", "created")
IMPORT_MAX_LINES = 50_000
_email = EmailValidator()


class State:
    """The states an admin filters by (derived from the timestamps, not stored)."""

    PENDING = "pending"  # waiting for the double opt-in
    CONFIRMED = "confirmed"  # told about what it subscribed to
    PAUSED = "paused"  # a webhook that kept failing
    ALL = (PENDING, CONFIRMED, PAUSED)


def state_of(subscriber: Subscriber) -> str:
    if subscriber.paused_at is not None:
        return State.PAUSED
    return State.CONFIRMED if subscriber.confirmed_at is not None else State.PENDING


def in_state(subscribers: QuerySet, state: str) -> QuerySet:
    if state == State.PAUSED:
        return subscribers.filter(paused_at__isnull=False)
    if state == State.CONFIRMED:
        return subscribers.filter(confirmed_at__isnull=False, paused_at__isnull=True)
    if state == State.PENDING:
        return subscribers.filter(confirmed_at__isnull=True, paused_at__isnull=True)
    raise InvalidInput("state", f"must be one of: {', '.join(State.ALL)}")


def search(*, query: str = "", channel: str = "", state: str = "") -> QuerySet:
    """Subscribers newest first, their address containing `query`, on `channel`, in `state`."""
    subscribers = Subscriber.objects.prefetch_related("components")
    if query.strip():
        subscribers = subscribers.filter(address__icontains=query.strip())
    if channel:
        if channel not in Channel.values:
            raise InvalidInput("channel", f"must be one of: {', '.join(Channel.values)}")
        subscribers = subscribers.filter(channel=channel)
    if state:
        subscribers = in_state(subscribers, state)
    return subscribers.order_by("-created_at", "-id")


# --- addresses --------------------------------------------------------------------------------------


def checked_address(channel: str, address: str, field_name: str = "address") -> str:
    """The address, stripped, if it can be told on `channel`; InvalidInput naming the reason otherwise.
    A URL must pass the outbound address rules (a chat URL must be the tool's own host)."""
    if channel not in Channel.values:
        raise InvalidInput("channel", f"must be one of: {', '.join(Channel.values)}")
    address = (address or "").strip()
    if not address:
        raise InvalidInput(field_name, "is required")
    if len(address) > 2000:
        raise InvalidInput(field_name, "must be at most 2000 characters")
    if channel == Channel.EMAIL:
        try:
            _email(address)
        except ValidationError:
            raise InvalidInput(field_name, "is not an e-mail address") from None
        if len(address) > 320:
            raise InvalidInput(field_name, "must be at most 320 characters")
        return address
    try:
        outbound.check_url(address, hosts=outbound.CHAT_HOSTS.get(channel))
    except outbound.Refused as refusal:
        raise InvalidInput(field_name, str(refusal)) from None
    return address


def checked_secret(value: str) -> str:
    """A webhook secret in the Standard Webhooks form ("whsec_" and base64 of 24 to 64 bytes); empty:
    one is generated."""
    value = (value or "").strip()
    if not value:
        return formats.new_secret()
    try:
        raw = base64.b64decode(value.removeprefix("whsec_"), validate=True)
    except ValueError:
        raw = b""
    if not value.startswith("whsec_") or not 24 <= len(raw) <= 64:
        raise InvalidInput("secret", '"whsec_" followed by the base64 of 24 to 64 random bytes, or empty to get one')
    return value


# --- adding and removing ------------------------------------------------------------------------------


def _snapshot(subscriber: Subscriber) -> dict:
    after = audit.snapshot(subscriber, SUBSCRIBER_FIELDS)
    after["components"] = sorted(c.name for c in subscriber.components.all())
    return after


def _request_confirmation(subscriber: Subscriber) -> None:
    record_event("subscriber.confirmation_requested", f"subscriber:{subscriber.public_id}",
                 data={"subscriber": subscriber.public_id, "generation": subscriber.link_generation})


def add_subscriber(*, channel: str, address: str, components: Iterable[str] | None = None,
                   confirmed: bool = False, owner_email: str = "", secret: str = "") -> Subscriber:
    """Add an address. Marked confirmed, it is told from now on; otherwise it is asked to confirm
    first (the same double opt-in as a reader's own signup). `components` (ids or names) narrows what
    it hears about; none means every component."""
    address = checked_address(channel, address)
    chosen = find_components(list(components or []))
    owner_email = (owner_email or "").strip()
    if owner_email:
        try:
            _email(owner_email)
        except ValidationError:
            raise InvalidInput("owner_email", "is not an e-mail address") from None
    if channel != Channel.WEBHOOK and (secret or owner_email):
        raise InvalidInput("secret" if secret else "owner_email", "applies to webhooks only")
    now = timezone.now()
    with transaction.atomic():
        key = address_key(channel, address)
        if Subscriber.objects.filter(channel=channel, address_key=key).exists():
            raise InvalidInput("address", "is already subscribed on this channel")
        subscriber = Subscriber.objects.create(
            channel=channel, address=address, address_key=key, all_components=not chosen,
            secret=checked_secret(secret) if channel == Channel.WEBHOOK else "", owner_email=owner_email,
            source=Source.ADMIN, created_at=now, confirmed_at=now if confirmed else None)
        subscriber.components.set(chosen)
        audit.record("subscriber.add", subscriber, after=_snapshot(subscriber))
        if not confirmed:
            _request_confirmation(subscriber)
    return subscriber


def remove_subscriber(subscriber: Subscriber) -> None:
    """The subscription ends at once: what was waiting to be sent to it is cancelled; the deliveries
    already made are kept (with the address) for the record."""
    with transaction.atomic():
        before = _snapshot(subscriber)
        delivery.cancel_pending([subscriber.pk], "the subscriber was removed by an admin")
        audit.record("subscriber.remove", subscriber, before=before)
        subscriber.delete()


def resume_subscriber(subscriber: Subscriber) -> bool:
    """A paused webhook is told again (from the next event on). False when it was not paused."""
    with transaction.atomic():
        subscriber = Subscriber.objects.select_for_update().get(pk=subscriber.pk)
        if subscriber.paused_at is None:
            return False
        before = {"paused_at": subscriber.paused_at, "paused_reason": subscriber.paused_reason}
        subscriber.paused_at, subscriber.paused_reason = None, ""
        subscriber.save(update_fields=["paused_at", "paused_reason"])
        audit.record("subscriber.resume", subscriber, before=before, after={"paused_at": None, "paused_reason": ""})
    return True


# --- deliveries -----------------------------------------------------------------------------------------


def dead_letters() -> QuerySet:
    return Delivery.objects.filter(state=DeliveryState.FAILED).order_by("-created_at", "-id")


def retry_deliveries(deliveries: QuerySet | None = None) -> int:
    """Deliveries that ran out of attempts (all of them, or those given) are sent again from now, with a
    fresh count of attempts; the attempts made so far stay on record. Returns how many."""
    with transaction.atomic():
        failed = dead_letters() if deliveries is None else deliveries.filter(state=DeliveryState.FAILED)
        keys = list(failed.values_list("key", flat=True)[:1000])
        count = Delivery.objects.filter(state=DeliveryState.FAILED, key__in=keys).update(
            state=DeliveryState.PENDING, due_at=timezone.now(), attempts=0, claimed_by="", claimed_until=None)
        if count:
            wake.announce(TOPIC)  # the delivery job takes them at once, not at its next poll
            audit.record("delivery.retry", object_type="delivery", object_id=keys[0] if count == 1 else "",
                         object_repr=f"{count} failed deliver{'y' if count == 1 else 'ies'}",
                         after={"retried": count, "keys": keys[:20]})
    return count


def deliveries_of(subject: str) -> QuerySet:
    """Every delivery made for the events of one subject ("incident:<id>"), with its attempts."""
    return (Delivery.objects.filter(subject=subject).prefetch_related("attempt_set")
            .order_by("-event_id", "channel", "address", "id"))


# --- CSV --------------------------------------------------------------------------------------------------

# A spreadsheet runs a cell that starts with one of these as a formula (the fullwidth and small forms
# too); characters a reader cannot see are looked through. As the audit log's export does.
FORMULA_CHARS = "=+-@\u2212＝＋－＠\ufe62\ufe63\ufe66\ufe6b"
INVISIBLE = "\u200b\u200c\u200d\u2060\ufeff"


def safe_cell(text: str) -> str:
    """A cell a spreadsheet shows as text: one that could run as a formula gets a leading '."""
    if not text:
        return text
    behind = text.lstrip().lstrip(INVISIBLE + " \t\r\n\x0b\x0c\u00a0\u3000")
    if text[0] in INVISIBLE or text[0] in "\t\r\n" or behind[:1] in FORMULA_CHARS:
        return "'" + text
    return text


def _component_label(component: Component) -> str:
    return f"{component.group.name}/{component.name}" if component.group_id else component.name


def _utc(moment: datetime | None) -> str:
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z") if moment else ""


class _Echo:
    def write(self, value: str) -> str:
        return value


def export_lines(subscribers: QuerySet | None = None) -> Iterator[str]:
    """The subscribers as CSV lines: channel, address, components (names, "; "; empty: all),
    confirmed (when, UTC; empty: not yet), created (UTC)."""
    writer = csv.writer(_Echo())
    yield "\ufeff"  # so that spreadsheet programs read the file as UTF-8
    yield writer.writerow(CSV_COLUMNS)
    queryset = subscribers if subscribers is not None else Subscriber.objects.order_by("created_at", "id")
    queryset = queryset.prefetch_related("components__group")
    for subscriber in queryset.iterator(chunk_size=1000):
        names = "" if subscriber.all_components else "; ".join(
            sorted(_component_label(c) for c in subscriber.components.all()))
        yield writer.writerow([safe_cell(v) for v in (
            subscriber.channel, subscriber.address, names, _utc(subscriber.confirmed_at), _utc(subscriber.created_at))])


@dataclass
class ImportLine:
    line: int
    channel: str
    address: str
    components: list[Component]
    confirmed_at: datetime | None
    created_at: datetime | None
    duplicate: bool = False


@dataclass
class ImportProblem:
    line: int
    column: str
    message: str

    def __str__(self) -> str:
        return f"line {self.line}, {self.column}: {self.message}"


@dataclass
class ImportPlan:
    """What an import would do: the lines to add, those already subscribed, and the problems."""

    lines: list[ImportLine] = field(default_factory=list)
    problems: list[ImportProblem] = field(default_factory=list)

    @property
    def new(self) -> list[ImportLine]:
        return [line for line in self.lines if not line.duplicate]

    @property
    def duplicates(self) -> list[ImportLine]:
        return [line for line in self.lines if line.duplicate]

    @property
    def ok(self) -> bool:
        return not self.problems

    def summary(self) -> dict:
        return {"added": len(self.new), "already_subscribed": len(self.duplicates),
                "problems": [{"line": p.line, "column": p.column, "message": p.message} for p in self.problems]}


def _unspreadsheet(value: str) -> str:
    """A cell as written by export_lines: its defusing ' taken off again."""
    value = value.strip()
    if value.startswith("'") and safe_cell(value[1:]) == value:
        return value[1:]
    return value


def _moment(value: str) -> datetime:
    moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    if moment.tzinfo is None:
        raise ValueError("no offset")
    return moment


def _components_by_label() -> dict[str, Component]:
    labels: dict[str, Component] = {}
    for component in Component.objects.select_related("group"):
        labels[_component_label(component).casefold()] = component
        labels.setdefault(component.public_id.casefold(), component)
        labels.setdefault(component.name.casefold(), component)
    return labels


def plan_import(text: str, *, all_confirmed: bool = False, check_urls: bool = True) -> ImportPlan:
    """Read a CSV (a header line naming at least channel and address; components, confirmed and created
    optional, as export_lines writes them) and say what importing it would do. Nothing is written."""
    plan = ImportPlan()
    text = text.lstrip("\ufeff")
    reader = csv.reader(io.StringIO(text))
    try:
        header = [h.strip().lower() for h in next(reader)]
    except StopIteration:
        plan.problems.append(ImportProblem(1, "header", "the file is empty: the first line names the columns "
                                                        f"({', '.join(CSV_COLUMNS)})"))
        return plan
    except csv.Error as error:
        plan.problems.append(ImportProblem(1, "header", f"not CSV ({error})"))
        return plan
    for required in ("channel", "address"):
        if required not in header:
            plan.problems.append(ImportProblem(1, required, "this column is missing from the first line"))
    unknown = [h for h in header if h not in CSV_COLUMNS]
    for name in unknown:
        plan.problems.append(ImportProblem(1, name or "(empty)", f"is not a known column ({', '.join(CSV_COLUMNS)})"))
    if plan.problems:
        return plan
    labels = _components_by_label()
    seen: dict[tuple[str, str], int] = {}
    rows: list[ImportLine] = []
    try:
        for row in reader:
            number = reader.line_num
            if number > IMPORT_MAX_LINES + 1:
                plan.problems.append(ImportProblem(number, "file", f"more than {IMPORT_MAX_LINES} lines: split it"))
                break
            if not any(cell.strip() for cell in row):
                continue
            if len(row) != len(header):
                plan.problems.append(ImportProblem(number, "line", f"has {len(row)} cells, the header {len(header)}"))
                continue
            cells = {name: _unspreadsheet(value) for name, value in zip(header, row, strict=True)}
            line = _import_line(number, cells, labels, plan.problems, all_confirmed, check_urls)
            if line is None:
                continue
            key = (line.channel, address_key(line.channel, line.address))
            if key in seen:
                plan.problems.append(ImportProblem(number, "address", f"is on line {seen[key]} already"))
                continue
            seen[key] = number
            rows.append(line)
    except csv.Error as error:
        plan.problems.append(ImportProblem(reader.line_num, "line", f"not CSV ({error})"))
    existing = set()
    keys = [address_key(line.channel, line.address) for line in rows]
    for start in range(0, len(keys), 1000):
        existing |= set(Subscriber.objects.filter(address_key__in=keys[start:start + 1000])
                        .values_list("channel", "address_key"))
    for line in rows:
        line.duplicate = (line.channel, address_key(line.channel, line.address)) in existing
    plan.lines = rows
    return plan


def _import_line(number: int, cells: dict, labels: dict, problems: list, all_confirmed: bool,
                 check_urls: bool) -> ImportLine | None:
    before = len(problems)
    channel = cells.get("channel", "").lower()
    if channel not in Channel.values:
        problems.append(ImportProblem(number, "channel", f"must be one of: {', '.join(Channel.values)}"))
    address = cells.get("address", "")
    if channel in Channel.values:
        try:
            if channel == Channel.EMAIL or check_urls:
                address = checked_address(channel, address)
            elif not address:
                raise InvalidInput("address", "is required")
        except InvalidInput as refusal:
            problems.append(ImportProblem(number, "address", refusal.message))
    components = []
    for name in filter(None, (n.strip() for n in cells.get("components", "").split(";"))):
        component = labels.get(name.casefold())
        if component is None:
            problems.append(ImportProblem(number, "components", f'unknown component "{name}"'))
        else:
            components.append(component)
    moments = {}
    for column in ("confirmed", "created"):
        value = cells.get(column, "")
        moments[column] = None
        if value:
            try:
                moments[column] = _moment(value)
            except ValueError:
                problems.append(ImportProblem(number, column, "must be an ISO-8601 date and time with an offset "
                                                              "(e.g. 2026-11-25T14:00:00Z), or empty"))
    if len(problems) > before:
        return None
    confirmed_at = moments["confirmed"]
    if all_confirmed and confirmed_at is None:
        confirmed_at = timezone.now()
    return ImportLine(number, channel, address, components, confirmed_at, moments["created"])


def import_subscribers(text: str, *, all_confirmed: bool = False) -> ImportPlan:
    """Import a CSV (see plan_import): when any line is bad, nothing is written and the plan says why;
    otherwise every new address is added in one transaction, with one audit entry for the import. An
    address imported unconfirmed is asked to confirm, as one added by hand."""
    plan = plan_import(text, all_confirmed=all_confirmed)
    if not plan.ok or not plan.new:
        return plan
    now = timezone.now()
    with transaction.atomic():
        made = Subscriber.objects.bulk_create([
            Subscriber(channel=line.channel, address=line.address, address_key=address_key(line.channel, line.address),
                       all_components=not line.components, source=Source.IMPORT,
                       secret=formats.new_secret() if line.channel == Channel.WEBHOOK else "",
                       created_at=line.created_at or now, confirmed_at=line.confirmed_at)
            for line in plan.new])
        made = list(Subscriber.objects.filter(public_id__in=[s.public_id for s in made]))
        by_key = {(s.channel, s.address_key): s for s in made}
        links = []
        for line in plan.new:
            subscriber = by_key[(line.channel, address_key(line.channel, line.address))]
            links += [Subscriber.components.through(subscriber_id=subscriber.pk, component_id=c.pk)
                      for c in line.components]
        Subscriber.components.through.objects.bulk_create(links)
        audit.record("subscriber.import", object_type="subscriber", object_repr=f"{len(made)} subscribers imported",
                     after={"added": len(made), "already_subscribed": len(plan.duplicates),
                            "confirmed": sum(1 for s in made if s.confirmed_at is not None)})
        for subscriber in made:
            if subscriber.confirmed_at is None:
                _request_confirmation(subscriber)
    return plan


def find_subscriber(public_id: str) -> Subscriber | None:
    return Subscriber.objects.prefetch_related("components").filter(Q(public_id=public_id)).first()


# --- the team's alert channels ------------------------------------------------------------------------


def _team_kinds(kinds: Iterable[str]) -> list[str]:
    kinds = list(dict.fromkeys(kinds))
    unknown = [k for k in kinds if k not in TeamAlert.values]
    if unknown:
        raise InvalidInput("kinds", f"unknown: {', '.join(unknown)} (known: {', '.join(TeamAlert.values)})")
    if not kinds:
        raise InvalidInput("kinds", "choose at least one kind of event")
    return kinds


def add_team_channel(*, name: str, url: str, kinds: Iterable[str]) -> TeamChannel:
    """A new channel for the team's alerts. The URL must be one Apprise knows and every host it would
    reach must pass the outbound address rules; it is stored, and never shown back in full."""
    name = (name or "").strip()
    if not name:
        raise InvalidInput("name", "is required")
    if len(name) > 100:
        raise InvalidInput("name", "must be at most 100 characters")
    url = (url or "").strip()
    if not url:
        raise InvalidInput("url", "is required")
    kinds = _team_kinds(kinds)
    try:
        team.check(url)
    except outbound.Refused as refusal:
        raise InvalidInput("url", str(refusal)) from None
    with transaction.atomic():
        channel = TeamChannel.objects.create(name=name, url=url, shown_url=team.shown(url), kinds=kinds)
        audit.record("team_channel.add", channel, after={"name": name, "url": channel.shown_url, "kinds": kinds})
    return channel


def set_team_channel_kinds(channel: TeamChannel, kinds: Iterable[str]) -> TeamChannel:
    """Change what an existing channel is told about (opting in to monitor alerts, say), keeping its URL."""
    kinds = _team_kinds(kinds)
    with transaction.atomic():
        before = {"name": channel.name, "url": channel.shown_url, "kinds": channel.kinds}
        channel.kinds = kinds
        channel.save(update_fields=["kinds"])
        audit.record("team_channel.change", channel, before=before,
                     after={"name": channel.name, "url": channel.shown_url, "kinds": kinds})
    return channel


def remove_team_channel(channel: TeamChannel) -> None:
    with transaction.atomic():
        audit.record("team_channel.remove", channel,
                     before={"name": channel.name, "url": channel.shown_url, "kinds": channel.kinds})
        channel.delete()


def test_team_channel(channel: TeamChannel) -> str | None:
    """Send a test message now, as the admin waits; None when it went, else why not. Recorded in the
    audit trail (who sent a test where), as it reaches outside."""
    problem = team.send(channel, "Test alert from Signalpost",
                        f"This is a test of the team alert channel “{channel.name}”. It will be told about: "
                        + ", ".join(TeamAlert(k).label.lower() for k in channel.kinds) + ".")
    with transaction.atomic():
        audit.record("team_channel.test", channel, after={"sent": problem is None, "error": problem or ""})
    return problem
