"""Invitations: created by an admin, shown once, e-mailed over real SMTP, accepted once by the invitee."""

import hashlib
import re
from datetime import timedelta

import pytest
from django.contrib.auth import get_user_model
from django.core import mail
from django.test import Client
from django.utils import timezone

from signalpost.accounts.models import Invitation, Profile

from .conftest import _free_port
from .helpers import field_error, link_in, messages_of

User = get_user_model()


def invite(client, email="ines@example.com", role="responder"):
    """Invite through the console; returns the response of the page that shows the link, and the link."""
    page = client.post("/console/users/invite", {"email": email, "role": role})
    assert page.status_code == 200, page.content.decode()[:2000]
    found = re.search(r'value="(https?://[^"]+/console/invitations/[^"]+)"', page.content.decode())
    return page, found.group(1) if found else None


def path_of(link: str) -> str:
    return "/" + link.split("/", 3)[3]


def test_an_admin_invites_a_responder_and_sees_the_link_once(admin, login, audit_count):
    client = login(admin)
    counter = audit_count()
    page, link = invite(client)
    assert link is not None
    assert "E-mail is not set up here" in " ".join(messages_of(page))
    invitation = Invitation.objects.get()
    token = link.rsplit("/", 1)[1]
    assert len(token) >= 43  # 256 bits, URL-safe base64
    assert invitation.digest == hashlib.sha256(token.encode()).hexdigest()
    assert token not in str(list(Invitation.objects.values()))
    assert timedelta(days=6, hours=23) < invitation.expires_at - timezone.now() <= timedelta(days=7)
    [event] = counter.new()
    assert (event.action, event.actor, event.address) == ("invitation.create", "adam", "127.0.0.1")
    assert event.after["email"] == "ines@example.com" and event.after["role"] == "responder"
    again = client.get(f"/console/invitations/{invitation.pk}/created")
    assert token not in again.content.decode()
    assert "cannot be shown again" in again.content.decode()
    assert mail.outbox == []
    assert "ines@example.com" in client.get("/console/users/").content.decode()


def test_the_invitee_chooses_a_username_and_password_and_is_logged_in(admin, login, audit_count):
    _, link = invite(login(admin))
    visitor = Client()
    form = visitor.get(path_of(link))
    assert form.status_code == 200
    assert "You are invited as <strong>responder</strong>" in form.content.decode()
    counter = audit_count()
    response = visitor.post(path_of(link), {"username": "ines", "password": "a long passphrase 42",
                                            "password_again": "a long passphrase 42"})
    assert response.status_code == 302
    assert response["Location"] == "/console/"
    ines = User.objects.get(username="ines")
    assert ines.email == "ines@example.com"
    assert Profile.objects.get(user=ines).role == "responder"
    assert visitor.get("/console/").status_code == 200  # logged in
    [event] = counter.new()
    assert (event.action, event.actor, event.address) == ("invitation.accept", "ines", "127.0.0.1")
    assert event.after["role"] == "responder" and event.after["invited_by"] == "adam"
    invitation = Invitation.objects.get()
    assert invitation.accepted_by == ines
    # The link works once.
    assert Client().get(path_of(link)).status_code == 404
    assert Client().post(path_of(link), {"username": "other", "password": "a long passphrase 42",
                                         "password_again": "a long passphrase 42"}).status_code == 404
    assert not User.objects.filter(username="other").exists()


@pytest.mark.parametrize("data, field, message", [
    ({"username": "ines", "password": "short", "password_again": "short"}, "password", "too short"),
    ({"username": "ines", "password": "password123", "password_again": "password123"}, "password",
     "too common"),
    ({"username": "ines", "password": "a long passphrase 42", "password_again": "another passphrase"},
     "password_again", "The two passwords differ."),
    ({"username": "adam", "password": "a long passphrase 42", "password_again": "a long passphrase 42"},
     "username", "This username is taken"),
    ({"username": "ADAM", "password": "a long passphrase 42", "password_again": "a long passphrase 42"},
     "username", "This username is taken"),
    ({"username": "in es!", "password": "a long passphrase 42", "password_again": "a long passphrase 42"},
     "username", "Use letters, digits"),
    ({"username": "", "password": "a long passphrase 42", "password_again": "a long passphrase 42"},
     "username", "This field is required."),
])
def test_bad_input_on_the_invitation_page_saves_nothing(admin, login, audit_count, data, field, message):
    _, link = invite(login(admin))
    users = User.objects.count()
    counter = audit_count()
    response = Client().post(path_of(link), data)
    assert response.status_code == 400
    assert message in field_error(response, field)
    assert User.objects.count() == users
    assert Invitation.objects.get().is_usable
    assert counter.new() == []


def test_an_expired_invitation_is_refused(admin, login):
    _, link = invite(login(admin))
    Invitation.objects.update(expires_at=timezone.now() - timedelta(seconds=1))
    response = Client().get(path_of(link))
    assert response.status_code == 404
    assert "This invitation is not valid" in response.content.decode()
    assert Client().get("/console/invitations/not-a-token").status_code == 404


