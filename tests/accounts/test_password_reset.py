"""Passwords: changing your own, and resetting a forgotten one through a link e-mailed over real SMTP."""

import re

import pytest
from django.contrib.auth import get_user_model
from django.test import Client

from signalpost.accounts.models import AuditEvent

from .conftest import PASSWORD
from .helpers import field_error, link_in

NEW_PASSWORD = "a brand new passphrase"
User = get_user_model()


def logs_in(username: str, password: str) -> bool:
    return Client().post("/console/login", {"username": username, "password": password}).status_code == 302


# --- changing your password ----------------------------------------------------------------------


def test_you_change_your_password_and_stay_logged_in(make_user, login, audit_count):
    vera = make_user("vera")
    client = login(vera)
    counter = audit_count()
    response = client.post("/console/account/password", {
        "current_password": PASSWORD, "new_password": NEW_PASSWORD, "new_password_again": NEW_PASSWORD})
    assert response.status_code == 302
    [event] = counter.new()
    assert (event.action, event.actor, event.address) == ("user.password_change", "vera", "127.0.0.1")
    assert event.before and event.after and NEW_PASSWORD not in str(event.after)
    assert client.get("/console/account").status_code == 200  # this session goes on
    assert logs_in("vera", NEW_PASSWORD) and not logs_in("vera", PASSWORD)


@pytest.mark.parametrize("data, field, message", [
    ({"current_password": "wrong", "new_password": NEW_PASSWORD, "new_password_again": NEW_PASSWORD},
     "current_password", "This is not your current password."),
    ({"current_password": PASSWORD, "new_password": "short", "new_password_again": "short"},
     "new_password", "too short"),
    ({"current_password": PASSWORD, "new_password": NEW_PASSWORD, "new_password_again": "something else"},
     "new_password_again", "The two passwords differ."),
    ({"current_password": "", "new_password": NEW_PASSWORD, "new_password_again": NEW_PASSWORD},
     "current_password", "This field is required."),
])
def test_a_bad_password_change_saves_nothing(make_user, login, audit_count, data, field, message):
    vera = make_user("vera")
    counter = audit_count()
    response = login(vera).post("/console/account/password", data)
    assert response.status_code == 400
    assert message in field_error(response, field)
    assert logs_in("vera", PASSWORD)
    assert [e.action for e in counter.new()] == ["user.login"]  # only the check above


# --- resetting a forgotten password by e-mail ----------------------------------------------------


def test_without_smtp_there_is_no_password_reset(client, db, settings):
    settings.SMTP_CONFIGURED = False
    assert "Forgot your password?" not in client.get("/console/login").content.decode()
    assert client.get("/console/password-reset").status_code == 404
    assert client.post("/console/password-reset", {"email": "vera@example.com"}).status_code == 404


def test_a_forgotten_password_is_reset_through_the_e_mailed_link(make_user, smtp_server, audit_count):
    make_user("vera", email="vera@example.com")
    browser = Client()
    login_page = browser.get("/console/login").content.decode()
    assert 'href="/console/password-reset"' in login_page
    response = browser.post("/console/password-reset", {"email": "Vera@Example.com"})
    assert response.status_code == 302
    assert response["Location"] == "/console/password-reset/sent"
    recipients, message = smtp_server.next()
    assert recipients == ["vera@example.com"]
    path = link_in(message, "/console/password-reset/")
    form = browser.get(path)
    assert form.status_code == 200 and "For vera." in form.content.decode()
    counter = audit_count()
    response = browser.post(path, {"new_password": NEW_PASSWORD, "new_password_again": NEW_PASSWORD})
    assert response.status_code == 302
    assert response["Location"] == "/console/login"
    [event] = counter.new()
    assert (event.action, event.actor, event.address) == ("user.password_reset", "vera", "127.0.0.1")
    assert event.object_repr == "vera" and event.after
    assert browser.post("/console/login", {"username": "vera", "password": NEW_PASSWORD}).status_code == 302
    assert browser.get("/console/").status_code == 200
    assert not logs_in("vera", PASSWORD)
    # The link works once.
    assert Client().get(path).status_code == 404


def test_an_unknown_address_gets_the_same_answer_and_no_mail(make_user, smtp_server):
    make_user("vera", email="vera@example.com")
    known = Client().post("/console/password-reset", {"email": "vera@example.com"})
    unknown = Client().post("/console/password-reset", {"email": "nobody@example.com"})
    assert (known.status_code, known["Location"]) == (unknown.status_code, unknown["Location"])
    recipients, _ = smtp_server.next()
    assert recipients == ["vera@example.com"]
    assert smtp_server.empty()
    # The request does the same work either way: its audit entry names the address typed, nothing more.
    requests = AuditEvent.objects.filter(action="user.password_reset_request").order_by("id")
    assert [(e.object_repr, e.after) for e in requests] == [("vera@example.com", None), ("nobody@example.com", None)]


