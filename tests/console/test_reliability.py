# ruff: noqa: F811 - the fixtures of postmortem_support are imported by name
"""The reliability report against numbers worked out by hand, in the page's zone (Europe/Zurich):
months that begin at 23:00 or 22:00 UTC, an incident that crosses midnight at a month's end, one that
begins after local midnight but before UTC midnight, and one across the night the clocks go forward.

The four incidents (UTC):
  A  zh1 major    Mar 31 21:30 → 22:45  (23:30 → 00:45 CEST: crosses midnight; begins in March) 1 h 15
  B  zh2 partial  Mar 31 22:30 → 23:00  (00:30 → 01:00 CEST on April 1: begins in April)         30 min
  C  zh1 major    Mar 29 00:30 → 01:30  (01:30 CET → 03:30 CEST: two hours on the wall, one real) 1 h
  D  zh1 partial and de1 major, Apr 10 10:00 → 13:00                                                3 h
so March has A and C, April B and D. Time to resolve: March median 1 h 7½ min, worst 1 h 15; April
median 1 h 45, worst 3 h. Downtime: zh1 2 h 15 major + 3 h partial, zh2 30 min partial, de1 3 h major;
the page as a whole 5 h 15 major (A, C, D: de1 is down while zh1 is partial) and 15 min partial (B
outside the quarter-hour it overlaps A's major outage)."""

import re
from datetime import timedelta
from zoneinfo import ZoneInfo

import pytest
from django.urls import reverse

from signalpost.postmortems import report, services
from signalpost.postmortems.report_charts import nice_ceiling
from signalpost.status import services as status
from tests.console.postmortem_support import at, signed_in, team  # noqa: F401

ZURICH = ZoneInfo("Europe/Zurich")
H = timedelta(hours=1)
M = timedelta(minutes=1)


@pytest.fixture
def history(components):
    def past(name, start, end, affected):
        return status.backfill_incident(name=name, started_at=at(start), resolved_at=at(end), impact="major",
                                        body="Down.", components=affected)

    made = {
        "A": past("A: volumes", "2026-03-31 21:30", "2026-03-31 22:45", {components["zh1"]: "major_outage"}),
        "B": past("B: slow cluster", "2026-03-31 22:30", "2026-03-31 23:00", {components["zh2"]: "partial_outage"}),
        "C": past("C: the night of the clock change", "2026-03-29 00:30", "2026-03-29 01:30",
                  {components["zh1"]: "major_outage"}),
        "D": past("D: Germany down", "2026-04-10 10:00", "2026-04-10 13:00",
                  {components["zh1"]: "partial_outage", components["de1"]: "major_outage"}),
    }
    return made


def spring() -> list[report.Month]:
    return report.period((2026, 3), (2026, 4), ZURICH)


def test_months_begin_at_local_midnight_in_the_pages_zone():
    march, april = spring()
    assert (march.start, march.end) == (at("2026-02-28 23:00"), at("2026-03-31 22:00"))  # CET, then CEST
    assert (april.start, april.end) == (at("2026-03-31 22:00"), at("2026-04-30 22:00"))
    assert (march.label, april.key) == ("Mar 2026", "2026-04")


def test_the_default_period_is_the_last_twelve_months_in_the_pages_zone():
    # 23:30 UTC on New Year's Eve is already January in Zurich.
    assert report.default_period(at("2025-12-31 23:30"), ZURICH) == ((2025, 2), (2026, 1))
    assert report.default_period(at("2025-12-31 22:30"), ZURICH) == ((2025, 1), (2025, 12))


def test_incidents_count_in_the_month_they_began_locally(history):
    counts = report.incidents_per_month(spring())
    assert [(c.month.key, c.incidents) for c in counts] == [("2026-03", 2), ("2026-04", 2)]


def test_time_to_resolve_is_real_elapsed_time_median_and_worst_per_month(history):
    march, april = report.response_times(spring())
    assert (march.resolve.count, march.resolve.median, march.resolve.worst) == (2, H + 7 * M + 30 * timedelta(seconds=1), H + 15 * M)
    assert (april.resolve.count, april.resolve.median, april.resolve.worst) == (2, H + 45 * M, 3 * H)
    assert march.detect.count == april.detect.count == 0  # no postmortem states a first signal


def test_a_postmortem_gives_the_time_to_detect_and_counts_its_incidents_once(history):
    pm = services.create_postmortem(incidents=[history["D"]], title="Germany down",
                                    first_signal_at=at("2026-04-10 09:45"))
    cases = report.cases(spring())
    assert [c.title for c in cases] == ["C: the night of the clock change", "A: volumes", "B: slow cluster",
                                        "Germany down"]
    assert cases[-1].postmortem == pm
    april = report.response_times(spring(), cases)[1]
    assert (april.detect.count, april.detect.median, april.detect.worst) == (1, 15 * M, 15 * M)
    assert april.resolve.worst == 3 * H  # from detection (the start) to resolution


