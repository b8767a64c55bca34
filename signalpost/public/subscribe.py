"""The reader's subscription pages: /subscribe (the form every public page links to), the confirmation
of an e-mail address, the page where a subscriber changes what they hear about, and unsubscribing.

Unlike the rest of the public pages these are not in the snapshot: they answer each reader (a form
with its CSRF token, a signed link), so Django renders them on every request. The verbs and their
rules are in signalpost/notify/signup.py; this module parses forms and shows answers.
"""

from django import forms
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.utils import timezone
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods

from signalpost.accounts import audit
from signalpost.accounts.throttle import client_address
from signalpost.errors import InvalidInput
from signalpost.notify import links, signup
from signalpost.notify.models import Channel, Subscriber
from signalpost.presentation.zone import page_zone
from signalpost.status.layout import layout
from signalpost.status.services import get_page

ALL, SOME = "all", "some"


def _context(**extra) -> dict:
    page = get_page()
    return {"page": page, "page_tz": page_zone(page), "now": timezone.now(), **extra}


def _visitor(request: HttpRequest) -> audit.Actor:
    return audit.Actor(kind="visitor", name="visitor", source="public", address=client_address(request))


class ComponentsForm(forms.Form):
    """All components, or the ones ticked (checkboxes laid out as the page shows the components)."""

    scope = forms.ChoiceField(label="Components", choices=[(ALL, "All components"), (SOME, "Only the ones I choose")],
                              initial=ALL, widget=forms.RadioSelect)
    components = forms.MultipleChoiceField(required=False)

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.by_id = {c.public_id: c for c in signup.subscribable_components()}
        self.fields["components"].choices = [(key, c.name) for key, c in self.by_id.items()]

    def chosen(self) -> list | None:
        """None for every component, or the components ticked."""
        if self.cleaned_data["scope"] == ALL:
            return None
        return [self.by_id[key] for key in self.cleaned_data["components"]]

    def ticked(self) -> set[str]:
        if self.is_bound:
            return set(self.data.getlist("components")) if hasattr(self.data, "getlist") else set()
        return set(self.initial.get("components") or [])

    def blocks(self) -> list[dict]:
        """The page's groups and components, each with whether its box is ticked."""
        ticked = self.ticked()
        return [{"group": block.group,
                 "items": [{"component": c, "ticked": c.public_id in ticked} for c in block.components]}
                for block in layout(visible_only=True) if block.components]


class SubscribeForm(ComponentsForm):
    channel = forms.ChoiceField(label="Send updates by", widget=forms.RadioSelect)
    email = forms.CharField(label="E-mail address", required=False, max_length=320)
    url = forms.CharField(label="URL", required=False, max_length=2000,
                          help_text="A webhook receiver (https://…), or the incoming webhook URL Slack, Discord or "
                                    "Teams gave you.")
    owner_email = forms.CharField(label="Owner's e-mail address (webhooks, optional)", required=False, max_length=320,
                                  help_text="Told if the webhook keeps failing and is paused.")
    secret = forms.CharField(label="Signing secret (webhooks, optional)", required=False, max_length=100,
                             help_text='"whsec_…"; leave it empty and one is made for you.')

    field_order = ["channel", "email", "url", "owner_email", "secret", "scope", "components"]

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        offered = signup.channels_offered()
        self.fields["channel"].choices = [(c.value, c.label) for c in offered]
        self.fields["channel"].initial = offered[0].value


def _add_error(form: forms.Form, error: InvalidInput) -> None:
    form.add_error(error.field if error.field in form.fields else None, error.message)


def _subscribe_page(request: HttpRequest, form: SubscribeForm, status: int = 200) -> HttpResponse:
    return TemplateResponse(request, "public/subscribe.html", _context(form=form, email_offered=signup.email_available()),
                            status=status)