def test_a_revoked_invitation_no_longer_works(admin, login, audit_count):
    client = login(admin)
    _, link = invite(client)
    invitation = Invitation.objects.get()
    counter = audit_count()
    response = client.post(f"/console/invitations/{invitation.pk}/revoke")
    assert response.status_code == 302
    [event] = counter.new()
    assert event.action == "invitation.revoke" and event.actor == "adam" and event.after == {"revoked": True}
    assert Client().get(path_of(link)).status_code == 404
    again = client.post(f"/console/invitations/{invitation.pk}/revoke", follow=True)
    assert "already revoked" in " ".join(messages_of(again))
    assert counter.new() == [event]


@pytest.mark.parametrize("data, field, message", [
    ({"email": "not an address", "role": "viewer"}, "email", "Enter a valid email address."),
    ({"email": "", "role": "viewer"}, "email", "This field is required."),
    ({"email": "ines@example.com", "role": "emperor"}, "role", "Select a valid choice"),
    ({"email": "ines@example.com", "role": "admin"}, "role", "Only an owner may grant the role admin."),
    ({"email": "ines@example.com", "role": "owner"}, "role", "Only an owner may grant the role owner."),
    ({"email": "Adam@Example.com", "role": "viewer"}, "email", "already has an account"),
])
def test_bad_input_on_the_invite_form_saves_nothing(admin, login, audit_count, data, field, message):
    counter = audit_count()
    response = login(admin).post("/console/users/invite", data)
    assert response.status_code == 400
    assert message in field_error(response, field)
    assert not Invitation.objects.exists()
    assert counter.new() == []


def test_an_owner_may_invite_an_admin(owner, login):
    _, link = invite(login(owner), role="admin")
    response = Client().post(path_of(link), {"username": "ines", "password": "a long passphrase 42",
                                             "password_again": "a long passphrase 42"})
    assert response.status_code == 302
    assert Profile.objects.get(user__username="ines").role == "admin"


def test_an_admin_cannot_revoke_an_owners_invitation_to_an_admin(owner, admin, login):
    invite(login(owner), role="admin")
    invitation = Invitation.objects.get()
    response = login(admin).post(f"/console/invitations/{invitation.pk}/revoke", follow=True)
    assert "Only an owner may revoke" in " ".join(messages_of(response))
    assert Invitation.objects.get().is_usable


def test_the_invitation_is_e_mailed_over_smtp_and_works(admin, login, smtp_server):
    client = login(admin)
    page, shown = invite(client, email="ines@example.com", role="viewer")
    assert "Invitation ready; it is being e-mailed to ines@example.com." in messages_of(page)
    recipients, message = smtp_server.next()
    assert message["Message-ID"].startswith("<invitation.created.")
    assert recipients == ["ines@example.com"]
    assert "invitation" in message["Subject"].lower()
    path = link_in(message, "/console/invitations/")
    assert path == path_of(shown)
    visitor = Client()
    response = visitor.post(path, {"username": "ines", "password": "a long passphrase 42",
                                   "password_again": "a long passphrase 42"})
    assert response.status_code == 302
    assert visitor.get("/console/").status_code == 200
    assert Profile.objects.get(user__username="ines").role == "viewer"


def test_a_mail_server_that_is_down_delays_the_mail_not_the_invitation(admin, login, settings):
    from aiosmtpd.controller import Controller
    from django.utils import timezone

    from signalpost.events.models import Handling
    from tests.accounts.conftest import Mailbox
    from tests.publishing import deliver_mail

    port = _free_port()
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT, settings.EMAIL_TIMEOUT = "127.0.0.1", port, 2
    settings.SMTP_CONFIGURED = True
    page, link = invite(login(admin))
    assert link is not None  # the inviter has the link at once, whatever the mail server does
    assert Invitation.objects.get().is_usable
    deliver_mail()
    handling = Handling.objects.get(consumer="mailer")
    assert handling.state == "pending" and handling.attempts == 1
    assert handling.last_error.startswith("mail to ines@example.com failed:")

    mailbox = Mailbox()
    controller = Controller(mailbox, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        Handling.objects.filter(pk=handling.pk).update(due_at=timezone.now())  # its back-off has passed
        deliver_mail()
        recipients, message = mailbox.received.get(timeout=10)
    finally:
        controller.stop()
    assert recipients == ["ines@example.com"]
    assert link_in(message, "/console/invitations/") == path_of(link)
    assert Handling.objects.get(pk=handling.pk).state == "done"


def test_a_visitor_cannot_invite(client, db):
    response = client.post("/console/users/invite", {"email": "x@example.com", "role": "owner"})
    assert response.status_code == 302
    assert response["Location"].startswith("/console/login")
    assert not Invitation.objects.exists()


def test_the_invitation_link_is_shown_on_the_answer_that_creates_it_and_kept_in_no_session(admin, login):
    from django.contrib.sessions.models import Session

    page, link = invite(login(admin))
    assert page["Cache-Control"] == "no-store" and link is not None
    token = link.rsplit("/", 1)[1]
    assert not any(token in str(s.get_decoded()) or token in s.session_data for s in Session.objects.all())
