"""Every model change ships with its migration: an upgrade must never find the code ahead of the schema."""

from io import StringIO

import pytest

from django.core.management import call_command


@pytest.mark.django_db
def test_the_models_and_their_migrations_agree():
    out = StringIO()
    try:
        call_command("makemigrations", "--check", "--dry-run", stdout=out, stderr=out)
    except SystemExit as exit:
        raise AssertionError(f"models changed without a migration:\n{out.getvalue()}") from exit
