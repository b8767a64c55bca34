"""Message templates: the team's ready-made update texts, managed by responders, offered in every
update form of their kind."""

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST, require_safe

from signalpost.accounts.roles import role_required
from signalpost.errors import InvalidInput
from signalpost.status.models import Kind

from . import services
from .forms import MessageTemplateForm, show_refusal
from .incidents import bound, form_status
from .models import MessageTemplate


def _template(pk: int) -> MessageTemplate:
    template = MessageTemplate.objects.filter(pk=pk).first()
    if template is None:
        raise Http404(f"no message template {pk}")
    return template


@role_required("responder")
@require_safe
def template_list(request: HttpRequest) -> HttpResponse:
    templates = list(MessageTemplate.objects.all())
    return render(request, "console/message_template_list.html", {
        "incident_templates": [t for t in templates if t.kind == Kind.INCIDENT],
        "maintenance_templates": [t for t in templates if t.kind == Kind.MAINTENANCE],
    })


def _saved(form: MessageTemplateForm, template: MessageTemplate | None) -> MessageTemplate | None:
    data = form.cleaned_data
    fields = {"name": data["name"], "kind": data["kind"], "status": data["status"], "body": data["body"],
              "position": data["position"]}
    try:
        if template is None:
            return services.create_template(**fields)
        return services.update_template(template, **fields)
    except InvalidInput as refusal:
        show_refusal(form, refusal)
        return None


@role_required("responder")
def template_new(request: HttpRequest) -> HttpResponse:
    form = MessageTemplateForm(bound(request), initial={"kind": request.GET.get("kind", Kind.INCIDENT)})
    if request.method == "POST" and form.is_valid() and (template := _saved(form, None)):
        messages.success(request, f"Template “{template.name}” added.")
        return redirect("console:templates")
    return render(request, "console/message_template_form.html", {"form": form, "template": None},
                  status=form_status(form))


@role_required("responder")
def template_edit(request: HttpRequest, pk: int) -> HttpResponse:
    template = _template(pk)
    form = MessageTemplateForm(request.POST) if request.method == "POST" else MessageTemplateForm.of(template)
    if request.method == "POST" and form.is_valid() and (saved := _saved(form, template)):
        messages.success(request, f"Template “{saved.name}” saved.")
        return redirect("console:templates")
    return render(request, "console/message_template_form.html", {"form": form, "template": template},
                  status=form_status(form))


@role_required("responder")
@require_POST
def template_delete(request: HttpRequest, pk: int) -> HttpResponse:
    template = _template(pk)
    services.delete_template(template)
    messages.success(request, f"Template “{template.name}” deleted.")
    return redirect("console:templates")
