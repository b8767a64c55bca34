"""The incident, maintenance, message-template, component and page-settings screens' entries for
tests/test_audit_coverage.py: console route -> (world) -> (URL, form data), a valid submission that
changes something and records exactly one audit entry naming the signed-in owner."""

from collections.abc import Callable

from django.urls import reverse

SCENARIOS: dict[str, Callable] = {
    "console:incident_new": lambda w: (reverse("console:incident_new"), {
        "name": "Slow API", "status": "investigating", "impact": "minor", "body": "Requests are slow.",
        f"component_{w.components['de2'].public_id}": "degraded_performance"}),
    "console:incident_backfill": lambda w: (reverse("console:incident_backfill"), {
        "name": "Mail delays", "impact": "minor", "started_at": "2026-01-10T10:00", "resolved_at": "2026-01-10T11:00",
        "time_zone": "UTC", "body": "Mail was delayed.", "resolution_body": "Resolved."}),
    "console:incident_update": lambda w: (reverse("console:incident_update", args=[w.incident.public_id]), {
        "status": "identified", "impact": "major", "body": "A failed switch.", "reopen": "False",
        f"component_{w.components['zh1'].public_id}": "major_outage"}),
    "console:incident_resolve": lambda w: (reverse("console:incident_resolve", args=[w.incident.public_id]), {}),
    "console:incident_edit": lambda w: (reverse("console:incident_edit", args=[w.incident.public_id]), {
        "edit-name": "Volumes unreachable in ZH1 and ZH2", "edit-impact": "critical"}),
    "console:update_edit": lambda w: (reverse("console:update_edit", args=[w.objects["update"].public_id]), {
        "body": "We are investigating errors on ZH1."}),
    "console:maintenance_new": lambda w: (reverse("console:maintenance_new"), {
        "name": "Network upgrade", "scheduled_for": "2030-01-10T22:00", "scheduled_until": "2030-01-11T01:00",
        "time_zone": "Europe/Zurich", "components": [w.components["zh2"].public_id], "body": "Upgrading."}),
    "console:maintenance_update": lambda w: (reverse("console:maintenance_update", args=[w.maintenance.public_id]), {
        "status": "scheduled", "time_zone": "UTC", "body": "Moved to a quieter hour."}),
    "console:maintenance_start": lambda w: (reverse("console:maintenance_start", args=[w.maintenance.public_id]), {}),
    "console:maintenance_cancel": lambda w: (reverse("console:maintenance_cancel", args=[w.maintenance.public_id]), {}),
    "console:maintenance_impact": lambda w: (reverse("console:maintenance_impact", args=[w.maintenance.public_id]), {
        "impact-impact": "major", "impact-impact_started_at": "2026-01-10T10:00", "impact-time_zone": "UTC"}),
    "console:maintenance_reminders": lambda w: (reverse("console:maintenance_reminders",
                                                        args=[w.maintenance.public_id]), {"reminders-reminders": "2h"}),
    "console:maintenance_complete": lambda w: (reverse("console:maintenance_complete", args=[w.maintenance.public_id]), {}),
    "console:template_new": lambda w: (reverse("console:template_new"), {
        "name": "Provider problem", "kind": "incident", "status": "identified", "body": "Our provider has a problem."}),
    "console:template_edit": lambda w: (reverse("console:template_edit", args=[w.objects["template"].pk]), {
        "name": w.objects["template"].name, "kind": w.objects["template"].kind,
        "status": w.objects["template"].status, "body": "New words."}),
    "console:template_delete": lambda w: (reverse("console:template_delete", args=[w.objects["template"].pk]), {}),
    "console:event_retry": lambda w: (reverse("console:event_retry", args=[w.objects["handling"].pk]), {}),

    "console:component_new": lambda w: (reverse("console:component_new"), {
        "name": "zh3.cluster", "group": w.components["zh1"].group.public_id}),
    "console:components_reorder": lambda w: (reverse("console:components_reorder"), {
        "group": w.objects["group"].public_id,
        "order": [f"c:{w.components['zh2'].public_id}", f"c:{w.components['zh1'].public_id}"]}),
    "console:components_move": lambda w: (reverse("console:components_move"), {
        "item": f"c:{w.components['mail'].public_id}", "direction": "up"}),
    "console:component_edit": lambda w: (reverse("console:component_edit", args=[w.objects["component"].public_id]), {
        "edit-name": "zh2.cluster", "edit-group": w.objects["group"].public_id, "edit-description": "The ZH2 cluster"}),
    "console:component_visibility": lambda w: (
        reverse("console:component_visibility", args=[w.objects["component"].public_id]), {"hidden": "1"}),
    "console:component_override": lambda w: (
        reverse("console:component_override", args=[w.components["de2"].public_id]),
        {"override-status": "partial_outage", "override-reason": "Power work"}),
    "console:component_override_clear": lambda w: (
        reverse("console:component_override_clear", args=[w.components["mail"].public_id]), {}),
    "console:group_new": lambda w: (reverse("console:group_new"), {"name": "France"}),
    "console:component_remove": lambda w: (reverse("console:component_remove", args=[w.components["de2"].public_id]), {}),
    "console:group_remove": lambda w: (reverse("console:group_remove", args=[
        w.setup("POST", "/groups", {"name": "Empty"})["id"]]), {}),
    "console:group_edit": lambda w: (reverse("console:group_edit", args=[w.objects["group"].public_id]),
                                     {"edit-name": "Schweiz"}),
    "console:group_visibility": lambda w: (
        reverse("console:group_visibility", args=[w.objects["group"].public_id]), {"hidden": "1"}),
    "console:settings": lambda w: (reverse("console:settings"), {
        "name": "Example Status (renamed)", "url": "https://status.example.com", "time_zone": "Europe/Zurich"}),
}
