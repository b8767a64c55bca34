"""The Markdown export: the whole document, in the page's order and the document's zone, as clean
Markdown a team pastes into its wiki (and that any Markdown renderer shows as the page does)."""

from datetime import date, datetime
from datetime import timezone as dt_timezone

from signalpost.postmortems import services
from signalpost.postmortems.export import to_markdown
from signalpost.presentation.markdown import render_markdown
from signalpost.status import services as status

UTC = dt_timezone.utc


def test_it_exports_the_whole_document(components):
    incident = status.backfill_incident(
        name="Mail delays", started_at=datetime(2025, 2, 3, 16, 5, tzinfo=UTC),
        resolved_at=datetime(2025, 2, 3, 17, 50, tzinfo=UTC), components={components["mail"]: "degraded_performance"})
    pm = services.create_postmortem(
        incidents=[incident], title="Mail delays", template="Downtime report", timeline_zone="America/New_York",
        prefill=False, summary="Mail was late.", impact="Sign-up mails arrived up to 2 hours late.",
        timeline_intro="We first restored sign-up mail.", recovery="Queues were drained.",
        root_cause="Not known yet; the provider is investigating.", root_cause_unknown=True,
        contributing_factors="- One provider only", went_well="Alerts fired at once.", went_badly="Slow escalation.",
        actions_intro="Two groups.", closing="Sorry for the delay.",
        first_signal_at=datetime(2025, 2, 3, 16, 0, tzinfo=UTC))
    services.set_figures(pm, [("Mails | delayed", "12,400"), ("Longest delay", "2 h")])
    services.set_timeline(pm, [
        {"at": datetime(2025, 2, 3, 16, 5, tzinfo=UTC), "text": "Queue alert.\n\nSecond paragraph."},
        {"at": datetime(2025, 2, 3, 17, 50, tzinfo=UTC), "text": "Queue empty."},
    ])
    services.add_action_item(pm, title="Second mail provider", kind="Mitigation", owner="Platform",
                             due_date=date(2025, 4, 30), link="https://tracker.example.com/PL-3",
                             description="Fail over automatically.\n\n- within 5 minutes")
    services.add_action_item(pm, title="Page on queue age", kind="Detection", state="done")

    markdown = to_markdown(pm)
    assert markdown == """# Mail delays

Downtime report

Covers: [Mail delays](https://status.example.com/incidents/{id}) (incident)

## Summary

Mail was late.

## Impact

Sign-up mails arrived up to 2 hours late.

| Figure | Value |
| --- | --- |
| Mails \\| delayed | 12,400 |
| Longest delay | 2 h |

## In numbers

- **Duration:** 1 hour 45 minutes (Feb 3, 2025 11:05 EST → Feb 3, 2025 12:50 EST)
- **Time to detect:** 5 minutes (first signal Feb 3, 2025 11:00 EST)
- **Time to resolve:** 1 hour 45 minutes
- **Components affected:** Mail delivery

## Timeline

We first restored sign-up mail.

All times EST.

### Monday, February 3, 2025

- **11:05** Queue alert.

  Second paragraph.

- **12:50** Queue empty.

## Recovery

Queues were drained.

## Root cause

**Root cause unknown.**

Not known yet; the provider is investigating.

## Contributing factors

- One provider only

## What went well

Alerts fired at once.

## What went badly

Slow escalation.

## Action items

Two groups.

### Detection

- **Page on queue age** (Done)

### Mitigation

- **Second mail provider** (Open · owner: Platform · due Apr 30, 2025 · <https://tracker.example.com/PL-3>)

  Fail over automatically.

  - within 5 minutes

## Closing words

Sorry for the delay.
""".replace("{id}", incident.public_id)
    # Rendered again, the entry keeps its two paragraphs inside its item and the table its pipe.
    html = render_markdown(markdown)
    assert "<li>\n<p><strong>11:05</strong> Queue alert.</p>\n<p>Second paragraph.</p>\n</li>" in html
    assert "<td>Mails | delayed</td>" in html
