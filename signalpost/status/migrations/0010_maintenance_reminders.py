"""A maintenance window's own reminders (null: the page's, as every window had before)."""

from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('status', '0009_component_signals'),
    ]

    operations = [
        migrations.AddField(
            model_name='incident',
            name='reminders',
            field=models.JSONField(blank=True, default=None, null=True),
        ),
        migrations.AddField(
            model_name='incident',
            name='reminders_changed_at',
            field=models.DateTimeField(blank=True, null=True),
        ),
    ]
