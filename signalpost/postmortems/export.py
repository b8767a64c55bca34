"""The whole postmortem as clean Markdown: what /postmortems/<id>.md serves, and what a team pastes into
its wiki or tracker. The same parts, in the same order and the same zone, as the public page."""

from django.conf import settings

from signalpost.presentation.times import duration_text, local_text
from signalpost.status import services as status_services

from .models import ROOT_CAUSE_UNKNOWN, SECTION_TITLES, Postmortem
from .reading import DocumentView, build


def _base_url() -> str:
    return (status_services.get_page().url or settings.SITE_URL).rstrip("/")


def _cell(text: str) -> str:
    return " ".join(text.split()).replace("|", "\\|")


def _indent(text: str, by: str = "  ") -> str:
    return "\n".join(by + line if line.strip() else "" for line in text.splitlines())


def _bullet(first: str, rest: str = "") -> str:
    lines = first.strip().splitlines() or [""]
    body = "- " + lines[0] + ("\n" + _indent("\n".join(lines[1:])) if len(lines) > 1 else "")
    if rest.strip():
        body += "\n\n" + _indent(rest.strip())
    return body


def figure_lines(view: DocumentView) -> list[str]:
    """The computed figures as Markdown list items; also what the page's "In numbers" says."""
    f, m = view.figures, view.moments
    lines = []
    if f.total_duration is not None:
        lines.append(f"- **Duration:** {duration_text(f.total_duration)} "
                     f"({m['started_at'].text} → {m['ended_at'].text})")
    elif f.started_at is not None:
        lines.append(f"- **Began:** {m['started_at'].text} (not over yet)")
    if f.time_to_detect is not None:
        lines.append(f"- **Time to detect:** {duration_text(f.time_to_detect)} "
                     f"(first signal {m['first_signal_at'].text})")
    if f.time_to_acknowledge is not None:
        lines.append(f"- **Time to acknowledge:** {duration_text(f.time_to_acknowledge)}")
    if f.time_to_resolve is not None:
        lines.append(f"- **Time to resolve:** {duration_text(f.time_to_resolve)}")
    if f.groups:
        lines.append(f"- **Regions affected:** {', '.join(f.groups)}")
    if f.affected:
        lines.append(f"- **Components affected:** {f.affected}")
    return lines


def to_markdown(postmortem: Postmortem, view: DocumentView | None = None) -> str:
    view = view or build(postmortem)
    pm = view.postmortem
    base = _base_url()
    out: list[str] = [f"# {pm.title}", ""]
    meta = [view.label]
    if pm.published_at:
        meta.append(f"Published {local_text(pm.published_at, view.posted_zone or view.zone)}")
    if pm.revised_at:
        meta.append(f"Revised {local_text(pm.revised_at, view.posted_zone or view.zone)}")
    out += [" · ".join(meta), ""]
    if view.incidents:
        covers = []
        for incident in view.incidents:
            kind = "maintenance" if incident.is_maintenance else "incident"
            covers.append(f"[{incident.name}]({base}{incident.public_path}) ({kind})")
        out += [f"Covers: {', '.join(covers)}", ""]

    def section(field: str, extra: list[str] | None = None, lead: list[str] | None = None) -> None:
        text = getattr(pm, field).strip()
        if not (text or extra or lead):
            return
        out.extend([f"## {SECTION_TITLES[field]}", ""])
        if lead:
            out.extend([*lead, ""])
        if text:
            out.extend([text, ""])
        if extra:
            out.extend([*extra, ""])

    section("summary")
    figures_table = []
    if view.impact_figures:
        figures_table = ["| Figure | Value |", "| --- | --- |"]
        figures_table += [f"| {_cell(f.label)} | {_cell(f.value)} |" for f in view.impact_figures]
    section("impact", figures_table)
    numbers = figure_lines(view)
    if numbers:
        out += ["## In numbers", "", *numbers, ""]

    if view.days or pm.timeline_intro.strip():
        out += ["## Timeline", ""]
        if pm.timeline_intro.strip():
            out += [pm.timeline_intro.strip(), ""]
        if view.days:
            out += [f"{view.zone_note}.", ""]
        for day in view.days:
            out += [f"### {day.title}", ""]
            for shown in day.entries:
                clock = f"**{shown.moment.clock}** " if shown.moment else ""  # a date alone: no invented time
                out += [_bullet(f"{clock}{shown.entry.text.strip()}"), ""]

    section("recovery")
    # Unknown is said plainly, first, whatever the text goes on to say about what is known.
    section("root_cause", lead=[f"**{ROOT_CAUSE_UNKNOWN}.**"] if pm.root_cause_unknown else None)
    section("contributing_factors")
    section("went_well")
    section("went_badly")

    if view.action_groups or pm.actions_intro.strip():
        out += ["## Action items", ""]
        if pm.actions_intro.strip():
            out += [pm.actions_intro.strip(), ""]
        for kind, items in view.action_groups:
            out += [f"### {kind.name}", ""]
            for shown in items:
                item = shown.item
                facts = [shown.state_label]
                if item.owner:
                    facts.append(f"owner: {item.owner}")
                if shown.due_text:
                    facts.append(f"due {shown.due_text}")
                if item.link:
                    facts.append(f"<{item.link}>")
                out += [_bullet(f"**{item.title}** ({' · '.join(facts)})", item.description), ""]
    section("closing")
    return "\n".join(out).rstrip() + "\n"
