"""The action item kinds a new installation starts with; the team can rename, reorder or add to them."""

from django.db import migrations

DEFAULT_KINDS = ["Preventive (process)", "Preventive (tooling)", "Detection", "Mitigation", "Improving recovery"]


def forwards(apps, schema_editor):
    from signalpost.status.models import new_public_id

    ActionItemKind = apps.get_model("postmortems", "ActionItemKind")
    for position, name in enumerate(DEFAULT_KINDS, start=1):
        ActionItemKind.objects.get_or_create(name=name, defaults={"position": position, "public_id": new_public_id()})


def backwards(apps, schema_editor):
    pass  # the kinds may be in use by then: keep them


class Migration(migrations.Migration):
    dependencies = [("postmortems", "0001_initial")]

    operations = [migrations.RunPython(forwards, backwards)]
