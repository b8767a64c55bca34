"""The e-mail templates screen (admin): the wording of each kind of notification e-mail (subject,
plain text, HTML; Django templates), with a preview on made-up values and a reset to Signalpost's own.
A field left as the default stays the default, and follows it in later versions."""

from django import forms
from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST, require_safe

from signalpost.accounts.roles import role_required
from signalpost.errors import InvalidInput
from signalpost.notify import wording
from signalpost.notify.models import EmailTemplate, TemplateKind

from .components import show_refusal

# What each kind's templates are given, for the help beside the form.
VARIABLES = {
    TemplateKind.INCIDENT: "name, status, impact, posted, body, body_html, components (name, status), link",
    TemplateKind.MAINTENANCE: "name, status, posted, body, body_html, reminder, scheduled_for, scheduled_until, "
                              "components, link",
    TemplateKind.POSTMORTEM: "name, posted, body, body_html, incidents, link",
    TemplateKind.COMPONENT: "name, before, after, link",
    TemplateKind.DIGEST: "items (about, at, link)",
    TemplateKind.PAUSED: "address, failures, reason",
}
COMMON = "page, page_url, zone, manage_url, unsubscribe_url"


class TemplateForm(forms.Form):
    subject = forms.CharField(label="Subject", max_length=300, required=False)
    text = forms.CharField(label="Plain text", required=False, widget=forms.Textarea(attrs={"rows": 14}))
    html = forms.CharField(label="HTML", required=False, widget=forms.Textarea(attrs={"rows": 14}),
                           help_text="Values are escaped; body_html is the update's Markdown, already rendered "
                                     "and sanitized.")


def _kind(kind: str) -> str:
    if kind not in TemplateKind.values:
        raise Http404(f'no kind of e-mail named "{kind}"')
    return kind


@role_required("admin")
@require_safe
def email_templates(request: HttpRequest) -> HttpResponse:
    own = set(EmailTemplate.objects.values_list("kind", flat=True))
    kinds = [{"kind": value, "label": label, "own": value in own} for value, label in TemplateKind.choices]
    return render(request, "console/email_templates.html", {"kinds": kinds})


def _current(kind: str) -> dict:
    own = EmailTemplate.objects.filter(kind=kind).first()
    return {name: (getattr(own, name, "") if own else "") or wording.default_source(kind, name)
            for name, _ in wording.TEMPLATE_FIELDS}


@role_required("admin")
def email_template(request: HttpRequest, kind: str) -> HttpResponse:
    """GET: the form with the wording in use. POST "preview": the preview, nothing saved; POST: save."""
    kind = _kind(kind)
    form = TemplateForm(request.POST if request.method == "POST" else None, initial=_current(kind))
    preview, status = None, 200
    if request.method == "POST":
        status = 400
        if form.is_valid():
            try:
                if "preview" in request.POST:
                    preview = wording.preview_email_template(kind, **form.cleaned_data)
                    status = 200
                else:
                    wording.save_email_template(kind, **form.cleaned_data)
                    messages.success(request, f"The {TemplateKind(kind).label.lower()} e-mail is saved; the next "
                                              "ones use it.")
                    return redirect("console:email_template", kind)
            except InvalidInput as refusal:
                show_refusal(form, refusal)
    elif request.GET.get("preview"):
        preview = wording.preview_email_template(kind, **_current(kind))
    return render(request, "console/email_template.html", {
        "kind": kind, "label": TemplateKind(kind).label, "form": form, "preview": preview,
        "own": EmailTemplate.objects.filter(kind=kind).exists(), "variables": VARIABLES[kind], "common": COMMON,
    }, status=status)


@role_required("admin")
@require_POST
def email_template_reset(request: HttpRequest, kind: str) -> HttpResponse:
    kind = _kind(kind)
    if wording.reset_email_template(kind):
        messages.success(request, f"The {TemplateKind(kind).label.lower()} e-mail is back to Signalpost's wording.")
    else:
        messages.info(request, "It already used Signalpost's wording: nothing changed.")
    return redirect("console:email_template", kind)
