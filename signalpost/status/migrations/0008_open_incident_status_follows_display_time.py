"""An open incident's status, and the status it gives each component, are those of its latest update as
shown (display time, then the order posted). Before, an update posted later with an earlier display
time took over both; this sets them right for incidents still open (a resolution always came last)."""

from django.db import migrations


def forwards(apps, schema_editor):
    Incident = apps.get_model("status", "Incident")
    IncidentUpdate = apps.get_model("status", "IncidentUpdate")
    IncidentComponent = apps.get_model("status", "IncidentComponent")
    AffectedComponent = apps.get_model("status", "AffectedComponent")
    for incident in Incident.objects.filter(kind="incident", resolved_at__isnull=True).iterator():
        latest = (IncidentUpdate.objects.filter(incident=incident).order_by("-display_at", "-id")
                  .values_list("status", flat=True).first())
        if latest is not None and latest != incident.status:
            Incident.objects.filter(pk=incident.pk).update(status=latest)
        for link in IncidentComponent.objects.filter(incident=incident):
            shown = (AffectedComponent.objects.filter(update__incident=incident, component_id=link.component_id)
                     .order_by("-update__display_at", "-update__id").values_list("new_status", flat=True).first())
            if shown is not None and shown != link.status:
                IncidentComponent.objects.filter(pk=link.pk).update(status=shown)


class Migration(migrations.Migration):

    dependencies = [
        ("status", "0007_impact_window_and_date_only"),
    ]

    operations = [
        migrations.RunPython(forwards, migrations.RunPython.noop),
    ]
