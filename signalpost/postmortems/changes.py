"""The events postmortems record, inside the transaction of their change:
postmortem.published, postmortem.unpublished, postmortem.changed (a published one edited, or the
kinds its action items are grouped under), and reliability.changed (the public report's switch)."""

from collections.abc import Iterable

from signalpost.events.record import record as record_event

from .models import Postmortem, State


def record_postmortem(kind: str, postmortem: Postmortem) -> None:
    incidents = list(postmortem.incidents.values_list("public_id", flat=True))
    record_event(kind, f"postmortem:{postmortem.public_id}", notify=kind == "postmortem.published", data={
        "postmortem": postmortem.public_id, "title": postmortem.title, "incidents": incidents,
    })


def record_published_changed(postmortems: Iterable[Postmortem]) -> None:
    """Published postmortems whose pages change (edited, or their action items' kinds renamed)."""
    for postmortem in postmortems:
        if postmortem.status == State.PUBLISHED:
            record_postmortem("postmortem.changed", postmortem)


def record_report_changed(before: dict, after: dict) -> None:
    record_event("reliability.changed", "reliability", data={"before": before, "after": after})
