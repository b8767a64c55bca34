"""The subscribers, deliveries, team-alert and e-mail template screens' entries for tests/test_audit_coverage.py: console
route -> (world) -> (URL, form data), a valid submission that records exactly one audit entry naming the
signed-in owner; and the API's: "METHOD /path" -> (world) -> (path parameters, body)."""

from collections.abc import Callable

from django.urls import reverse


def _team_test(w):
    """A test message to a receiver that is not there: it fails, and is recorded all the same."""
    return reverse("console:team_channel_test", args=[w.objects["team_channel"].pk]), {}


CONSOLE_SCENARIOS: dict[str, Callable] = {
    "console:subscriber_new": lambda w: (reverse("console:subscriber_new"), {
        "channel": "email", "address": "new.reader@example.com", "confirmed": "on"}),
    "console:subscriber_import": lambda w: (reverse("console:subscriber_import"), {
        "text": "channel,address\nemail,a@example.com\nemail,b@example.com\n", "import": "1"}),
    "console:subscriber_remove": lambda w: (reverse("console:subscriber_remove",
                                                    args=[w.objects["subscriber"].public_id]), {}),
    "console:subscriber_resume": lambda w: (reverse("console:subscriber_resume",
                                                    args=[w.objects["subscriber"].public_id]), {}),
    "console:deliveries_retry": lambda w: (reverse("console:deliveries_retry"), {}),
    "console:delivery_retry": lambda w: (reverse("console:delivery_retry", args=[w.objects["delivery"].pk]), {}),
    "console:team_channel_new": lambda w: (reverse("console:team_channel_new"), {
        "name": "Ops receiver", "url": "json://127.0.0.1:9/alerts", "kinds": ["delivery.failed"]}),
    "console:team_channel_test": _team_test,
    "console:team_channel_kinds": lambda w: (reverse("console:team_channel_kinds", args=[w.objects["team_channel"].pk]), {
        f"channel-{w.objects['team_channel'].pk}-kinds": ["delivery.failed", "monitor.state_changed"]}),
    "console:team_channel_remove": lambda w: (reverse("console:team_channel_remove",
                                                      args=[w.objects["team_channel"].pk]), {}),
    "console:email_template": lambda w: (reverse("console:email_template", args=["maintenance"]), {
        "subject": "[{{ page }}] Maintenance: {{ name }}", "text": "", "html": ""}),
    "console:email_template_reset": lambda w: (reverse("console:email_template_reset", args=["incident"]), {}),
}

CSV = "text/csv"

API_SCENARIOS: dict[str, Callable] = {
    "POST /subscribers": lambda w: ({}, {"channel": "email", "address": "script@example.com", "confirmed": True}),
    "POST /subscribers/import": lambda w: ({}, (b"channel,address\nemail,c@example.com\n", CSV)),
    "DELETE /subscribers/{subscriber_id}": lambda w: ({"subscriber_id": w.objects["subscriber"].public_id}, None),
    "POST /subscribers/{subscriber_id}/resume": lambda w: ({"subscriber_id": w.objects["subscriber"].public_id}, None),
    "POST /deliveries/{delivery_id}/retry": lambda w: ({"delivery_id": w.objects["delivery"].key}, None),
}
