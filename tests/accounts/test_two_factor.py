"""Two-factor authentication: set up with a QR code, confirmed by a code, asked for at login, turned off."""

import re
import time
from base64 import b32decode

import pytest
from django.test import Client
from django_otp.oath import totp
from django_otp.plugins.otp_totp.models import TOTPDevice

from signalpost.accounts.models import AuditEvent

from .conftest import PASSWORD
from .helpers import alert, field_error


def code_at(device: TOTPDevice, step: int) -> str:
    """What the authenticator app shows during time step `step` (RFC 6238, from the device's secret)."""
    now = int((time.time() - device.t0) // device.step)
    return f"{totp(device.bin_key, device.step, device.t0, device.digits, drift=step - now):06d}"


def fresh_code(device: TOTPDevice) -> str:
    """A code the device accepts now: the current time step, or the next one when the current step was
    already used (a code works once)."""
    device.refresh_from_db()
    now = int((time.time() - device.t0) // device.step)
    return code_at(device, max(now, device.last_t + 1))


def wrong_code(device: TOTPDevice) -> str:
    return f"{(int(fresh_code(device)) + 1) % 1_000_000:06d}"


def confirmed_device(user) -> TOTPDevice:
    return TOTPDevice.objects.create(user=user, name="Authenticator app", confirmed=True)


def test_it_sets_up_two_factor_with_a_qr_code_and_a_code(make_user, login, audit_count):
    vera = make_user("vera", "viewer")
    client = login(vera)
    counter = audit_count()
    assert client.post("/console/account/two-factor/start").status_code == 302
    device = TOTPDevice.objects.get(user=vera)
    assert not device.confirmed
    page = client.get("/console/account").content.decode()
    svg = re.search(r"<svg.*?</svg>", page, re.DOTALL).group(0)
    assert "style=" not in svg  # the CSP forbids inline styles
    secret = re.search(r'<p class="secret">([A-Z2-7 ]+)</p>', page).group(1)
    assert b32decode(secret.replace(" ", "")) == device.bin_key
    response = client.post("/console/account/two-factor/confirm", {"code": fresh_code(device)})
    assert response.status_code == 302
    device.refresh_from_db()
    assert device.confirmed
    assert [e.action for e in counter.new()] == ["user.2fa_start", "user.2fa_enable"]
    event = counter.new()[-1]
    assert (event.actor, event.address, event.before, event.after) == (
        "vera", "127.0.0.1", {"two_factor": False}, {"two_factor": True})
    # This session showed a code: it goes on without asking again.
    assert client.get("/console/").status_code == 200
    assert "<strong>On.</strong>" in client.get("/console/account").content.decode()


@pytest.mark.parametrize("code, message", [
    ("", "This field is required."),
    ("abcdef", "Type the digits your app shows."),
    ("wrong", "That code is not right"),
])
def test_a_wrong_confirmation_code_leaves_two_factor_off(make_user, login, audit_count, code, message):
    vera = make_user("vera", "viewer")
    client = login(vera)
    client.post("/console/account/two-factor/start")
    device = TOTPDevice.objects.get(user=vera)
    counter = audit_count()
    response = client.post("/console/account/two-factor/confirm",
                           {"code": wrong_code(device) if code == "wrong" else code})
    assert response.status_code == 400
    assert message in field_error(response, "code")
    assert not TOTPDevice.objects.filter(user=vera, confirmed=True).exists()
    assert counter.new() == []


def test_confirming_without_starting_is_refused(make_user, login):
    response = login(make_user("vera")).post("/console/account/two-factor/confirm", {"code": "123456"})
    assert response.status_code == 400
    assert "Start the setup first" in alert(response)


def test_starting_again_while_on_is_refused(make_user, login, audit_count):
    vera = make_user("vera")
    confirmed_device(vera)
    client = login(vera)  # logged in, but not past the code step yet
    device = TOTPDevice.objects.get(user=vera)
    assert client.post("/console/login/code", {"code": fresh_code(device)}).status_code == 302
    counter = audit_count()
    response = client.post("/console/account/two-factor/start")
    assert response.status_code == 400
    assert "already on" in alert(response)
    assert TOTPDevice.objects.filter(user=vera).count() == 1
    assert [e.action for e in counter.new()] == []


def test_login_asks_for_the_code_of_a_real_totp_device(make_user, audit_count):
    vera = make_user("vera", "viewer")
    device = confirmed_device(vera)
    browser = Client()
    response = browser.post("/console/login?next=/console/account", {"username": "vera", "password": PASSWORD})
    assert response.status_code == 302
    assert response["Location"].startswith("/console/login/code")
    # Password alone is not enough.
    assert browser.get("/console/").status_code == 302
    assert browser.get("/console/")["Location"].startswith("/console/login/code")
    counter = audit_count()
    refused = browser.post("/console/login/code?next=/console/account", {"code": wrong_code(device)})
    assert refused.status_code == 400
    assert "That code is not right" in field_error(refused, "code")
    time.sleep(1.1)  # django-otp refuses any code for a second after a wrong one
    response = browser.post("/console/login/code?next=/console/account",
                            {"code": fresh_code(device), "next": "/console/account"})
    assert response.status_code == 302
    assert response["Location"] == "/console/account"
    assert browser.get("/console/").status_code == 200
    assert [e.action for e in counter.new()] == ["user.login_code_failed", "user.login_code"]
    # A code works once.
    other = Client()
    other.post("/console/login", {"username": "vera", "password": PASSWORD})
    device.refresh_from_db()
    assert other.post("/console/login/code", {"code": code_at(device, device.last_t)}).status_code == 400


def test_setting_up_then_logging_in_again_with_the_app(make_user, login):
    vera = make_user("vera", "viewer")
    client = login(vera)
    client.post("/console/account/two-factor/start")
    device = TOTPDevice.objects.get(user=vera)
    client.post("/console/account/two-factor/confirm", {"code": fresh_code(device)})
    client.post("/console/logout")
    client.post("/console/login", {"username": "vera", "password": PASSWORD})
    assert client.get("/console/").status_code == 302
    assert client.post("/console/login/code", {"code": fresh_code(device)}).status_code == 302
    assert client.get("/console/").status_code == 200


def verified_client(user, device) -> Client:
    client = Client()
    client.post("/console/login", {"username": user.get_username(), "password": PASSWORD})
    assert client.post("/console/login/code", {"code": fresh_code(device)}).status_code == 302
    return client


def test_two_factor_is_turned_off_with_the_password(make_user, audit_count):
    vera = make_user("vera")
    client = verified_client(vera, confirmed_device(vera))
    counter = audit_count()
    response = client.post("/console/account/two-factor/disable", {"password": PASSWORD})
    assert response.status_code == 302
    assert not TOTPDevice.objects.filter(user=vera).exists()
    [event] = counter.new()
    assert (event.action, event.actor, event.after) == ("user.2fa_disable", "vera", {"two_factor": False})
    assert Client().post("/console/login", {"username": "vera", "password": PASSWORD})["Location"] == "/console/"


def test_two_factor_is_turned_off_with_a_current_code(make_user):
    vera = make_user("vera")
    device = confirmed_device(vera)
    client = verified_client(vera, device)
    response = client.post("/console/account/two-factor/disable", {"code": fresh_code(device)})
    assert response.status_code == 302
    assert not TOTPDevice.objects.filter(user=vera).exists()


@pytest.mark.parametrize("data, field, message", [
    ({}, "code", "Type a current code from your app, or your password."),
    ({"password": "not my password"}, "password", "This is not your current password."),
    ({"code": "000000"}, "code", "That code is not right"),
])
def test_turning_two_factor_off_needs_proof(make_user, audit_count, data, field, message):
    vera = make_user("vera")
    device = confirmed_device(vera)
    client = verified_client(vera, device)
    if data.get("code") == "000000":
        data = {"code": wrong_code(device)}
    counter = audit_count()
    response = client.post("/console/account/two-factor/disable", data)
    assert response.status_code == 400
    assert message in field_error(response, field)
    assert TOTPDevice.objects.filter(user=vera, confirmed=True).exists()
    assert counter.new() == []


def test_an_admin_resets_the_two_factor_of_someone_who_lost_their_phone(admin, make_user, login, audit_count):
    rita = make_user("rita", "responder")
    confirmed_device(rita)
    counter = audit_count()
    response = login(admin).post(f"/console/users/{rita.pk}/reset-two-factor")
    assert response.status_code == 302
    [event] = counter.new()
    assert (event.action, event.actor, event.address) == ("user.2fa_reset", "adam", "127.0.0.1")
    assert (event.before, event.after) == ({"two_factor": True}, {"two_factor": False})
    assert not TOTPDevice.objects.filter(user=rita).exists()
    response = Client().post("/console/login", {"username": "rita", "password": PASSWORD})
    assert response["Location"] == "/console/"  # no code step any more


def test_an_admin_cannot_reset_an_owners_two_factor(admin, owner, login, audit_count):
    confirmed_device(owner)
    counter = audit_count()
    response = login(admin).post(f"/console/users/{owner.pk}/reset-two-factor")
    assert response.status_code == 400
    assert "only an owner may change an owner or an admin" in alert(response)
    assert TOTPDevice.objects.filter(user=owner).exists()
    assert counter.new() == []


def test_resetting_when_there_is_nothing_to_reset_is_refused(admin, make_user, login):
    rita = make_user("rita", "responder")
    response = login(admin).post(f"/console/users/{rita.pk}/reset-two-factor")
    assert response.status_code == 400
    assert "has no two-factor authentication to reset" in alert(response)
    assert not AuditEvent.objects.filter(action="user.2fa_reset").exists()


def test_the_right_password_alone_does_not_clear_the_failed_codes(make_user):
    vera = make_user("vera")
    device = confirmed_device(vera)
    answers = []
    for n in range(7):  # each try from an address of its own: only the count for vera can stop them
        browser = Client(REMOTE_ADDR=f"192.0.2.{n + 1}")
        signed = browser.post("/console/login", {"username": "vera", "password": PASSWORD})
        answers.append(signed.status_code)
        if signed.status_code != 302:
            break
        answers.append(browser.post("/console/login/code", {"code": wrong_code(device)}).status_code)
    assert 429 in answers and answers.index(429) <= 10
