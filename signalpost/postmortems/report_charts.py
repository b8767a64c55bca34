"""The reliability report's charts as inline SVG, drawn on the server: no script, no library.

Each chart is an <svg role="img"> named by its <title> and summed up by its <desc>; the page puts a
table with the same numbers beside it, for screen readers and for anyone who wants the exact figures.
Colours come from CSS classes (a Content-Security-Policy forbids style attributes), and series differ by
more than colour: a median is a solid line with round points, a worst a dashed line with square ones.
"""

import math
from dataclasses import dataclass
from datetime import timedelta
from typing import TYPE_CHECKING

from django.utils.html import escape, format_html
from django.utils.safestring import SafeString, mark_safe

from signalpost.presentation.times import duration_text

if TYPE_CHECKING:
    from .report import Report

WIDTH, HEIGHT = 640, 260
LEFT, RIGHT, TOP, BOTTOM = 52, 12, 34, 40  # room for the axes' labels; the legend above the plot


def nice_ceiling(value: float, ticks: int = 4, whole: bool = False) -> tuple[float, float]:
    """(top of the axis, step between gridlines): a round step (1, 2, 2.5 or 5 × 10ⁿ) giving at most
    `ticks` steps up to at least `value`; a whole step for counts."""
    if value <= 0:
        return 1.0, 1.0  # an empty chart still has an axis
    rough = value / ticks
    magnitude = 10 ** math.floor(math.log10(rough))
    for factor in (1, 2, 2.5, 5, 10):
        step = factor * magnitude
        if step * ticks >= value and not (whole and step != int(step)):
            break
    if whole:
        step = max(1, int(step))
    return step * math.ceil(value / step), step


def _number(value: float) -> str:
    return f"{value:.1f}".rstrip("0").rstrip(".") if value != int(value) else str(int(value))


def _frame(chart_id: str, title: str, desc: str, body: list[str], css_class: str) -> SafeString:
    head = format_html(
        '<svg class="chart {}" role="img" viewBox="0 0 {} {}" aria-labelledby="{}-title {}-desc" '
        'xmlns="http://www.w3.org/2000/svg"><title id="{}-title">{}</title><desc id="{}-desc">{}</desc>',
        css_class, WIDTH, HEIGHT, chart_id, chart_id, chart_id, title, chart_id, desc)
    return mark_safe(head + "".join(body) + "</svg>")


def _axes(top: float, step: float, unit: str, labels: list[str]) -> tuple[list[str], float]:
    """Gridlines with their values on the left, the category labels underneath; returns the parts and
    the width of one category."""
    plot_w, plot_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM
    parts = []
    count = round(top / step)
    for n in range(count + 1):
        y = TOP + plot_h - plot_h * (n * step) / top
        parts.append(f'<line class="chart__grid" x1="{LEFT}" x2="{WIDTH - RIGHT}" y1="{y:.1f}" y2="{y:.1f}"/>')
        parts.append(f'<text class="chart__tick" x="{LEFT - 6}" y="{y + 4:.1f}" text-anchor="end">'
                     f'{escape(_number(n * step))}</text>')
    parts.append(f'<text class="chart__unit" x="4" y="{TOP - 10}">{escape(unit)}</text>')
    band = plot_w / max(1, len(labels))
    every = 1 if len(labels) <= 14 else math.ceil(len(labels) / 12)  # keep month names from colliding
    for index, label in enumerate(labels):
        if index % every:
            continue
        x = LEFT + band * index + band / 2
        parts.append(f'<text class="chart__label" x="{x:.1f}" y="{HEIGHT - BOTTOM + 16}" text-anchor="middle">'
                     f'{escape(label)}</text>')
    return parts, band


def _sublabels(labels: list[str], years: list[str]) -> list[str]:
    """The year under the first month and under each January."""
    parts = []
    band = (WIDTH - LEFT - RIGHT) / max(1, len(labels))
    previous = None
    for index, year in enumerate(years):
        if year != previous:
            x = LEFT + band * index + band / 2
            parts.append(f'<text class="chart__label chart__label--year" x="{x:.1f}" y="{HEIGHT - BOTTOM + 31}" '
                         f'text-anchor="middle">{escape(year)}</text>')
            previous = year
    return parts


