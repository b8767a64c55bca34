"""Postmortem templates in the console: the kinds of document the team writes, the sections each uses
and the questions a new postmortem starts with. Responders see them (they choose one for each new
postmortem); admins manage them, as they do the kinds of action items: the team's configuration."""

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST, require_safe

from signalpost.accounts.roles import has_role, role_required
from signalpost.postmortems import services
from signalpost.postmortems.models import SECTION_TITLES, PostmortemTemplate
from signalpost.errors import InvalidInput

from .postmortem_forms import TemplateForm


def _template(template_id: str) -> PostmortemTemplate:
    template = PostmortemTemplate.objects.filter(public_id=template_id).first()
    if template is None:
        raise Http404(f'no postmortem template with id "{template_id}"')
    return template


def _list(request: HttpRequest, *, error: str = "", status: int = 200) -> HttpResponse:
    templates = services.postmortem_templates()
    used = services.templates_in_use()
    rows = [(t, [SECTION_TITLES[f] for f in t.sections], used.get(t.pk, 0)) for t in templates]
    return render(request, "console/postmortem_templates.html", {
        "rows": rows, "error": error, "can_manage": has_role(request.user, "admin"),
    }, status=status)


def _form_page(request: HttpRequest, form: TemplateForm, template: PostmortemTemplate | None,
               status: int = 200) -> HttpResponse:
    return render(request, "console/postmortem_template_form.html", {"form": form, "template": template},
                  status=status)


@role_required("responder")
@require_safe
def template_list(request: HttpRequest) -> HttpResponse:
    return _list(request)


@role_required("admin")
def template_new(request: HttpRequest) -> HttpResponse:
    form = TemplateForm(request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        try:
            template = services.create_template(**form.values())
        except InvalidInput as refusal:
            form.refuse(refusal)
        else:
            messages.success(request, f"Template “{template.name}” added: new postmortems can start from it.")
            return redirect("console:postmortem_templates")
    return _form_page(request, form, None, status=400 if form.is_bound else 200)


@role_required("admin")
def template_edit(request: HttpRequest, template_id: str) -> HttpResponse:
    template = _template(template_id)
    form = TemplateForm(request.POST if request.method == "POST" else None, template=template)
    if request.method == "POST" and form.is_valid():
        try:
            saved = services.update_template(template, **form.values())
        except InvalidInput as refusal:
            form.refuse(refusal)
        else:
            messages.success(request, f"Template “{saved.name}” saved; postmortems already written keep their text.")
            return redirect("console:postmortem_templates")
    return _form_page(request, form, template, status=400 if form.is_bound else 200)


@role_required("admin")
@require_POST
def template_delete(request: HttpRequest, template_id: str) -> HttpResponse:
    template = _template(template_id)
    try:
        used = services.delete_template(template)
    except InvalidInput as refusal:
        return _list(request, error=f"“{template.name}” was not deleted: {refusal.message}.", status=400)
    kept = f" The {used} postmortem{'s' if used != 1 else ''} written from it keep their text." if used else ""
    messages.success(request, f"Template “{template.name}” deleted.{kept}")
    return redirect("console:postmortem_templates")
