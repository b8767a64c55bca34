"""A few message templates to start from, worded the way a good status page words its updates: what
is happening, what is being done, and when the next word will come."""

from django.db import migrations

DEFAULTS = [
    ("incident", "Investigating", "investigating",
     ("We are investigating reports of problems with this service. Some customers may see errors or slow "
      "responses. We will post an update within 30 minutes, or sooner as soon as we know more.")),
    ("incident", "Identified", "identified",
     ("We have identified the cause of the problem and are working on a fix. We will post another update "
      "within 30 minutes.")),
    ("incident", "Monitoring", "monitoring",
     ("A fix has been put in place and we are monitoring the results. The service should be working normally "
      "again; if you still see problems, please contact us.")),
    ("incident", "Resolved", "resolved",
     ("This incident has been resolved and the service is working normally again. We are sorry for the "
      "disruption and thank you for your patience.")),
    ("maintenance", "Scheduled", "scheduled",
     ("We will be performing scheduled maintenance during this window. The affected services may be briefly "
      "unavailable or slower than usual while the work is carried out. We will post updates here as it "
      "progresses.")),
    ("maintenance", "Overrunning", "",  # keeps the status the maintenance has
     ("The scheduled maintenance is taking longer than anticipated. We have extended the window and will post "
      "an update as soon as the work is completed.")),
    ("maintenance", "Completed", "completed",
     ("The scheduled maintenance has been completed and all affected services are operating normally. Thank "
      "you for your patience.")),
]


def seed(apps, schema_editor) -> None:
    MessageTemplate = apps.get_model("console", "MessageTemplate")
    for position, (kind, name, status, body) in enumerate(DEFAULTS):
        MessageTemplate.objects.get_or_create(kind=kind, name=name,
                                              defaults={"status": status, "body": body, "position": position})


class Migration(migrations.Migration):
    dependencies = [("console", "0001_initial")]

    # Going back leaves the templates alone: by then they may be the team's own words.
    operations = [migrations.RunPython(seed, migrations.RunPython.noop)]