def bar_chart(chart_id: str, title: str, desc: str, labels: list[str], values: list[float], *,
              unit: str = "", years: list[str] | None = None, whole: bool = True) -> SafeString:
    """One bar per category (a month), its value written above it."""
    top, step = nice_ceiling(max(values, default=0), whole=whole)
    parts, band = _axes(top, step, unit, labels)
    plot_h = HEIGHT - TOP - BOTTOM
    for index, value in enumerate(values):
        height = plot_h * value / top
        x = LEFT + band * index + band * 0.15
        y = TOP + plot_h - height
        parts.append(f'<rect class="chart__bar" x="{x:.1f}" y="{y:.1f}" width="{band * 0.7:.1f}" '
                     f'height="{height:.1f}"/>')
        if value:
            parts.append(f'<text class="chart__value" x="{x + band * 0.35:.1f}" y="{y - 3:.1f}" '
                         f'text-anchor="middle">{escape(_number(value))}</text>')
    parts += _sublabels(labels, years or [])
    return _frame(chart_id, title, desc, parts, "chart--bars")


@dataclass
class Series:
    name: str
    values: list[float | None]  # None: nothing to show that month (a gap in the line)
    css_class: str  # "median" or "worst": line style and point shape
    square: bool = False


def line_chart(chart_id: str, title: str, desc: str, labels: list[str], series: list[Series], *,
               unit: str = "", years: list[str] | None = None) -> SafeString:
    """Lines over categories, with a point at each known value and a legend naming each line."""
    known = [v for s in series for v in s.values if v is not None]
    top, step = nice_ceiling(max(known, default=0))
    parts, band = _axes(top, step, unit, labels)
    plot_h = HEIGHT - TOP - BOTTOM
    for line in series:
        points = []
        runs: list[list[tuple[float, float]]] = [[]]
        for index, value in enumerate(line.values):
            if value is None:
                runs.append([])
                continue
            x = LEFT + band * index + band / 2
            y = TOP + plot_h - plot_h * value / top
            runs[-1].append((x, y))
            points.append((x, y))
        for run in runs:
            if len(run) > 1:
                path = " ".join(f"{x:.1f},{y:.1f}" for x, y in run)
                parts.append(f'<polyline class="chart__line chart__line--{line.css_class}" points="{path}"/>')
        for x, y in points:
            if line.square:
                parts.append(f'<rect class="chart__point chart__point--{line.css_class}" x="{x - 4:.1f}" '
                             f'y="{y - 4:.1f}" width="8" height="8"/>')
            else:
                parts.append(f'<circle class="chart__point chart__point--{line.css_class}" cx="{x:.1f}" '
                             f'cy="{y:.1f}" r="4"/>')
    # The legend, above the plot on the right: each line's own stroke and point beside its name.
    x, legend_y = WIDTH - RIGHT - 150 * len(series), 12
    for line in series:
        parts.append(f'<line class="chart__line chart__line--{line.css_class}" x1="{x}" x2="{x + 24}" '
                     f'y1="{legend_y}" y2="{legend_y}"/>')
        if line.square:
            parts.append(f'<rect class="chart__point chart__point--{line.css_class}" x="{x + 8}" y="{legend_y - 4}" '
                         'width="8" height="8"/>')
        else:
            parts.append(f'<circle class="chart__point chart__point--{line.css_class}" cx="{x + 12}" cy="{legend_y}" '
                         'r="4"/>')
        parts.append(f'<text class="chart__legend" x="{x + 30}" y="{legend_y + 4}">{escape(line.name)}</text>')
        x += 150
    parts += _sublabels(labels, years or [])
    return _frame(chart_id, title, desc, parts, "chart--lines")


