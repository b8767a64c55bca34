"""The responder commands enter times known by their date alone and the customer impact window, on the
local database and through a server's API alike."""

import json
from datetime import date, datetime
from datetime import timezone as dt_timezone

import pytest

from signalpost.status import services

from .test_responder import opened_id, remote, signalpost  # noqa: F401 - fixtures

UTC = dt_timezone.utc


def test_it_backfills_an_incident_known_by_its_day_alone(signalpost, components):
    code, out, err = signalpost("incident", "backfill", "Projects offline", "--started", "2015-07-22",
                                "--resolved", "2015-07-22", "--component", "de1.compact=partial_outage")
    assert (code, err) == (0, "")
    assert "(2015-07-22 to 2015-07-22)" in out
    incident = services.find_incident(opened_id(out))
    assert (incident.started_on, incident.resolved_on) == (date(2015, 7, 22), date(2015, 7, 22))


def test_it_posts_an_update_known_by_its_day_alone_and_says_so_in_json(signalpost, components):
    code, out, _ = signalpost("incident", "open", "Mails delivery issues", "--at", "2022-06-09", "--json",
                              "--component", "Mail delivery=degraded_performance")
    assert code == 0
    assert '"display_at": "2022-06-09"' in out and '"started_at": "2022-06-09"' in out
    incident_id = json.loads(out)["id"]
    code, out, _ = signalpost("incident", "update", incident_id, "--status", "monitoring", "--at",
                              "2022-06-09T13:55:00Z", "-m", "Delays only.")
    assert code == 0


def test_it_sets_and_clears_the_customer_impact_window(signalpost, components):
    code, out, _ = signalpost("incident", "open", "503s on the proxies", "--at", "-10m",
                              "--component", "zh1.single=partial_outage")
    incident_id = opened_id(out)
    code, out, err = signalpost("incident", "edit", incident_id, "--impact-started", "-3h")
    assert (code, err) == (0, "")
    assert "customer impact" in out and " to -" in out
    incident = services.find_incident(incident_id)
    assert incident.impact_started_at is not None and incident.impact_started_at < incident.started_at

    code, out, err = signalpost("incident", "edit", incident_id, "--impact-started", "none")
    assert (code, err) == (0, "")
    assert services.find_incident(incident_id).impact_started_at is None


def test_a_bad_impact_window_is_one_line_naming_the_field(signalpost, components):
    code, out, err = signalpost("incident", "backfill", "Outage", "--started", "2025-03-01T20:00:00Z",
                                "--resolved", "2025-03-01T21:00:00Z", "--impact-started", "2025-03-01T20:30:00Z",
                                "--impact-ended", "2025-03-01T20:10:00Z")
    assert code != 0 and out == ""
    assert err.count("\n") == 1 and "impact_ended_at" in err and "before impact_started_at" in err
    code, _, err = signalpost("incident", "backfill", "Outage", "--started", "2015-02-30", "--resolved", "2015-03-01")
    assert code != 0 and "--started" in err and err.count("\n") == 1


def test_the_maintenance_takes_its_impact_window_when_scheduled(signalpost, components):
    code, out, err = signalpost("maintenance", "schedule", "Weekly maintenance", "--start", "2017-09-12T20:00:00Z",
                                "--end", "2017-09-12T22:25:00Z", "--component", "zh1.single",
                                "--impact-started", "2017-09-12T20:30:00Z", "--impact-ended", "2017-09-12T21:32:00Z")
    assert (code, err) == (0, "")
    maintenance = services.find_incident(opened_id(out))
    assert (maintenance.impact_started_at, maintenance.impact_ended_at) == (
        datetime(2017, 9, 12, 20, 30, tzinfo=UTC), datetime(2017, 9, 12, 21, 32, tzinfo=UTC))


def test_it_enters_a_date_alone_and_an_impact_window_through_a_server(signalpost, components, remote):
    code, out, err = signalpost("incident", "backfill", "Projects offline", "--started", "2015-07-22",
                                "--resolved", "2015-07-22", "--impact-started", "2015-07-22T15:00:00Z")
    assert (code, err) == (0, "")
    assert "(2015-07-22 to 2015-07-22)" in out
    incident_id = opened_id(out)
    code, out, err = signalpost("incident", "edit", incident_id, "--impact-ended", "2015-07-22T16:20:00Z")
    assert (code, err) == (0, "")
    assert "customer impact 2015-07-22 15:00 UTC to 2015-07-22 16:20 UTC" in out


def test_it_posts_a_maintenance_update_known_by_its_day_alone(signalpost, components):
    code, out, err = signalpost("maintenance", "schedule", "Weekly maintenance", "--start", "2017-09-12T20:00:00Z",
                                "--end", "2017-09-12T22:25:00Z", "--no-auto-start", "--no-auto-complete")
    assert (code, err) == (0, ""), err
    maintenance_id = opened_id(out)
    code, out, err = signalpost("maintenance", "update", maintenance_id, "--status", "completed", "--at", "2017-09-13",
                                "--json")
    assert (code, err) == (0, "")
    assert '"resolved_at": "2017-09-13"' in out and '"display_at": "2017-09-13"' in out
    assert services.find_incident(maintenance_id).resolved_on == date(2017, 9, 13)
    code, out, err = signalpost("maintenance", "update", maintenance_id, "--status", "completed", "--at", "1969-12-31")
    assert (code != 0, out, err) == (True, "", "signalpost: --at: must be from 1970-01-01 to 2199-12-31\n")
