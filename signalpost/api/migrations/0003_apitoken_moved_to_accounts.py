"""The token model moved to the accounts app (accounts 0004); its table and rows stay as they are."""

import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ("api", "0002_apitoken_created_by"),
        ("accounts", "0004_apitoken"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.AlterField(
                    model_name="idempotentrequest",
                    name="token",
                    field=models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, to="accounts.apitoken"),
                ),
                migrations.DeleteModel(name="ApiToken"),
            ],
            database_operations=[],
        ),
    ]
