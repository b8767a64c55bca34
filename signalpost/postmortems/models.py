"""Postmortems (learning reviews): what the team learned from an incident or a maintenance, written
after it, reviewed by someone other than its author, then published next to the incident.

Every change to a postmortem's content is kept as a full version (PostmortemVersion), so a reviewer
can see what changed since they last read it. The figures a reader compares across incidents (time to
detect, to acknowledge, to resolve) are not stored: figures.py derives them from the incidents and the
few instants only the team knows (when the problem first showed).
"""

from dataclasses import dataclass

from django.conf import settings
from django.db import models
from django.utils import timezone

from signalpost.status import readable
from signalpost.status.models import Incident, new_public_id


@dataclass(frozen=True)
class Section:
    field: str
    title: str
    prompt: str  # what the console shows as a hint while writing it


# In the order a reader meets them. Each is Markdown, rendered only by presentation.markdown.render_markdown.
SECTIONS = [
    Section("summary", "Summary", "What happened, in a few sentences a customer understands."),
    Section("impact", "Impact", "Who was affected, how, and for how long. Put numbers in the figures."),
    Section("timeline_intro", "Timeline", "Optional: what the team set out to do first, before the entries."),
    Section("recovery", "Recovery", "How service was restored, and in what order."),
    Section("root_cause", "Root cause", "Why it happened. If it is not known, say what is known and tick "
                                        "\u201croot cause unknown\u201d."),
    Section("contributing_factors", "Contributing factors", "What made it more likely, worse, or longer."),
    Section("went_well", "What went well", "What helped, to keep doing it."),
    Section("went_badly", "What went badly", "What hindered detection, response or recovery."),
    Section("actions_intro", "Action items", "Optional: how the action items below are organised."),
    Section("closing", "Closing words", "An apology, thanks, or where to ask questions."),
]
SECTION_FIELDS = [s.field for s in SECTIONS]
SECTION_TITLES = {s.field: s.title for s in SECTIONS}

ROOT_CAUSE_UNKNOWN = "Root cause unknown"


class Template(models.TextChoices):
    """The two kinds of document teams write; any other name (e.g. "Downtime report") is a custom one."""

    LEARNING_REVIEW = "learning_review", "Learning review"
    POSTMORTEM = "postmortem", "Postmortem"


class PostmortemTemplate(models.Model):
    """A kind of document the team writes: which sections it uses, and the Markdown each starts with
    (guiding questions a reviewer replaces). Two are built in ("Learning review", "Postmortem"): the team
    can edit them but not delete them. A postmortem keeps its own label (`Postmortem.template`), so
    renaming or deleting a template never changes what a written postmortem calls itself."""

    public_id = models.CharField(max_length=12, unique=True, default=new_public_id)
    # The built-in ones' fixed names for scripts ("learning_review", "postmortem"); empty for the team's.
    key = models.CharField(max_length=32, blank=True, default="")
    name = models.CharField(max_length=64, unique=True)
    description = models.CharField(max_length=300, blank=True, default="")
    sections = models.JSONField(default=list)  # section fields, in SECTIONS order
    starter = models.JSONField(default=dict)  # section field -> Markdown a new postmortem starts with
    position = models.IntegerField(default=0)
    built_in = models.BooleanField(default=False)
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["position", "name"]

    def __str__(self) -> str:
        return self.name


class State(models.TextChoices):
    DRAFT = "draft", "Draft"
    IN_REVIEW = "in_review", "In review"
    APPROVED = "approved", "Approved"
    PUBLISHED = "published", "Published"


class Postmortem(models.Model):
    public_id = models.CharField(max_length=12, unique=True, default=new_public_id)
    title = models.CharField(max_length=300)
    # One incident, one maintenance, or several incidents with one cause. An incident has at most one.
    incidents = models.ManyToManyField(Incident, related_name="postmortems")
    template = models.CharField(max_length=64, default=Template.POSTMORTEM)  # its label (see document_label)
    # The template whose sections the editor offers; none for a kind the team only named, or once the
    # template was deleted (the postmortem keeps its text and its label).
    from_template = models.ForeignKey(PostmortemTemplate, null=True, blank=True, on_delete=models.SET_NULL,
                                      related_name="postmortems")

    summary = models.TextField(blank=True, default="")
    impact = models.TextField(blank=True, default="")
    timeline_intro = models.TextField(blank=True, default="")
    recovery = models.TextField(blank=True, default="")
    root_cause = models.TextField(blank=True, default="")
    root_cause_unknown = models.BooleanField(default=False)
    contributing_factors = models.TextField(blank=True, default="")
    went_well = models.TextField(blank=True, default="")
    went_badly = models.TextField(blank=True, default="")
    actions_intro = models.TextField(blank=True, default="")
    closing = models.TextField(blank=True, default="")

    # The zone the document states its times in ("All times PST"), whatever the page's zone.
    timeline_zone = models.CharField(max_length=64, default="UTC")
    # Instants only the team knows; the others come from the incidents (see figures.py).
    first_signal_at = models.DateTimeField(null=True, blank=True)  # when the problem first showed
    detected_at = models.DateTimeField(null=True, blank=True)  # default: when the first incident began
    acknowledged_at = models.DateTimeField(null=True, blank=True)  # default: the first update after that

    status = models.CharField(max_length=16, choices=State.choices, default=State.DRAFT)
    version = models.IntegerField(default=0)  # the number of the latest PostmortemVersion
    # Who wrote and reviewed it. A token has no user: its name is kept instead (the *_name fields
    # always hold a name, as it was at the time).
    author = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                               related_name="+")
    author_name = models.CharField(max_length=200, blank=True, default="")
    reviewer = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                 related_name="+")
    review_requested_at = models.DateTimeField(null=True, blank=True)
    approved_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                    related_name="+")
    approved_by_name = models.CharField(max_length=200, blank=True, default="")
    approved_at = models.DateTimeField(null=True, blank=True)
    approved_version = models.IntegerField(null=True, blank=True)
    published_at = models.DateTimeField(null=True, blank=True)  # the latest publication
    first_published_at = models.DateTimeField(null=True, blank=True)
    revised_at = models.DateTimeField(null=True, blank=True)  # content changed while published
    withdrawn_at = models.DateTimeField(null=True, blank=True)  # unpublished after being public
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["status"])]

    def __str__(self) -> str:
        return self.title

    @property
    def public_path(self) -> str:
        return f"/postmortems/{self.public_id}"

    @property
    def markdown_path(self) -> str:
        return f"/postmortems/{self.public_id}.md"

    @property
    def is_published(self) -> bool:
        return self.status == State.PUBLISHED

    def readable_timeline(self):
        """Its timeline entries as every page shows them: one whose time is outside the accepted range
        (stored by an older version or by hand) is left out, kept in the table, so that it cannot stop
        the document from being shown."""
        return self.timeline.filter(readable.within(("at",)))

    @property
    def document_label(self) -> str:
        """What the document calls itself: "Learning review", "Postmortem", or the custom name."""
        known = dict(Template.choices)
        return known.get(self.template, self.template)


