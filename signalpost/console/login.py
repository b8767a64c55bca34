"""Signing in and out of the console: password, then the TOTP code when the user has set one up."""

from django import forms
from django.contrib import auth, messages
from django.contrib.auth.forms import AuthenticationForm
from django.db import transaction
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_POST

from signalpost.accounts import audit
from signalpost.accounts.roles import needs_second_factor, public_view, role_of
from signalpost.accounts.throttle import clear_failures, client_address, is_throttled, record_failure

THROTTLED = "Too many failed attempts. Wait 15 minutes, then try again."


def _next_url(request: HttpRequest) -> str:
    target = request.POST.get("next") or request.GET.get("next") or "/console/"
    if not url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}, require_https=request.is_secure()):
        return "/console/"
    return target


@public_view
def login(request: HttpRequest) -> HttpResponse:
    if request.user.is_authenticated and role_of(request.user) and not needs_second_factor(request):
        return HttpResponseRedirect(_next_url(request))
    form = AuthenticationForm(request, data=request.POST or None)
    status, error = 200, None
    if request.method == "POST":
        username = request.POST.get("username", "")
        address = client_address(request)
        if is_throttled(username, address):
            form = AuthenticationForm(request, initial={"username": username})
            status, error = 429, THROTTLED
        elif form.is_valid():
            user = form.get_user()
            auth.login(request, user)
            with transaction.atomic(), audit.acting(audit.user_actor(user, "console", address)):
                audit.record("user.login", user, object_repr=user.get_username())
            if needs_second_factor(request):
                # The failures are forgotten once the code is right too: the password alone is not a login.
                return HttpResponseRedirect("/console/login/code?" + request.GET.urlencode())
            clear_failures(user.get_username())
            return HttpResponseRedirect(_next_url(request))
        else:
            record_failure(username, address)
            audit.record("user.login_failed", object_type="user", object_repr=username[:300])
            status = 400
    return render(request, "console/login.html", {"form": form, "error": error, "next": _next_url(request)},
                  status=status)


class CodeForm(forms.Form):
    code = forms.CharField(label="6-digit code from your authenticator app", max_length=8,
                           widget=forms.TextInput(attrs={"autocomplete": "one-time-code", "inputmode": "numeric",
                                                         "autofocus": True, "pattern": "[0-9 ]*"}))


@public_view
def login_code(request: HttpRequest) -> HttpResponse:
    """The second step of signing in, for a user with a confirmed TOTP device."""
    from django_otp import login as otp_login
    from django_otp import match_token

    if not request.user.is_authenticated:
        return HttpResponseRedirect("/console/login")
    if not needs_second_factor(request):
        return HttpResponseRedirect(_next_url(request))
    form = CodeForm(request.POST or None)
    status = 200
    if request.method == "POST" and form.is_valid():
        address = client_address(request)
        username = request.user.get_username()
        if is_throttled(username, address):
            form.add_error("code", THROTTLED)
            status = 429
        else:
            device = match_token(request.user, form.cleaned_data["code"].replace(" ", ""))
            if device is not None:
                otp_login(request, device)
                clear_failures(username)
                audit.record("user.login_code", request.user, object_repr=username)
                return HttpResponseRedirect(_next_url(request))
            record_failure(username, address)
            audit.record("user.login_code_failed", request.user, object_repr=username)
            form.add_error("code", "That code is not right, or has expired. Codes change every 30 seconds.")
            status = 400
    elif request.method == "POST":
        status = 400
    return render(request, "console/login_code.html", {"form": form, "next": _next_url(request)}, status=status)


@public_view
@require_POST
def logout(request: HttpRequest) -> HttpResponse:
    if request.user.is_authenticated:
        audit.record("user.logout", request.user, object_repr=request.user.get_username())
    auth.logout(request)
    messages.info(request, "You are logged out.")
    return HttpResponseRedirect("/console/login")
