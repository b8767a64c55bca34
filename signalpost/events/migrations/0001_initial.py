# Events, their handlings by each consumer, and the worker jobs' heartbeats.

import django.db.models.deletion
import django.utils.timezone
from django.db import migrations, models


class Migration(migrations.Migration):

    initial = True

    dependencies = [
    ]

    operations = [
        migrations.CreateModel(
            name='Event',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('kind', models.CharField(max_length=64)),
                ('subject', models.CharField(max_length=80)),
                ('occurred_at', models.DateTimeField()),
                ('recorded_at', models.DateTimeField(default=django.utils.timezone.now)),
                ('notify', models.BooleanField(default=False)),
                ('data', models.JSONField(default=dict)),
                ('key', models.CharField(blank=True, max_length=200, null=True, unique=True)),
            ],
            options={
                'indexes': [models.Index(fields=['subject', 'id'], name='events_even_subject_d9cb29_idx'), models.Index(fields=['recorded_at'], name='events_even_recorde_c70194_idx')],
            },
        ),
        migrations.CreateModel(
            name='JobBeat',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('job', models.CharField(max_length=32)),
                ('worker', models.CharField(max_length=100)),
                ('started_at', models.DateTimeField(default=django.utils.timezone.now)),
                ('beat_at', models.DateTimeField(default=django.utils.timezone.now)),
                ('stopped_at', models.DateTimeField(blank=True, null=True)),
                ('detail', models.CharField(blank=True, default='', max_length=300)),
            ],
            options={
                'constraints': [models.UniqueConstraint(fields=('job', 'worker'), name='one_beat_per_job_and_worker')],
            },
        ),
        migrations.CreateModel(
            name='Handling',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('consumer', models.CharField(max_length=32)),
                ('subject', models.CharField(max_length=80)),
                ('state', models.CharField(choices=[('pending', 'Pending'), ('done', 'Done'), ('set_aside', 'Set aside')], default='pending', max_length=16)),
                ('attempts', models.IntegerField(default=0)),
                ('due_at', models.DateTimeField(default=django.utils.timezone.now)),
                ('claimed_by', models.CharField(blank=True, default='', max_length=100)),
                ('claimed_until', models.DateTimeField(blank=True, null=True)),
                ('last_error', models.TextField(blank=True, default='')),
                ('done_at', models.DateTimeField(blank=True, null=True)),
                ('progress', models.JSONField(blank=True, null=True)),
                ('event', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='handlings', to='events.event')),
            ],
            options={
                'indexes': [models.Index(fields=['consumer', 'state', 'due_at'], name='events_hand_consume_5c4477_idx'), models.Index(fields=['consumer', 'subject', 'event'], name='events_hand_consume_a4a785_idx')],
                'constraints': [models.UniqueConstraint(fields=('event', 'consumer'), name='one_handling_per_consumer')],
            },
        ),
    ]
