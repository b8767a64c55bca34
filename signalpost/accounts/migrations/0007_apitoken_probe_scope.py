# The probe scope: a token a remote probe holds. Only the choices change; no data moves.

from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('accounts', '0006_profile_session_generation'),
    ]

    operations = [
        migrations.AlterField(
            model_name='apitoken',
            name='scope',
            field=models.CharField(choices=[('read', 'Read'), ('write', 'Write'), ('admin', 'Admin'), ('probe', 'Probe')], max_length=8),
        ),
    ]