def test_downtime_per_component_and_for_the_page(history, components):
    march, april = spring()
    down = report.downtime(march.start, april.end)
    by_name = {c.component.name: (c.major, c.partial) for c in down.components}
    assert by_name["zh1.single"] == (2 * H + 15 * M, 3 * H)
    assert by_name["zh2.cluster"] == (timedelta(0), 30 * M)
    assert by_name["de1.compact"] == (3 * H, timedelta(0))
    assert by_name["Mail delivery"] == (timedelta(0), timedelta(0))
    assert (down.major, down.partial) == (5 * H + 15 * M, 15 * M)


def test_downtime_is_cut_at_the_period(history):
    april = spring()[1]
    down = report.downtime(april.start, april.end)
    by_name = {c.component.name: (c.major, c.partial) for c in down.components}
    # A began in March and ran 45 minutes into April (22:00 UTC is midnight in Zurich).
    assert by_name["zh1.single"] == (45 * M, 3 * H)


def test_the_page_shows_charts_with_their_numbers_in_tables(signed_in, history):
    response = signed_in("vera").get(reverse("console:reliability") + "?start=2026-03&end=2026-04")
    html = response.content.decode()
    assert response.status_code == 200
    charts = re.findall(r'<svg class="chart [^"]*" role="img"[^>]*aria-labelledby="([^" ]+)-title \1-desc"', html)
    assert charts == ["chart-incidents", "chart-downtime", "chart-detect", "chart-resolve"]
    for chart in charts:
        assert f'<title id="{chart}-title">' in html and f'<desc id="{chart}-desc">' in html
    assert " style=" not in html and "<script>" not in html
    assert re.search(r"<th scope=\"row\">Mar 2026</th><td>2</td>", html)
    assert re.search(r"<th scope=\"row\">Apr 2026</th><td>2</td>", html)
    page_row = html[html.index("The page (any component)"):]
    assert re.match(r"The page \(any component\)</th><td>5 hours 15 minutes</td><td>15 minutes</td>", page_row)
    assert "zh1.single 2 hours 15 minutes major, 3 hours partial" in html  # the chart's description
    assert "1 hour 45 minutes" in html and "3 hours" in html  # April's median and worst time to resolve


def test_the_default_report_covers_twelve_months(signed_in, history):
    html = signed_in("vera").get(reverse("console:reliability")).content.decode()
    assert len(re.findall(r'<tr><th scope="row">\w{3} \d{4}</th><td>\d+</td>', html)) == 12


@pytest.mark.parametrize(("query", "field", "message"), [
    ("?start=2026-13", "start", "must be a month such as 2026-03"),
    ("?start=2026-05&end=2026-03", "end", "is before the first month"),
    ("?start=2020-01&end=2026-03", "end", "at most 60 months"),
])
def test_a_bad_period_is_refused_beside_the_field(signed_in, db, query, field, message):
    response = signed_in("vera").get(reverse("console:reliability") + query)
    assert response.status_code == 400
    assert re.search(rf'id="id_{field}_error">[^<]*{re.escape(message)}', response.content.decode())


def test_axes_end_on_round_numbers():
    assert nice_ceiling(7) == (8, 2)
    assert nice_ceiling(47) == (60, 20)
    assert nice_ceiling(1, whole=True) == (1, 1)
    assert nice_ceiling(0) == (1.0, 1.0)


def test_an_incident_counts_in_the_month_its_customer_impact_began(signed_in, components):
    # Found and posted on April 2 (Zurich), but customers were affected from the evening of March 31.
    status.backfill_incident(name="E: late to notice", started_at=at("2026-04-02 08:00"),
                             resolved_at=at("2026-04-02 09:00"), impact="minor", body="Slow.",
                             components={components["zh2"]: "degraded_performance"},
                             impact_started_at=at("2026-03-31 19:00"), impact_ended_at=at("2026-04-02 09:00"))
    counts = report.incidents_per_month(spring())
    assert [(c.month.key, c.incidents) for c in counts] == [("2026-03", 1), ("2026-04", 0)]
    march, april = report.response_times(spring())
    assert (march.resolve.count, march.resolve.worst, april.resolve.count) == (1, 38 * H, 0)
    html = signed_in("vera").get(reverse("console:reliability") + "?start=2026-03&end=2026-03").content.decode()
    assert re.search(r"<th scope=\"row\">Mar 2026</th><td>1</td>", html)  # March alone still finds it
