"""Your account: password, two-factor authentication; and the password reset by e-mail for visitors."""

from base64 import b32encode

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import get_user_model, update_session_auth_hash
from django.contrib.auth.tokens import default_token_generator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.http import urlsafe_base64_decode
from django.utils.safestring import mark_safe
from django.views.decorators.http import require_POST, require_safe

from signalpost.errors import InvalidInput, NotFound

from signalpost.accounts import services
from .account_forms import (
    ConfirmCodeForm,
    DisableTwoFactorForm,
    PasswordChangeForm,
    PasswordResetRequestForm,
    SetPasswordForm,
    add_service_error,
)
from signalpost.accounts.roles import public_view, role_required
from signalpost.accounts.sessions import keep_this_session
from signalpost.accounts.throttle import client_address



def _grouped(secret: str) -> str:
    return " ".join(secret[i:i + 4] for i in range(0, len(secret), 4))


def _account_page(request: HttpRequest, *, password_form: PasswordChangeForm | None = None,
                  confirm_form: ConfirmCodeForm | None = None, disable_form: DisableTwoFactorForm | None = None,
                  two_factor_error: str = "", status: int = 200) -> HttpResponse:
    import segno

    user = request.user
    device = services.two_factor_device(user)
    pending = None if device else services.two_factor_device(user, confirmed=False)
    context = {
        "password_form": password_form or PasswordChangeForm(),
        "two_factor_on": device is not None,
        "pending": pending,
        "confirm_form": confirm_form or ConfirmCodeForm(),
        "disable_form": disable_form or DisableTwoFactorForm(),
        "two_factor_error": two_factor_error,
    }
    if pending is not None:
        # segno's SVG is plain markup (a path with presentation attributes): allowed by the CSP.
        context["qr_svg"] = mark_safe(segno.make(pending.config_url, error="m").svg_inline(
            scale=4, omitsize=True, svgclass="qr-code", title="QR code to scan with your authenticator app"))
        context["secret"] = _grouped(b32encode(pending.bin_key).decode())
    response = render(request, "console/account.html", context, status=status)
    if pending is not None:
        response["Cache-Control"] = "no-store"
    return response


@role_required("viewer")
@require_safe
def account(request: HttpRequest) -> HttpResponse:
    return _account_page(request)


@role_required("viewer")
@require_POST
def account_password(request: HttpRequest) -> HttpResponse:
    form = PasswordChangeForm(request.POST)
    if form.is_valid():
        try:
            services.change_password(request.user, form.cleaned_data["current_password"],
                                     form.cleaned_data["new_password"])
        except InvalidInput as error:
            add_service_error(form, error)
        else:
            update_session_auth_hash(request, request.user)  # stay logged in here; other sessions end
            keep_this_session(request)
            messages.success(request, "Your password is changed. Your other sessions have ended: other "
                                      "browsers where you were logged in must log in again.")
            return redirect("console:account")
    return _account_page(request, password_form=form, status=400)


@role_required("viewer")
@require_POST
def account_two_factor_start(request: HttpRequest) -> HttpResponse:
    try:
        services.start_two_factor(request.user)
    except InvalidInput as error:
        return _account_page(request, two_factor_error=error.message, status=400)
    messages.success(request, "Scan the code with your authenticator app, then type the code it shows.")
    return redirect("console:account")


@role_required("viewer")
@require_POST
def account_two_factor_confirm(request: HttpRequest) -> HttpResponse:
    from django_otp import login as otp_login

    form = ConfirmCodeForm(request.POST)
    if form.is_valid():
        try:
            device = services.confirm_two_factor(request.user, form.cleaned_data["code"])
        except InvalidInput as error:
            if error.field not in form.fields:  # nothing to confirm: the form is not even on the page
                return _account_page(request, two_factor_error=error.message, status=400)
            add_service_error(form, error)
        else:
            otp_login(request, device)  # this session has just shown a code: it is verified
            messages.success(request, "Two-factor authentication is on: from now on, logging in asks for a code.")
            return redirect("console:account")
    return _account_page(request, confirm_form=form, status=400)


@role_required("viewer")
@require_POST
def account_two_factor_disable(request: HttpRequest) -> HttpResponse:
    form = DisableTwoFactorForm(request.POST)
    if form.is_valid():
        try:
            services.disable_two_factor(request.user, code=form.cleaned_data["code"],
                                        password=form.cleaned_data["password"])
        except InvalidInput as error:
            if error.field not in form.fields:
                return _account_page(request, two_factor_error=error.message, status=400)
            add_service_error(form, error)
        else:
            messages.success(request, "Two-factor authentication is off.")
            return redirect("console:account")
    return _account_page(request, disable_form=form, status=400)


# --- password reset by e-mail ------------------------------------------------------------------


def _reset_available() -> None:
    if not settings.SMTP_CONFIGURED:
        raise Http404("password reset by e-mail needs EMAIL_HOST")


@public_view
def password_reset(request: HttpRequest) -> HttpResponse:
    _reset_available()
    form = PasswordResetRequestForm(request.POST or None)
    status = 200
    if request.method == "POST":
        if form.is_valid():
            email = form.cleaned_data["email"]
            if services.reset_throttled(email, client_address(request)):
                form.add_error("email", "Too many reset requests. Wait an hour, then try again.")
                return render(request, "console/password_reset.html", {"form": form}, status=429)
            try:
                services.request_password_reset(email)  # the mailer sends the link, if the address has an account
            except InvalidInput as error:
                add_service_error(form, error)
            else:
                return redirect("console:password_reset_sent")
        status = 400
    return render(request, "console/password_reset.html", {"form": form}, status=status)


@public_view
@require_safe
def password_reset_sent(request: HttpRequest) -> HttpResponse:
    _reset_available()
    return render(request, "console/password_reset_sent.html", {})


def _reset_user(uidb64: str, token: str):
    try:
        user = get_user_model().objects.get(pk=urlsafe_base64_decode(uidb64).decode(), is_active=True)
    except (ValueError, TypeError, OverflowError, get_user_model().DoesNotExist):
        return None
    return user if default_token_generator.check_token(user, token) else None


@public_view
def password_reset_confirm(request: HttpRequest, uidb64: str, token: str) -> HttpResponse:
    _reset_available()
    user = _reset_user(uidb64, token)
    if user is None:
        response = render(request, "console/password_reset_invalid.html", {}, status=404)
    else:
        form = SetPasswordForm(request.POST or None)
        status = 200
        if request.method == "POST":
            if form.is_valid():
                try:
                    services.reset_password(user, form.cleaned_data["new_password"])
                except InvalidInput as error:
                    add_service_error(form, error)
                except NotFound:
                    raise Http404("deactivated") from None
                else:
                    messages.success(request, "Your password is set. Log in with it now.")
                    return redirect("console:login")
            status = 400
        response = render(request, "console/password_reset_confirm.html", {"form": form, "person": user},
                          status=status)
    response["Referrer-Policy"] = "no-referrer"  # the token is in this page's address
    return response
