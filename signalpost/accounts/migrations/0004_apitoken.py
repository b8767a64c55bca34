"""API tokens belong to the accounts now (they act for the user who made them). The table stays where
the API app made it (api_apitoken): only Django's idea of which app owns the model changes."""

import django.db.models.deletion
import django.utils.timezone
from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ("accounts", "0003_audit_append_only_and_owner_profiles"),
        ("api", "0002_apitoken_created_by"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.CreateModel(
                    name="ApiToken",
                    fields=[
                        ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False,
                                                   verbose_name="ID")),
                        ("name", models.CharField(max_length=200)),
                        ("prefix", models.CharField(db_index=True, max_length=16)),
                        ("digest", models.CharField(max_length=64, unique=True)),
                        ("scope", models.CharField(choices=[("read", "Read"), ("write", "Write"), ("admin", "Admin")],
                                                   max_length=8)),
                        ("created_at", models.DateTimeField(default=django.utils.timezone.now)),
                        ("last_used_at", models.DateTimeField(blank=True, null=True)),
                        ("revoked_at", models.DateTimeField(blank=True, null=True)),
                        ("created_by", models.ForeignKey(blank=True, null=True,
                                                         on_delete=django.db.models.deletion.SET_NULL,
                                                         related_name="+", to=settings.AUTH_USER_MODEL)),
                    ],
                    options={"db_table": "api_apitoken"},
                ),
            ],
            database_operations=[],
        ),
    ]