class TimelineEntry(models.Model):
    class Source(models.TextChoices):
        UPDATE = "update", "Update"  # an incident update's text
        STATE = "state", "State change"  # an incident's status or its components' statuses changed
        MANUAL = "manual", "Written by hand"

    public_id = models.CharField(max_length=12, unique=True, default=new_public_id)
    postmortem = models.ForeignKey(Postmortem, on_delete=models.CASCADE, related_name="timeline")
    at = models.DateTimeField()
    # Only the date is known: `at` is that day's first instant in the timeline's zone, and the document
    # shows the entry under its day with no clock time.
    on = models.DateField(null=True, blank=True)
    text = models.TextField()
    source = models.CharField(max_length=8, choices=Source.choices, default=Source.MANUAL)
    position = models.IntegerField(default=0)  # among entries at the same instant

    class Meta:
        ordering = ["at", "position", "id"]


class ImpactFigure(models.Model):
    """A number the document states about the impact: "Deploys affected" / "5.2%"."""

    postmortem = models.ForeignKey(Postmortem, on_delete=models.CASCADE, related_name="figures")
    label = models.CharField(max_length=200)
    value = models.CharField(max_length=200)
    position = models.IntegerField(default=0)

    class Meta:
        ordering = ["position", "id"]


class ActionItemKind(models.Model):
    """How action items are grouped (Preventive (process), Detection, ...); the team edits the list."""

    public_id = models.CharField(max_length=12, unique=True, default=new_public_id)
    name = models.CharField(max_length=100, unique=True)
    position = models.IntegerField(default=0)

    class Meta:
        ordering = ["position", "name"]

    def __str__(self) -> str:
        return self.name


class ActionItem(models.Model):
    class State(models.TextChoices):
        OPEN = "open", "Open"
        IN_PROGRESS = "in_progress", "In progress"
        DONE = "done", "Done"
        WONT_DO = "wont_do", "Won't do"

    public_id = models.CharField(max_length=12, unique=True, default=new_public_id)
    postmortem = models.ForeignKey(Postmortem, on_delete=models.CASCADE, related_name="action_items")
    title = models.CharField(max_length=300)
    description = models.TextField(blank=True, default="")  # Markdown: why, and what exactly
    kind = models.ForeignKey(ActionItemKind, on_delete=models.PROTECT, related_name="items")
    owner = models.CharField(max_length=200, blank=True, default="")
    due_date = models.DateField(null=True, blank=True)
    state = models.CharField(max_length=16, choices=State.choices, default=State.OPEN)
    link = models.URLField(max_length=500, blank=True, default="")  # the item in the team's tracker
    position = models.IntegerField(default=0)
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["position", "id"]

    def __str__(self) -> str:
        return self.title


class PostmortemVersion(models.Model):
    """The whole document as one save left it: sections, figures, timeline and action items."""

    postmortem = models.ForeignKey(Postmortem, on_delete=models.CASCADE, related_name="versions")
    number = models.IntegerField()
    saved_by = models.CharField(max_length=200)
    saved_at = models.DateTimeField(default=timezone.now)
    action = models.CharField(max_length=64, blank=True, default="")  # the write that made it
    content = models.JSONField()

    class Meta:
        ordering = ["number"]
        constraints = [
            models.UniqueConstraint(fields=["postmortem", "number"], name="postmortem_version_unique"),
        ]


class ReliabilitySettings(models.Model):
    """Row id 1: whether readers see the reliability report at /reliability, and over how many months.
    Off until an admin switches it on: the numbers are the team's to share."""

    public = models.BooleanField(default=False)
    months = models.IntegerField(default=12)
    updated_at = models.DateTimeField(default=timezone.now)