def test_a_deactivated_account_gets_no_reset_mail(make_user, smtp_server):
    make_user("gone", email="gone@example.com", active=False)
    assert Client().post("/console/password-reset", {"email": "gone@example.com"}).status_code == 302
    assert smtp_server.empty()


def test_reset_requests_are_throttled_per_address_typed(make_user, smtp_server):
    make_user("vera", email="vera@example.com")
    for _ in range(3):
        assert Client().post("/console/password-reset", {"email": "vera@example.com"}).status_code == 302
    response = Client().post("/console/password-reset", {"email": "vera@example.com"})
    assert response.status_code == 429
    assert "Too many reset requests" in field_error(response, "email")
    for _ in range(3):
        smtp_server.next()
    assert smtp_server.empty()


def test_reset_requests_are_throttled_per_client_address(db, settings):
    settings.SMTP_CONFIGURED = True  # no account matches, so nothing is sent
    browser = Client()
    for n in range(10):
        assert browser.post("/console/password-reset", {"email": f"guess{n}@example.com"}).status_code == 302
    assert browser.post("/console/password-reset", {"email": "another@example.com"}).status_code == 429
    elsewhere = Client(REMOTE_ADDR="192.0.2.10")
    assert elsewhere.post("/console/password-reset", {"email": "another@example.com"}).status_code == 302


@pytest.mark.parametrize("email, message", [("", "This field is required."),
                                            ("not an address", "Enter a valid email address.")])
def test_a_bad_address_on_the_reset_form_is_refused(db, settings, email, message):
    settings.SMTP_CONFIGURED = True
    response = Client().post("/console/password-reset", {"email": email})
    assert response.status_code == 400
    assert message in field_error(response, "email")
    assert not AuditEvent.objects.exists()


@pytest.mark.parametrize("data, field, message", [
    ({"new_password": "short", "new_password_again": "short"}, "new_password", "too short"),
    ({"new_password": "vera@example.com", "new_password_again": "vera@example.com"}, "new_password",
     "too common"),
    ({"new_password": NEW_PASSWORD, "new_password_again": "different"}, "new_password_again", "differ"),
])
def test_a_bad_new_password_on_the_reset_page_saves_nothing(make_user, smtp_server, audit_count, data, field,
                                                             message):
    make_user("vera", email="vera@example.com")
    Client().post("/console/password-reset", {"email": "vera@example.com"})
    path = link_in(smtp_server.next()[1], "/console/password-reset/")
    counter = audit_count()
    if data["new_password"] == "vera@example.com":
        data = {"new_password": "password1234", "new_password_again": "password1234"}
    response = Client().post(path, data)
    assert response.status_code == 400
    assert message in field_error(response, field)
    assert logs_in("vera", PASSWORD)
    assert [e.action for e in counter.new()] == ["user.login"]  # only the check above


def test_a_reset_link_stops_working_once_the_password_changed(make_user, smtp_server, login):
    vera = make_user("vera", email="vera@example.com")
    Client().post("/console/password-reset", {"email": "vera@example.com"})
    path = link_in(smtp_server.next()[1], "/console/password-reset/")
    login(vera).post("/console/account/password", {
        "current_password": PASSWORD, "new_password": NEW_PASSWORD, "new_password_again": NEW_PASSWORD})
    response = Client().post(path, {"new_password": "yet another passphrase",
                                    "new_password_again": "yet another passphrase"})
    assert response.status_code == 404
    assert logs_in("vera", NEW_PASSWORD)
    assert Client().get("/console/password-reset/MQ/not-a-token").status_code == 404


def test_the_mailer_does_the_same_work_for_an_address_without_an_account(make_user, smtp_server, page):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from tests.publishing import deliver_mail

    make_user("vera", email="vera@example.com")
    def statements(done) -> list[str]:  # whatever their values (ids, times, the address)
        return [re.sub(r"\d+", "N", re.sub(r"'[^']*'", "?", q["sql"])) for q in done.captured_queries]

    answered, mailed = {}, {}
    for email in ("vera@example.com", "nobody@example.com"):
        with CaptureQueriesContext(connection) as done:
            assert Client().post("/console/password-reset", {"email": email}).status_code == 302
        answered[email] = statements(done)
        with CaptureQueriesContext(connection) as done:
            assert deliver_mail() == 1
        mailed[email] = statements(done)
    assert answered["vera@example.com"] == answered["nobody@example.com"]
    assert mailed["vera@example.com"] == mailed["nobody@example.com"]
    recipients, _ = smtp_server.next()
    assert recipients == ["vera@example.com"]  # and only the address with an account got a message
    assert smtp_server.received.empty()
