"""The accepted range of instants and texts, held by the services for every face, over generated inputs
(tests/strategies.py): everything inside is kept as given, everything outside is refused naming the field
and stores nothing."""

from datetime import timedelta

import pytest
from hypothesis import HealthCheck, given, settings

from signalpost.errors import InvalidInput
from signalpost.status import services
from signalpost.status.models import Incident
from signalpost.status.ranges import LATEST
from tests.strategies import instants_in_range, instants_out_of_range, storable_texts, unstorable_texts

GENERATED = settings(max_examples=40, derandomize=True, deadline=None, database=None,
                     suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])


@GENERATED
@given(moment=instants_out_of_range())
def test_a_window_outside_the_range_is_refused_naming_the_field(components, moment):
    with pytest.raises(InvalidInput) as refused:
        services.schedule_maintenance(name="Upgrade", scheduled_for=moment, scheduled_until=LATEST,
                                      components=[components["zh1"]])
    assert refused.value.field == "scheduled_for"
    assert not Incident.objects.exists()


@GENERATED
@given(moment=instants_out_of_range())
def test_a_past_incident_outside_the_range_is_refused_naming_the_field(components, moment):
    with pytest.raises(InvalidInput) as refused:
        services.backfill_incident(name="Old", started_at=moment, resolved_at=moment + timedelta(hours=1)
                                   if moment.year < 9999 else moment)
    assert refused.value.field in ("started_at", "resolved_at")
    assert not Incident.objects.exists()


@GENERATED
@given(moment=instants_in_range())
def test_a_window_inside_the_range_is_kept_as_the_instant_given(components, moment):
    hour = timedelta(hours=1)
    window = (moment, moment + hour) if moment + hour <= LATEST else (moment - hour, moment)
    maintenance = services.schedule_maintenance(name="Upgrade", scheduled_for=window[0], scheduled_until=window[1],
                                                components=[components["zh1"]], deliver_notifications=False)
    stored = Incident.objects.get(pk=maintenance.pk)
    assert (stored.scheduled_for, stored.scheduled_until) == window
    stored.delete()


@GENERATED
@given(name=unstorable_texts())
def test_a_name_the_databases_cannot_keep_is_refused(components, name):
    with pytest.raises(InvalidInput) as refused:
        services.open_incident(name=name)
    assert refused.value.field == "name"
    assert not Incident.objects.exists()


@GENERATED
@given(body=unstorable_texts())
def test_a_body_the_databases_cannot_keep_is_refused(components, body):
    with pytest.raises(InvalidInput) as refused:
        services.open_incident(name="Down", body=body)
    assert refused.value.field == "body"
    assert not Incident.objects.exists()


@GENERATED
@given(body=storable_texts(max_size=200))
def test_any_other_body_is_kept_as_written(components, body):
    incident = services.open_incident(name="Down", body=body, deliver_notifications=False)
    assert Incident.objects.get(pk=incident.pk).updates.get().body == body
    Incident.objects.filter(pk=incident.pk).delete()
