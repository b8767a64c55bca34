# Remote locations: the places results come from over the API, and the batches they sent (kept a while so a batch sent twice is recorded once).

import django.utils.timezone
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('monitors', '0001_initial'),
    ]

    operations = [
        migrations.CreateModel(
            name='ProbeLocation',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('name', models.CharField(max_length=64, unique=True)),
                ('first_seen_at', models.DateTimeField(default=django.utils.timezone.now)),
                ('last_seen_at', models.DateTimeField(default=django.utils.timezone.now)),
                ('results_received', models.PositiveBigIntegerField(default=0)),
                ('token_name', models.CharField(blank=True, default='', max_length=200)),
                ('token_prefix', models.CharField(blank=True, default='', max_length=16)),
            ],
            options={
                'ordering': ['name'],
            },
        ),
        migrations.CreateModel(
            name='AcceptedBatch',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('location', models.CharField(max_length=64)),
                ('batch_id', models.UUIDField()),
                ('accepted_at', models.DateTimeField(default=django.utils.timezone.now)),
                ('results', models.PositiveIntegerField(default=0)),
            ],
            options={
                'indexes': [models.Index(fields=['location', 'accepted_at'], name='monitors_ac_locatio_a27487_idx')],
                'constraints': [models.UniqueConstraint(fields=('location', 'batch_id'), name='accepted_batch_unique')],
            },
        ),
    ]
