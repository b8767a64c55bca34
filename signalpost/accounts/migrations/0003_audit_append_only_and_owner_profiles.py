"""The audit log refuses changes in the database itself, and accounts made before roles existed get one:
superusers become owners, every other active user a viewer (nobody gains a right by the upgrade)."""

from django.db import migrations

PG_FUNCTION = """
CREATE OR REPLACE FUNCTION signalpost_audit_append_only() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION 'audit entries cannot be changed or deleted';
END;
$$ LANGUAGE plpgsql;
"""


def forwards(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    if vendor == "postgresql":
        schema_editor.execute(PG_FUNCTION)
        schema_editor.execute(
            "CREATE TRIGGER accounts_auditevent_append_only BEFORE UPDATE OR DELETE ON accounts_auditevent "
            "FOR EACH ROW EXECUTE FUNCTION signalpost_audit_append_only();"
        )
    elif vendor == "sqlite":
        # Only UPDATE on SQLite: its test database is emptied with DELETE between tests.
        schema_editor.execute(
            "CREATE TRIGGER accounts_auditevent_no_update BEFORE UPDATE ON accounts_auditevent "
            "BEGIN SELECT RAISE(ABORT, 'audit entries cannot be changed'); END;"
        )
    User = apps.get_model("auth", "User")
    Profile = apps.get_model("accounts", "Profile")
    for user in User.objects.filter(profile__isnull=True):
        Profile.objects.create(user=user, role="owner" if user.is_superuser else "viewer")


def backwards(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    if vendor == "postgresql":
        schema_editor.execute("DROP TRIGGER IF EXISTS accounts_auditevent_append_only ON accounts_auditevent;")
        schema_editor.execute("DROP FUNCTION IF EXISTS signalpost_audit_append_only();")
    elif vendor == "sqlite":
        schema_editor.execute("DROP TRIGGER IF EXISTS accounts_auditevent_no_update;")


class Migration(migrations.Migration):
    dependencies = [("accounts", "0002_auditevent_invitation_profile"), ("auth", "0012_alter_user_first_name_max_length")]

    operations = [migrations.RunPython(forwards, backwards)]
