"""The public reliability report in a real browser, as readers get it from the snapshot: no serious or
critical axe-core violation in the light theme on a laptop and the dark one on a phone, and nothing the
Content-Security-Policy refuses (its charts are inline SVG coloured by the stylesheet alone)."""

from datetime import UTC, datetime, timedelta

import pytest

from signalpost.accounts import audit
from signalpost.postmortems import public_report
from tests.e2e.axe import (
    AXE_CONTEXT,
    BLOCKING,
    LOOKS,
    axe_violations,
    describe,
    require_axe,
)

pytestmark = pytest.mark.browser


def iso(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


@pytest.fixture
def report_site(site):
    api, now = site.api, datetime.now(UTC).replace(microsecond=0)
    api.patch("/api/v1/page", {"name": "Example Status", "time_zone": "Europe/Zurich"})
    api.post("/api/v1/groups", {"name": "Switzerland"})
    for name in ("zh1.single", "zh2.cluster"):
        api.post("/api/v1/components", {"name": name, "group": "Switzerland"})
    for days, name, status in [(40, "Volumes unreachable in ZH1", "major_outage"),
                               (3, "Slow cluster in ZH2", "partial_outage")]:
        component = "Switzerland/zh1.single" if status == "major_outage" else "Switzerland/zh2.cluster"
        api.post("/api/v1/incidents", {
            "name": name, "impact": "major", "body": "Investigating.", "components": {component: status},
            "started_at": iso(now - timedelta(days=days, hours=2)), "resolved_at": iso(now - timedelta(days=days)),
            "resolution_body": "Resolved."})
    with audit.acting(audit.SYSTEM):
        public_report.set_public_report(public=True, months=12)
    site.wait_for_text("/reliability", "Downtime per component", "Slow cluster in ZH2")
    return site


def test_the_public_report_passes_axe_and_the_content_security_policy(report_site, browser):
    require_axe()
    url = report_site.url + "/reliability"
    for look, options in LOOKS.items():
        context = browser.new_context(**AXE_CONTEXT, **options)
        tab = context.new_page()
        response = tab.goto(url, wait_until="load")
        assert response is not None and response.status == 200
        assert tab.locator("svg.chart").count() == 4
        blocking = [v for v in axe_violations(tab) if v["impact"] in BLOCKING]
        assert not blocking, f"/reliability ({look}):\n{describe(blocking)}"
        context.close()

    # The policy enforced, as readers have it: nothing refused.
    context = browser.new_context()
    tab = context.new_page()
    refused = []
    tab.on("console", lambda message: refused.append(message.text) if message.type == "error" else None)
    tab.goto(url, wait_until="load")
    bar = tab.locator("svg.chart--bars rect.chart__bar").first
    assert bar.evaluate("el => getComputedStyle(el).fill") not in ("", "none", "rgb(0, 0, 0)")  # from the stylesheet
    assert refused == []
    context.close()
