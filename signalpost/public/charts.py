"""A watched component's response times as a small inline SVG drawn on the server: no script, no library.

The chart is an <svg role="img"> named by its <title> and summed up by its <desc> (the figures a reader
would take from it); the page writes the same figures beside it. Colours come from CSS classes (the
Content-Security-Policy forbids style attributes), and the two series differ by more than colour: p50 is
a solid line, p95 a dashed one.
"""

import math
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe

from signalpost.monitors.uptime import LatencyPoint

WIDTH, HEIGHT = 600, 150
LEFT, RIGHT, TOP, BOTTOM = 46, 8, 12, 22
HOUR = timedelta(hours=1)


def _axis_top(value: int) -> int:
    """A round top for the y axis (1, 2 or 5 × 10ⁿ ms) at or above the highest value."""
    if value <= 0:
        return 10
    magnitude = 10 ** math.floor(math.log10(value))
    for factor in (1, 2, 5, 10):
        if factor * magnitude >= value:
            return factor * magnitude
    return 10 * magnitude


def figures_text(points: list[LatencyPoint]) -> str:
    """ "p50 42 ms (latest), 35–60 ms; p95 highest 180 ms" """
    if not points:
        return "No response times were measured."
    p50s = [p.p50_ms for p in points]
    return (f"p50 {points[-1].p50_ms} ms in the latest hour, between {min(p50s)} and {max(p50s)} ms; "
            f"p95 {points[-1].p95_ms} ms in the latest hour, at most {max(p.p95_ms for p in points)} ms.")


def response_times(chart_id: str, name: str, points: list[LatencyPoint], start: datetime, end: datetime,
                   tz: ZoneInfo) -> SafeString:
    """p50 and p95 per hour over [start, end), hours on the x axis in the page's zone."""
    plot_w, plot_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM
    span = (end - start).total_seconds() or 1.0
    top = _axis_top(max((p.p95_ms for p in points), default=0))

    def x(at: datetime) -> float:
        return LEFT + plot_w * min(1.0, max(0.0, (at - start).total_seconds() / span))

    def y(ms: int) -> float:
        return TOP + plot_h - plot_h * ms / top

    title = f"Response times of {name}, last 24 hours"
    desc = "Hourly median (p50, solid line) and 95th percentile (p95, dashed line) from the monitors' checks. "
    parts = [
        f'<svg class="rt-chart" role="img" viewBox="0 0 {WIDTH} {HEIGHT}" aria-labelledby="{chart_id}-title '
        f'{chart_id}-desc" xmlns="http://www.w3.org/2000/svg">',
        f'<title id="{chart_id}-title">{escape(title)}</title>',
        f'<desc id="{chart_id}-desc">{escape(desc + figures_text(points))}</desc>',
    ]
    for value in (0, top // 2, top):
        parts.append(f'<line class="rt-chart__grid" x1="{LEFT}" x2="{WIDTH - RIGHT}" y1="{y(value):.1f}" '
                     f'y2="{y(value):.1f}"/>')
        parts.append(f'<text class="rt-chart__tick" x="{LEFT - 4}" y="{y(value) + 4:.1f}" text-anchor="end">'
                     f'{value} ms</text>')
    tick = (start.astimezone(tz) + HOUR).replace(minute=0, second=0, microsecond=0)
    while tick < end:
        if tick.hour % 6 == 0:
            parts.append(f'<text class="rt-chart__tick" x="{x(tick):.1f}" y="{HEIGHT - 6}" text-anchor="middle">'
                         f'{tick:%H:%M}</text>')
        tick += HOUR
    for series, css in (("p50_ms", "rt-chart__line--p50"), ("p95_ms", "rt-chart__line--p95")):
        # A line per run of consecutive hours: an hour without checks is a gap, not a slope.
        runs: list[list[str]] = []
        previous = None
        for point in points:
            middle = point.hour + HOUR / 2
            xy = f"{x(middle):.1f},{y(getattr(point, series)):.1f}"
            if previous is None or point.hour - previous > HOUR:
                runs.append([])
            runs[-1].append(xy)
            previous = point.hour
        for run in runs:
            if len(run) == 1:
                cx, cy = run[0].split(",")
                parts.append(f'<circle class="rt-chart__dot {css}" cx="{cx}" cy="{cy}" r="2.5"/>')
            else:
                parts.append(f'<polyline class="rt-chart__line {css}" points="{" ".join(run)}"/>')
    parts.append("</svg>")
    return mark_safe("".join(parts))