@never_cache  # a page for one reader (a CSRF token, a signed link): never kept by a shared cache
@require_http_methods(["GET", "HEAD", "POST"])
def subscribe(request: HttpRequest) -> HttpResponse:
    if request.method != "POST":
        initial = {}
        wanted = request.GET.get("component", "")
        form = SubscribeForm()
        if wanted in form.by_id:  # from a component's own link: that one ticked
            initial = {"scope": SOME, "components": [wanted]}
            form = SubscribeForm(initial=initial)
        return _subscribe_page(request, form)
    form = SubscribeForm(request.POST)
    if not form.is_valid():
        return _subscribe_page(request, form, status=400)
    channel = form.cleaned_data["channel"]
    address = form.cleaned_data["email" if channel == Channel.EMAIL else "url"]
    with audit.acting(_visitor(request)):
        try:
            signup.admit(channel, address)
        except signup.Throttled:
            form.add_error(None, "Too many subscription requests lately, for this address or from your network. "
                                 "Nothing was sent: wait an hour, then try again.")
            return _subscribe_page(request, form, status=429)
        try:
            if channel == Channel.EMAIL:
                signup.subscribe_email(address, form.chosen())
            else:
                subscriber = signup.subscribe_url(channel, address, form.chosen(),
                                                  owner_email=form.cleaned_data["owner_email"],
                                                  secret=form.cleaned_data["secret"])
        except InvalidInput as error:
            _add_error(form, error)
            return _subscribe_page(request, form, status=400)
    if channel == Channel.EMAIL:
        return TemplateResponse(request, "public/subscribe_sent.html", _context())
    # Shown once: the secret and the manage link are not sent anywhere else.
    return TemplateResponse(request, "public/subscribe_done.html", _context(
        subscriber=subscriber, manage_url=links.manage_url(subscriber)))


def _bad_link(request: HttpRequest, error: links.BadLink) -> HttpResponse:
    return TemplateResponse(request, "public/subscription_bad_link.html", _context(reason=str(error)), status=404)


@never_cache  # a page for one reader (a CSRF token, a signed link): never kept by a shared cache
@require_http_methods(["GET", "HEAD", "POST"])
def confirm(request: HttpRequest, token: str) -> HttpResponse:
    """GET shows a button; only its POST confirms, so a mail scanner that follows links confirms nothing."""
    try:
        subscriber = links.subscriber_for(token, "confirm")
    except links.BadLink as error:
        return _bad_link(request, error)
    if request.method != "POST":
        return TemplateResponse(request, "public/subscription_confirm.html", _context(subscriber=subscriber))
    with audit.acting(_visitor(request)):
        subscriber = signup.confirm(subscriber)
    return redirect(links.manage_url(subscriber).removeprefix(_site()) + "?confirmed=1")


def _site() -> str:
    from django.conf import settings

    return settings.SITE_URL


def _what(subscriber: Subscriber) -> dict:
    ids = sorted(subscriber.components.values_list("public_id", flat=True))
    return {"scope": ALL if subscriber.all_components else SOME, "components": ids}


@never_cache  # a page for one reader (a CSRF token, a signed link): never kept by a shared cache
@require_http_methods(["GET", "HEAD", "POST"])
def manage(request: HttpRequest, token: str) -> HttpResponse:
    try:
        subscriber = links.subscriber_for(token, "manage")
    except links.BadLink as error:
        return _bad_link(request, error)
    saved = False
    status = 200
    if request.method == "POST":
        form = ComponentsForm(request.POST)
        if form.is_valid():
            with audit.acting(_visitor(request)):
                try:
                    signup.change(subscriber, form.chosen())
                except InvalidInput as error:
                    _add_error(form, error)
                else:
                    saved = True
        if not saved:
            status = 400
    else:
        form = ComponentsForm(initial=_what(subscriber))
    return TemplateResponse(request, "public/subscription_manage.html", _context(
        subscriber=subscriber, form=form, saved=saved, confirmed="confirmed" in request.GET,
        unsubscribe_url=links.unsubscribe_url(subscriber).removeprefix(_site())), status=status)


@csrf_exempt  # RFC 8058: a mail client's one-click POST carries no token; the signed link is the proof
@never_cache  # a page for one reader (a CSRF token, a signed link): never kept by a shared cache
@require_http_methods(["GET", "HEAD", "POST"])
def unsubscribe(request: HttpRequest, token: str) -> HttpResponse:
    """GET asks first; a POST (the button, or a mail client's `List-Unsubscribe=One-Click`) unsubscribes."""
    try:
        subscriber = links.subscriber_for(token, "manage")
    except links.BadLink as error:
        return _bad_link(request, error)
    if request.method != "POST":
        return TemplateResponse(request, "public/subscription_unsubscribe.html", _context(subscriber=subscriber))
    with audit.acting(_visitor(request)):
        signup.unsubscribe(subscriber)
    return TemplateResponse(request, "public/subscription_gone.html", _context())
