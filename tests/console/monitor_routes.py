"""The monitors screens' entries for tests/test_audit_coverage.py: console route -> (world) -> (URL, form
data), a valid submission that records exactly one audit entry naming the signed-in owner; and the API's:
"METHOD /path" -> (world) -> (path parameters, body). The world's monitor (tests/routes.py) is down."""

from collections.abc import Callable

from django.urls import reverse


def _monitor(w):
    return w.objects["monitor"]


def _paused(w):
    from signalpost.monitors import config

    config.pause(_monitor(w))
    return _monitor(w)


def _form(w, **fields) -> dict:
    zh1 = w.components["zh1"].public_id
    return {"name": "Mail relay", "target": "127.0.0.1:25", "interval": "60", "failures_to_down": "3",
            "successes_to_up": "2", f"down_{zh1}": "major_outage", f"degraded_{zh1}": "degraded_performance",
            **fields}


def _drafted(w):
    from django.utils import timezone

    from signalpost.monitors.models import AutoIncident, AutoIncidentState

    monitor = _monitor(w)
    AutoIncident.objects.create(monitor=monitor, down_event=10**9, state=AutoIncidentState.DRAFT,
                                title="zh1.single unavailable", body="Our monitoring reports a problem.",
                                components={w.components["zh1"].public_id: "major_outage"}, down_at=timezone.now())
    return monitor


CONSOLE_SCENARIOS: dict[str, Callable] = {
    "console:monitor_new": lambda w: (reverse("console:monitor_new") + "?kind=tcp", _form(w)),
    "console:monitor_edit": lambda w: (reverse("console:monitor_edit", args=[_monitor(w).public_id]) + "?kind=tcp",
                                       _form(w, name="Shop front")),
    "console:monitor_pause": lambda w: (reverse("console:monitor_pause", args=[_monitor(w).public_id]), {}),
    "console:monitor_resume": lambda w: (reverse("console:monitor_resume", args=[_paused(w).public_id]), {}),
    "console:monitor_remove": lambda w: (reverse("console:monitor_remove", args=[_monitor(w).public_id]), {}),
    "console:monitor_publish_draft": lambda w: (reverse("console:monitor_publish_draft",
                                                        args=[_drafted(w).public_id]), {}),
}

API_SCENARIOS: dict[str, Callable] = {
    "POST /monitors": lambda w: ({}, {"name": "Mail relay", "kind": "tcp", "target": "127.0.0.1:25",
                                      "components": ["zh1.single"]}),
    "PATCH /monitors/{monitor_id}": lambda w: ({"monitor_id": _monitor(w).public_id}, {"interval": 30}),
    "DELETE /monitors/{monitor_id}": lambda w: ({"monitor_id": _monitor(w).public_id}, None),
    "POST /monitors/{monitor_id}/pause": lambda w: ({"monitor_id": _monitor(w).public_id}, None),
    "POST /monitors/{monitor_id}/resume": lambda w: ({"monitor_id": _paused(w).public_id}, None),
}
