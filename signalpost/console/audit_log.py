"""The audit log: every write, newest first, filtered; exported as CSV or JSON with the same filters."""

import csv
import json
from collections.abc import Iterable, Iterator
from datetime import UTC, timedelta
from urllib.parse import urlencode

from django.core.paginator import Paginator
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse, StreamingHttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.views.decorators.http import require_safe

from signalpost.presentation.zone import midnight, page_zone
from signalpost.status.services import get_page

from signalpost.accounts import services
from .account_forms import AuditFilterForm
from signalpost.accounts.models import AuditEvent
from signalpost.accounts.roles import role_required

PER_PAGE = 50
EXPORT_FIELDS = ("id", "at", "actor_kind", "actor", "source", "address", "action", "object_type", "object_id",
                 "object_repr", "before", "after")
# A spreadsheet runs a cell that starts with one of these as a formula (the fullwidth and small forms
# too, which some programs fold to ASCII); incident names are typed by people.
FORMULA_CHARS = "=+-@\u2212＝＋－＠\ufe62\ufe63\ufe66\ufe6b"
# Characters a reader cannot see: a cell starting with one is defused too, and they are looked through,
# with any white space, for a formula character behind them.
INVISIBLE = "\u200b\u200c\u200d\u2060\ufeff"


def _known_actions() -> list[str]:
    seen = set(AuditEvent.objects.order_by().values_list("action", flat=True).distinct())
    return sorted(seen | set(services.ACTIONS))


def _filter_form(request: HttpRequest) -> AuditFilterForm:
    return AuditFilterForm(request.GET or None, actions=_known_actions())


def _filtered(form: AuditFilterForm) -> QuerySet:
    events = AuditEvent.objects.all()
    if not form.is_bound or not form.is_valid():
        return events
    data = form.cleaned_data
    if data["actor"]:
        events = events.filter(actor__icontains=data["actor"].strip())
    for field in ("action", "source", "object_type", "object_id"):
        if data[field]:
            events = events.filter(**{field: data[field].strip()})
    zone = page_zone(get_page())
    if data["since"]:
        events = events.filter(at__gte=midnight(data["since"], zone))
    if data["until"]:
        events = events.filter(at__lt=midnight(data["until"] + timedelta(days=1), zone))
    return events


def changes(event: AuditEvent) -> list[dict]:
    """The change as rows of field: before → after (a creation has only "after", a removal only "before")."""
    before = event.before if isinstance(event.before, dict) else {}
    after = event.after if isinstance(event.after, dict) else {}
    rows = []
    for field in list(before) + [k for k in after if k not in before]:
        rows.append({"field": field, "before": _shown(before.get(field)) if field in before else "",
                     "after": _shown(after.get(field)) if field in after else "",
                     "had_before": field in before, "has_after": field in after})
    return rows


def _shown(value) -> str:
    if value is None:
        return "—"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, (dict, list)):
        return json.dumps(value, ensure_ascii=False, sort_keys=True)
    return str(value)


@role_required("admin")
@require_safe
def audit_log(request: HttpRequest) -> HttpResponse:
    form = _filter_form(request)
    status = 400 if form.is_bound and not form.is_valid() else 200
    events = _filtered(form) if status == 200 else AuditEvent.objects.none()
    paginator = Paginator(events, PER_PAGE)
    page = paginator.get_page(request.GET.get("page"))
    for event in page.object_list:
        event.changes = changes(event)
    filters = {k: v for k, v in request.GET.items() if k != "page" and v}
    query = urlencode(filters)
    return render(request, "console/audit.html", {
        "form": form, "page_obj": page, "filters_query": query, "filtered": bool(filters),
    }, status=status)


def _export_rows(events: QuerySet) -> Iterator[dict]:
    for event in events.iterator(chunk_size=1000):
        yield {
            "id": event.pk, "at": event.at.astimezone(UTC).isoformat().replace("+00:00", "Z"),
            "actor_kind": event.actor_kind, "actor": event.actor, "source": event.source, "address": event.address,
            "action": event.action, "object_type": event.object_type, "object_id": event.object_id,
            "object_repr": event.object_repr, "before": event.before, "after": event.after,
        }


class _Echo:
    def write(self, value: str) -> str:
        return value


def _safe_cell(value) -> str:
    if value is None:
        return ""
    if isinstance(value, (dict, list)):
        value = json.dumps(value, ensure_ascii=False, sort_keys=True)
    text = str(value)
    if not text:
        return text
    first = text[0]
    behind = text.lstrip().lstrip(INVISIBLE + " \t\r\n\x0b\x0c\u00a0\u3000")
    if first in INVISIBLE or first in "\t\r\n" or behind[:1] in FORMULA_CHARS:
        return "'" + text
    return text


def _csv_lines(rows: Iterable[dict]) -> Iterator[str]:
    writer = csv.writer(_Echo())
    yield "\ufeff"  # so that spreadsheet programs read the file as UTF-8
    yield writer.writerow(EXPORT_FIELDS)
    for row in rows:
        yield writer.writerow([_safe_cell(row[field]) for field in EXPORT_FIELDS])


def _json_chunks(rows: Iterable[dict]) -> Iterator[str]:
    yield "["
    first = True
    for row in rows:
        yield ("\n" if first else ",\n") + json.dumps(row, ensure_ascii=False, sort_keys=False)
        first = False
    yield "\n]\n"


def _export(request: HttpRequest, kind: str) -> HttpResponse:
    form = _filter_form(request)
    if form.is_bound and not form.is_valid():
        errors = "; ".join(f"{field}: {' '.join(messages)}" for field, messages in form.errors.items())
        return HttpResponse(f"Bad filter: {errors}\n", status=400, content_type="text/plain; charset=utf-8")
    rows = _export_rows(_filtered(form))
    stamp = timezone.now().strftime("%Y%m%d-%H%M%S")
    if kind == "csv":
        response = StreamingHttpResponse(_csv_lines(rows), content_type="text/csv; charset=utf-8")
    else:
        response = StreamingHttpResponse(_json_chunks(rows), content_type="application/json")
    response["Content-Disposition"] = f'attachment; filename="signalpost-audit-{stamp}.{kind}"'
    response["Cache-Control"] = "no-store"
    return response


@role_required("admin")
@require_safe
def audit_export_csv(request: HttpRequest) -> HttpResponse:
    return _export(request, "csv")


@role_required("admin")
@require_safe
def audit_export_json(request: HttpRequest) -> HttpResponse:
    return _export(request, "json")

