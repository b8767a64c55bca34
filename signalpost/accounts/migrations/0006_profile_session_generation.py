from django.db import migrations, models

# Secrets the console once kept in the session for the page after the one that made them.
SHOWN_ONCE = "signalpost_shown_once"


def forget_secrets_in_sessions(apps, schema_editor):
    """New tokens and invitation links are no longer kept in sessions: drop any a session still holds
    (made before, never shown). The sessions themselves stay."""
    from django.contrib.sessions.backends.db import SessionStore

    Session = apps.get_model("sessions", "Session")
    store = SessionStore()
    for session in Session.objects.filter(session_data__isnull=False).iterator():
        data = store.decode(session.session_data)
        if SHOWN_ONCE in data:
            del data[SHOWN_ONCE]
            Session.objects.filter(pk=session.pk).update(session_data=store.encode(data))


class Migration(migrations.Migration):

    dependencies = [
        ('accounts', '0005_invitation_nonce'),
        ('sessions', '0001_initial'),
    ]

    operations = [
        migrations.AddField(
            model_name='profile',
            name='session_generation',
            field=models.PositiveIntegerField(default=0),
        ),
        migrations.RunPython(forget_secrets_in_sessions, migrations.RunPython.noop),
    ]
