"""The accounts screens' entries for tests/test_audit_coverage.py (merged into its CONSOLE_SCENARIOS).

Each scenario takes that file's World (an owner signed in on `w.client`; w.objects["user"] a responder,
["invitation"] an open viewer invitation, ["token"] a write token) and returns (URL, form data) for a
valid POST that records exactly one entry naming the owner. Setup they do first may record entries
of its own; those come before the write measured."""

from collections.abc import Callable

from django.urls import reverse

NEW_PASSWORD = "a brand new passphrase"


def _fresh_code(device) -> str:
    import time

    from django_otp.oath import totp

    device.refresh_from_db()
    now = int((time.time() - device.t0) // device.step)
    wanted = max(now, device.last_t + 1)
    return f"{totp(device.bin_key, device.step, device.t0, device.digits, drift=wanted - now):06d}"


def _password(w) -> tuple[str, dict]:
    w.owner.set_password("the owner's old passphrase")
    w.owner.save()
    w.client.force_login(w.owner)  # the password changed: sign in again
    return reverse("console:account_password"), {
        "current_password": "the owner's old passphrase", "new_password": NEW_PASSWORD,
        "new_password_again": NEW_PASSWORD}


def _two_factor_start(w) -> tuple[str, dict]:
    return reverse("console:account_2fa_start"), {}


def _two_factor_confirm(w) -> tuple[str, dict]:
    from signalpost.accounts import services

    device = services.start_two_factor(w.owner)
    return reverse("console:account_2fa_confirm"), {"code": _fresh_code(device)}


def _two_factor_disable(w) -> tuple[str, dict]:
    from django_otp.plugins.otp_totp.models import TOTPDevice

    device = TOTPDevice.objects.create(user=w.owner, name="phone", confirmed=True)
    response = w.client.post(reverse("console:login_code"), {"code": _fresh_code(device)})
    assert response.status_code == 302, "the code step"
    return reverse("console:account_2fa_disable"), {"code": _fresh_code(device)}


def _invite(w) -> tuple[str, dict]:
    return reverse("console:invitation_new"), {"email": "new.person@example.com", "role": "responder"}


def _role(w) -> tuple[str, dict]:
    return reverse("console:user_role", args=[w.objects["user"].pk]), {"role": "viewer"}


def _deactivate(w) -> tuple[str, dict]:
    return reverse("console:user_deactivate", args=[w.objects["user"].pk]), {}


def _reactivate(w) -> tuple[str, dict]:
    from signalpost.accounts import services

    services.deactivate_user(w.objects["user"], by=w.owner)
    return reverse("console:user_reactivate", args=[w.objects["user"].pk]), {}


def _reset_two_factor(w) -> tuple[str, dict]:
    from django_otp.plugins.otp_totp.models import TOTPDevice

    TOTPDevice.objects.create(user=w.objects["user"], name="phone", confirmed=True)
    return reverse("console:user_reset_2fa", args=[w.objects["user"].pk]), {}


def _revoke_invitation(w) -> tuple[str, dict]:
    return reverse("console:invitation_revoke", args=[w.objects["invitation"].pk]), {}


def _new_token(w) -> tuple[str, dict]:
    return reverse("console:token_new"), {"name": "dashboard", "scope": "read"}


def _revoke_token(w) -> tuple[str, dict]:
    return reverse("console:token_revoke", args=[w.objects["token"].pk]), {}


SCENARIOS: dict[str, Callable] = {
    "console:account_password": _password,
    "console:account_2fa_start": _two_factor_start,
    "console:account_2fa_confirm": _two_factor_confirm,
    "console:account_2fa_disable": _two_factor_disable,
    "console:invitation_new": _invite,
    "console:user_role": _role,
    "console:user_deactivate": _deactivate,
    "console:user_reactivate": _reactivate,
    "console:user_reset_2fa": _reset_two_factor,
    "console:invitation_revoke": _revoke_invitation,
    "console:token_new": _new_token,
    "console:token_revoke": _revoke_token,
}
