"""The two built-in postmortem templates, and every existing postmortem linked to the one its label
names. Nothing is dropped: a postmortem keeps its label ("learning_review", "postmortem" or the team's
own name); one with a name of the team's own stays without a template, showing every section, as before."""

from django.db import migrations

# Frozen here as they were when this migration was written: later edits to the defaults in
# signalpost/postmortems/doc_templates.py do not change what an upgrade creates.
QUESTIONS = {
    "summary": "What happened, in two or three sentences a customer understands?\n\n"
               "- What broke, and for whom?\n- When did it start and end (say the time zone)?",
    "impact": "What did customers experience, for how long?\n\n"
              "- Which services, regions or features were affected?\n"
              "- How many customers or requests? Put the numbers in the impact figures.\n"
              "- Was any data lost, delayed or exposed?",
    "timeline_intro": "What did the team set out to do first, before the entries below? "
                      "Delete this if the entries speak for themselves.",
    "recovery": "How was service restored, and in what order?\n\n"
                "- What was tried first, and did it help?\n- When could customers use the service again?",
    "root_cause": "Why did it happen?\n\n- What failed, and what made it fail?\n"
                  "- If the cause is not known, say what is known and tick \u201croot cause unknown\u201d.",
    "contributing_factors": "What made it more likely, worse, or longer? "
                            "(A missing alert, a risky deploy, a runbook out of date.)",
    "went_well": "What helped detection, response or recovery, that the team should keep doing?",
    "went_badly": "What hindered detection, response or recovery?",
    "actions_intro": "How are the action items below organised, and where will customers hear about progress?",
    "closing": "An apology, thanks, and where customers can ask questions.",
}
ALL = ["summary", "impact", "timeline_intro", "recovery", "root_cause", "contributing_factors", "went_well",
       "went_badly", "actions_intro", "closing"]
SHORT = ["summary", "impact", "timeline_intro", "root_cause", "actions_intro", "closing"]
LONG_ABOUT = "The long form, for a serious incident: every section, from what happened to what went well and badly."
SHORT_ABOUT = "The short form: summary, impact, timeline, root cause, action items and closing words."
BUILT_IN = [
    ("learning_review", "Learning review", 1, LONG_ABOUT, ALL),
    ("postmortem", "Postmortem", 2, SHORT_ABOUT, SHORT),
]


def forwards(apps, schema_editor):
    from signalpost.status.models import new_public_id

    PostmortemTemplate = apps.get_model("postmortems", "PostmortemTemplate")
    Postmortem = apps.get_model("postmortems", "Postmortem")
    for key, name, position, description, sections in BUILT_IN:
        template = PostmortemTemplate.objects.filter(key=key, built_in=True).first()
        if template is None:
            template = PostmortemTemplate.objects.create(
                public_id=new_public_id(), key=key, name=name, position=position, description=description,
                sections=sections, starter={f: QUESTIONS[f] for f in sections}, built_in=True)
        # The label was stored as the key; a hand-made row may hold the usual name instead.
        Postmortem.objects.filter(from_template__isnull=True, template__iexact=key).update(from_template=template)
        Postmortem.objects.filter(from_template__isnull=True, template__iexact=name).update(from_template=template)


def backwards(apps, schema_editor):
    pass  # the labels were never touched; removing the column (0003 backwards) is all there is to undo


class Migration(migrations.Migration):
    dependencies = [("postmortems", "0003_templates_and_public_report")]

    operations = [migrations.RunPython(forwards, backwards)]
