"""A postmortem's content as one JSON document (what each version keeps), and the readable difference
between two versions: a unified diff per part of the document, only for the parts that changed."""

import difflib
from dataclasses import dataclass
from datetime import datetime
from datetime import timezone as dt_timezone

from .models import SECTIONS, ActionItem, Postmortem, PostmortemVersion

UTC = dt_timezone.utc
DETAIL_FIELDS = ["title", "template", "timeline_zone", "first_signal_at", "detected_at", "acknowledged_at"]


def _iso(moment: datetime | None) -> str | None:
    return None if moment is None else moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def document(postmortem: Postmortem) -> dict:
    """Everything the author wrote, as plain JSON (times as UTC ISO-8601)."""
    content = {
        "title": postmortem.title,
        "template": postmortem.template,
        "timeline_zone": postmortem.timeline_zone,
        "first_signal_at": _iso(postmortem.first_signal_at),
        "detected_at": _iso(postmortem.detected_at),
        "acknowledged_at": _iso(postmortem.acknowledged_at),
        "incidents": sorted(postmortem.incidents.values_list("public_id", flat=True)),
        "root_cause_unknown": postmortem.root_cause_unknown,
    }
    for section in SECTIONS:
        content[section.field] = getattr(postmortem, section.field)
    content["figures"] = [{"label": f.label, "value": f.value} for f in postmortem.figures.all()]
    content["timeline"] = [
        {"id": e.public_id, "at": e.on.isoformat() if e.on else _iso(e.at), "text": e.text, "source": e.source}
        for e in postmortem.readable_timeline()
    ]
    content["action_items"] = [
        {"id": i.public_id, "title": i.title, "kind": i.kind.name, "owner": i.owner,
         "due_date": i.due_date.isoformat() if i.due_date else None, "state": i.state, "link": i.link,
         "description": i.description}
        for i in postmortem.action_items.select_related("kind").order_by("kind__position", "position", "id")
    ]
    return content


@dataclass(frozen=True)
class PartDiff:
    part: str  # "summary", "timeline", ...
    title: str  # "Summary", "Timeline", ...
    diff: str  # a unified diff


def _lines(text: str) -> list[str]:
    return (text or "").splitlines()


def _indented(text: str) -> list[str]:
    return ["    " + line for line in _lines(text)]


STATE_LABELS = dict(ActionItem.State.choices)


def parts(content: dict) -> list[tuple[str, str, list[str]]]:
    """The document as (part, title, lines) in reading order: what a diff compares."""
    details = [f"{name}: {content.get(name) if content.get(name) is not None else '—'}" for name in DETAIL_FIELDS]
    details.append(f"incidents: {', '.join(content.get('incidents', [])) or '—'}")
    result = [("details", "Details", details)]
    for section in SECTIONS:
        lines = _lines(content.get(section.field, ""))
        if section.field == "root_cause" and content.get("root_cause_unknown"):
            lines = ["[Root cause unknown]", *lines]
        result.append((section.field, section.title, lines))
        if section.field == "impact":
            result.append(("figures", "Impact figures",
                           [f"{f['label']}: {f['value']}" for f in content.get("figures", [])]))
        if section.field == "timeline_intro":
            timeline = []
            for entry in content.get("timeline", []):
                first, *rest = _lines(entry["text"]) or [""]
                timeline.append(f"{entry['at']}  {first}")
                timeline += ["    " + line for line in rest]
            result.append(("timeline", "Timeline entries", timeline))
        if section.field == "actions_intro":
            items = []
            for item in content.get("action_items", []):
                facts = [item["kind"], f"owner {item['owner']}" if item["owner"] else "no owner",
                         f"due {item['due_date']}" if item["due_date"] else "no due date"]
                if item["link"]:
                    facts.append(item["link"])
                items.append(f"[{STATE_LABELS.get(item['state'], item['state'])}] {item['title']} ({'; '.join(facts)})")
                items += _indented(item["description"])
            result.append(("action_items", "Action items (list)", items))
    return result


def diff_contents(old: dict, new: dict, old_name: str, new_name: str) -> list[PartDiff]:
    changed = []
    for (part, title, before), (_, _, after) in zip(parts(old), parts(new), strict=True):
        if before == after:
            continue
        lines = difflib.unified_diff(before, after, fromfile=f"{old_name}: {title}", tofile=f"{new_name}: {title}",
                                     lineterm="")
        changed.append(PartDiff(part, title, "\n".join(lines)))
    return changed


def diff_versions(a: PostmortemVersion, b: PostmortemVersion) -> list[PartDiff]:
    """What changed from version a to version b, part by part (empty when nothing did)."""
    return diff_contents(a.content, b.content, f"version {a.number}", f"version {b.number}")
