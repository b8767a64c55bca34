"""The team's alert channels (admin): add an Apprise URL for the events it takes, change which events
it takes, send it a test, remove it. A URL is never shown back in full after it is saved (it holds the service's credentials)."""

from django import forms
from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST, require_safe

from signalpost.accounts.roles import role_required
from signalpost.errors import InvalidInput
from signalpost.notify import admin
from signalpost.notify.models import TeamAlert, TeamChannel

from .components import show_refusal


class ChannelForm(forms.Form):
    name = forms.CharField(label="Name", max_length=100, help_text="E.g. “On-call Slack”.")
    url = forms.CharField(label="Apprise URL", max_length=4000, widget=forms.PasswordInput(render_value=False),
                          help_text="E.g. slack://…, ntfys://…, mailtos://…, jsons://host/path. It holds the "
                                    "service's credentials: it is not shown again after saving.")
    kinds = forms.MultipleChoiceField(label="Tell it about", choices=TeamAlert.choices,
                                      widget=forms.CheckboxSelectMultiple, initial=list(TeamAlert.values))


class KindsForm(forms.Form):
    kinds = forms.MultipleChoiceField(label="Tell it about", choices=TeamAlert.choices,
                                      widget=forms.CheckboxSelectMultiple)


def _find(channel_id: int) -> TeamChannel:
    channel = TeamChannel.objects.filter(pk=channel_id).first()
    if channel is None:
        raise Http404("no such team channel")
    return channel


def _page(request: HttpRequest, form: ChannelForm, status: int = 200,
          changing: tuple[int, KindsForm] | None = None) -> HttpResponse:
    channels = list(TeamChannel.objects.order_by("name", "id"))
    for channel in channels:
        channel.kind_labels = [TeamAlert(k).label for k in channel.kinds if k in TeamAlert.values]
        channel.kinds_form = (changing[1] if changing and changing[0] == channel.pk else
                              KindsForm(initial={"kinds": channel.kinds}, prefix=f"channel-{channel.pk}"))
    return render(request, "console/team_alerts.html", {"channels": channels, "form": form}, status=status)


@role_required("admin")
@require_safe
def team_alerts(request: HttpRequest) -> HttpResponse:
    return _page(request, ChannelForm())


@role_required("admin")
@require_POST
def team_channel_new(request: HttpRequest) -> HttpResponse:
    form = ChannelForm(request.POST)
    if form.is_valid():
        try:
            channel = admin.add_team_channel(**form.cleaned_data)
        except InvalidInput as refusal:
            show_refusal(form, refusal)
        else:
            messages.success(request, f"Team channel “{channel.name}” added. Send it a test to see that it works.")
            return redirect("console:team_alerts")
    return _page(request, form, status=400)


@role_required("admin")
@require_POST
def team_channel_test(request: HttpRequest, channel_id: int) -> HttpResponse:
    channel = _find(channel_id)
    problem = admin.test_team_channel(channel)
    if problem is None:
        messages.success(request, f"A test message went to “{channel.name}”.")
    else:
        messages.error(request, f"The test message to “{channel.name}” did not go: {problem}")
    return redirect("console:team_alerts")


@role_required("admin")
@require_POST
def team_channel_remove(request: HttpRequest, channel_id: int) -> HttpResponse:
    channel = _find(channel_id)
    admin.remove_team_channel(channel)
    messages.success(request, f"Team channel “{channel.name}” removed.")
    return redirect("console:team_alerts")


@role_required("admin")
@require_POST
def team_channel_kinds(request: HttpRequest, channel_id: int) -> HttpResponse:
    channel = _find(channel_id)
    form = KindsForm(request.POST, prefix=f"channel-{channel.pk}")
    if form.is_valid():
        try:
            admin.set_team_channel_kinds(channel, form.cleaned_data["kinds"])
        except InvalidInput as refusal:
            show_refusal(form, refusal)
        else:
            messages.success(request, f"“{channel.name}” is now told about what is ticked.")
            return redirect("console:team_alerts")
    return _page(request, ChannelForm(), status=400, changing=(channel.pk, form))