def stacked_bars(chart_id: str, title: str, desc: str, labels: list[str], major: list[float],
                 partial: list[float], *, unit: str = "") -> SafeString:
    """Horizontal bars, one per component: major outage first (solid), then partial outage (hatched)."""
    row_h, label_w, gap, pad = 24, 190, 6, 10
    height = pad + row_h * max(1, len(labels)) + 34
    top, step = nice_ceiling(max((a + b for a, b in zip(major, partial, strict=True)), default=0))
    plot_w = WIDTH - label_w - RIGHT
    parts = [(f'<defs><pattern id="{escape(chart_id)}-hatch" class="chart__hatch" patternUnits="userSpaceOnUse" width="6" height="6" '
             'patternTransform="rotate(45)"><rect class="chart__hatch-bg" width="6" height="6"/>'
             '<line class="chart__hatch-line" x1="0" y1="0" x2="0" y2="6"/></pattern></defs>')]
    count = round(top / step)
    for n in range(count + 1):
        x = label_w + plot_w * (n * step) / top
        parts.append(f'<line class="chart__grid" x1="{x:.1f}" x2="{x:.1f}" y1="{pad}" y2="{height - 30}"/>')
        parts.append(f'<text class="chart__tick" x="{x:.1f}" y="{height - 16}" text-anchor="middle">'
                     f'{escape(_number(n * step))}</text>')
    parts.append(f'<text class="chart__unit" x="{WIDTH - RIGHT}" y="{height - 2}" text-anchor="end">{escape(unit)}</text>')
    for index, label in enumerate(labels):
        y = pad + row_h * index
        short = label if len(label) <= 28 else label[:27] + "…"
        parts.append(f'<text class="chart__label" x="{label_w - 8}" y="{y + row_h / 2 + 4:.1f}" text-anchor="end">'
                     f'{escape(short)}</text>')
        major_w = plot_w * major[index] / top
        partial_w = plot_w * partial[index] / top
        if major_w:
            parts.append(f'<rect class="chart__bar chart__bar--major" x="{label_w}" y="{y + gap / 2}" '
                         f'width="{major_w:.1f}" height="{row_h - gap}"/>')
        if partial_w:
            parts.append(f'<rect class="chart__bar chart__bar--partial" x="{label_w + major_w:.1f}" y="{y + gap / 2}" '
                         f'width="{partial_w:.1f}" height="{row_h - gap}" fill="url(#{escape(chart_id)}-hatch)"/>')
    svg = _frame(chart_id, title, desc, parts, "chart--stacked")
    # A taller picture than the others: as many rows as components.
    return mark_safe(svg.replace(f'viewBox="0 0 {WIDTH} {HEIGHT}"', f'viewBox="0 0 {WIDTH} {height}"', 1))


# --- the reliability report's charts --------------------------------------------------------------------


def span_text(span: timedelta | None, empty: str = "—") -> str:
    """A downtime, where nothing at all must read differently from a few seconds: "none" for zero."""
    if span is None:
        return empty
    if span <= timedelta(0):
        return "none"
    return duration_text(span)


def _unit(durations: list[timedelta]) -> tuple[str, float]:
    """The unit a duration axis reads best in: minutes for short ones, hours, then days."""
    longest = max((d.total_seconds() for d in durations), default=0)
    if longest < 3 * 3600:
        return "minutes", 60.0
    if longest < 3 * 86400:
        return "hours", 3600.0
    return "days", 86400.0


def _in(value: timedelta | None, per: float) -> float | None:
    return None if value is None else round(value.total_seconds() / per, 2)


def report_charts(built: "Report") -> dict:
    """The four charts of a built report (postmortems.report.build), each with its description."""
    labels = [m.short_label for m in built.months]
    years = [str(m.year) for m in built.months]
    period = f"{built.months[0].label} to {built.months[-1].label}"
    counts = [c.incidents for c in built.counts]
    busiest = max(built.counts, key=lambda c: c.incidents)
    incidents_chart = bar_chart(
        "chart-incidents", "Incidents per month",
        f"{built.incidents} incidents from {period}"
        + (f"; the most in {busiest.month.label} ({busiest.incidents})." if built.incidents else "."),
        labels, counts, unit="incidents", years=years)

    down = built.downtime
    rows = [c for c in down.components if c.total] or down.components[:0]
    unit, per = _unit([c.total for c in rows])
    downtime_chart = stacked_bars(
        "chart-downtime", "Downtime per component",
        f"Time in major outage and in partial outage per component, {period}, in {unit}: "
        + ("; ".join(f"{c.label} {span_text(c.major)} major, {span_text(c.partial)} partial" for c in rows)
           or "no downtime") + ".",
        [c.label for c in rows], [_in(c.major, per) or 0 for c in rows], [_in(c.partial, per) or 0 for c in rows],
        unit=unit)

    def times_chart(chart_id: str, title: str, attr: str) -> str:
        spreads = [getattr(t, attr) for t in built.times]
        unit, per = _unit([s.worst for s in spreads if s.worst is not None])
        known = [f"{t.month.label}: median {duration_text(s.median)}, worst {duration_text(s.worst)}"
                 for t, s in zip(built.times, spreads, strict=True) if s.count]
        return line_chart(
            chart_id, title, f"Median and worst per month, in {unit}. " + ("; ".join(known) or "No data.") + ".",
            labels, [Series("Median", [_in(s.median, per) for s in spreads], "median"),
                     Series("Worst", [_in(s.worst, per) for s in spreads], "worst", square=True)],
            unit=unit, years=years)

    return {
        "incidents": incidents_chart, "downtime": downtime_chart, "downtime_rows": rows,
        "detect": times_chart("chart-detect", "Time to detect", "detect"),
        "resolve": times_chart("chart-resolve", "Time to resolve", "resolve"),
    }
