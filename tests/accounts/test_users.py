"""Users in the console: the list, role changes, deactivation, and who may do what to whom."""

import pytest
from django.contrib.auth import get_user_model
from django.test import Client
from django_otp.plugins.otp_totp.models import TOTPDevice

from signalpost.accounts import services
from signalpost.accounts.models import AuditEvent, Profile
from signalpost.errors import InvalidInput

from .conftest import PASSWORD
from .helpers import alert, field_error, messages_of


def role(user) -> str:
    return Profile.objects.get(user=user).role


ADMIN_PAGES = ["/console/users/", "/console/users/invite", "/console/tokens/", "/console/tokens/new",
               "/console/audit/", "/console/audit/export.csv", "/console/audit/export.json"]


@pytest.mark.parametrize("path", ADMIN_PAGES)
@pytest.mark.parametrize("who", ["viewer", "responder"])
def test_it_refuses_the_admin_pages_to_viewers_and_responders(make_user, login, who, path):
    response = login(make_user("pat", who)).get(path)
    assert response.status_code == 403
    assert "This needs the role <strong>Admin</strong>" in response.content.decode()


def test_it_refuses_user_changes_to_a_responder(make_user, login, audit_count):
    rita = make_user("rita", "responder")
    vera = make_user("vera", "viewer")
    counter = audit_count()
    response = login(rita).post(f"/console/users/{vera.pk}/role", {"role": "responder"})
    assert response.status_code == 403
    assert role(vera) == "viewer"
    assert counter.new() == []


def test_it_lists_people_with_role_last_login_two_factor_and_state(admin, make_user, login):
    rita = make_user("rita", "responder")
    gone = make_user("gone", "viewer", active=False)
    TOTPDevice.objects.create(user=rita, name="app", confirmed=True)
    Client().post("/console/login", {"username": "rita", "password": PASSWORD})  # gives rita a last login
    response = login(admin).get("/console/users/")
    html = response.content.decode()
    assert response.status_code == 200
    rows = {row.split("</th>")[0]: row for row in html.split('<tr>\n        <th scope="row">')[1:]}
    rita_row = next(row for name, row in rows.items() if ">rita<" in name)
    adam_row = next(row for name, row in rows.items() if ">adam<" in name)
    gone_row = next(row for name, row in rows.items() if f'users/{gone.pk}"' in name)
    assert "Responder" in rita_row and "<time" in rita_row and "Active" in rita_row and "<td>On</td>" in rita_row
    assert "never" in gone_row and "deactivated" in gone_row
    assert "Admin" in adam_row and ">Off<" in adam_row


def test_an_admin_changes_a_viewer_into_a_responder_with_one_audit_entry(admin, make_user, login, audit_count):
    vera = make_user("vera", "viewer")
    counter = audit_count()
    client = login(admin)
    response = client.post(f"/console/users/{vera.pk}/role", {"role": "responder"})
    assert response.status_code == 302
    assert role(vera) == "responder"
    [event] = counter.new()
    assert (event.action, event.actor, event.address) == ("user.role", "adam", "127.0.0.1")
    assert (event.before, event.after) == ({"role": "viewer"}, {"role": "responder"})
    assert event.object_type == "user" and event.object_id == str(vera.pk)
    page = client.get(response["Location"])
    assert "vera is now responder." in messages_of(page)


@pytest.mark.parametrize("new_role", ["owner", "admin"])
def test_an_admin_cannot_grant_owner_or_admin(admin, make_user, login, audit_count, new_role):
    rita = make_user("rita", "responder")
    counter = audit_count()
    response = login(admin).post(f"/console/users/{rita.pk}/role", {"role": new_role})
    assert response.status_code == 400
    assert f"Only an owner may grant the role {new_role}." in field_error(response, "role")
    assert role(rita) == "responder"
    assert counter.new() == []


@pytest.mark.parametrize("target_role", ["owner", "admin"])
def test_an_admin_cannot_change_an_owner_or_another_admin(admin, make_user, login, audit_count, target_role):
    other = make_user("other", target_role)
    counter = audit_count()
    response = login(admin).post(f"/console/users/{other.pk}/role", {"role": "viewer"})
    assert response.status_code == 400
    assert "only an owner may change an owner or an admin" in field_error(response, "role")
    assert role(other) == target_role
    response = login(admin).post(f"/console/users/{other.pk}/deactivate")
    assert response.status_code == 400
    assert "only an owner may change an owner or an admin" in alert(response)
    assert get_user_model().objects.get(pk=other.pk).is_active
    assert counter.new() == []


def test_an_admin_cannot_demote_themselves(admin, login, owner):
    response = login(admin).post(f"/console/users/{admin.pk}/role", {"role": "viewer"})
    assert response.status_code == 400
    assert "Only an owner may take away the role admin" in field_error(response, "role")
    assert role(admin) == "admin"


def test_an_owner_makes_an_admin_and_demotes_another_owner(owner, make_user, login, audit_count):
    rita = make_user("rita", "responder")
    other_owner = make_user("otto", "owner")
    counter = audit_count()
    client = login(owner)
    assert client.post(f"/console/users/{rita.pk}/role", {"role": "admin"}).status_code == 302
    assert client.post(f"/console/users/{other_owner.pk}/role", {"role": "admin"}).status_code == 302
    assert (role(rita), role(other_owner)) == ("admin", "admin")
    assert [e.action for e in counter.new()] == ["user.role", "user.role"]


def test_the_last_active_owner_cannot_be_demoted(owner, make_user, login, audit_count):
    make_user("former", "owner", active=False)  # an owner who cannot log in does not count
    counter = audit_count()
    response = login(owner).post(f"/console/users/{owner.pk}/role", {"role": "admin"})
    assert response.status_code == 400
    assert "olivia is the last active owner: make someone else owner first." in field_error(response, "role")
    assert role(owner) == "owner"
    assert counter.new() == []


def test_an_owner_may_step_down_once_there_is_another_owner(owner, make_user, login):
    make_user("otto", "owner")
    response = login(owner).post(f"/console/users/{owner.pk}/role", {"role": "admin"})
    assert response.status_code == 302
    assert role(owner) == "admin"


def test_the_last_owner_rule_counts_a_superuser_made_before_roles(db, make_user):
    legacy = get_user_model().objects.create_superuser("root", password=PASSWORD)  # no profile: an owner
    olivia = make_user("olivia", "owner")
    services.change_role(olivia, "admin", by=olivia)
    assert role(olivia) == "admin"
    with pytest.raises(InvalidInput, match="last active owner"):
        services.change_role(legacy, "viewer", by=legacy)


def test_a_role_that_is_not_one_is_refused_beside_the_field(admin, make_user, login, audit_count):
    vera = make_user("vera", "viewer")
    counter = audit_count()
    response = login(admin).post(f"/console/users/{vera.pk}/role", {"role": "superhero"})
    assert response.status_code == 400
    assert "Select a valid choice" in field_error(response, "role")
    assert role(vera) == "viewer"
    assert counter.new() == []


def test_nobody_can_deactivate_themselves(owner, make_user, login, audit_count):
    make_user("otto", "owner")
    counter = audit_count()
    response = login(owner).post(f"/console/users/{owner.pk}/deactivate")
    assert response.status_code == 400
    assert "You cannot deactivate yourself" in alert(response)
    assert get_user_model().objects.get(pk=owner.pk).is_active
    assert counter.new() == []


def test_a_deactivated_user_is_logged_out_and_cannot_log_in_again(admin, make_user, login, audit_count):
    rita = make_user("rita", "responder")
    ritas_browser = login(rita)
    assert ritas_browser.get("/console/").status_code == 200
    counter = audit_count()
    response = login(admin).post(f"/console/users/{rita.pk}/deactivate")
    assert response.status_code == 302
    [event] = counter.new()
    assert (event.action, event.actor, event.address) == ("user.deactivate", "adam", "127.0.0.1")
    assert (event.before, event.after) == ({"active": True}, {"active": False})
    assert ritas_browser.get("/console/").status_code == 302  # her session is over
    assert Client().post("/console/login", {"username": "rita", "password": PASSWORD}).status_code == 400
    assert get_user_model().objects.filter(pk=rita.pk).exists()  # never deleted: the audit log refers to her


def test_a_deactivated_user_is_reactivated_with_one_audit_entry(admin, make_user, login, audit_count):
    rita = make_user("rita", "responder", active=False)
    counter = audit_count()
    assert login(admin).post(f"/console/users/{rita.pk}/reactivate").status_code == 302
    [event] = counter.new()
    assert event.action == "user.reactivate" and event.after == {"active": True}
    assert Client().post("/console/login", {"username": "rita", "password": PASSWORD}).status_code == 302


def test_deactivating_twice_is_refused_without_a_second_entry(admin, make_user, login):
    rita = make_user("rita", "responder")
    client = login(admin)
    client.post(f"/console/users/{rita.pk}/deactivate")
    response = client.post(f"/console/users/{rita.pk}/deactivate")
    assert response.status_code == 400
    assert "rita is already deactivated." in alert(response)
    assert AuditEvent.objects.filter(action="user.deactivate").count() == 1


def test_changes_to_users_are_posts_only(admin, make_user, login):
    vera = make_user("vera", "viewer")
    client = login(admin)
    for action in ("role", "deactivate", "reactivate", "reset-two-factor"):
        assert client.get(f"/console/users/{vera.pk}/{action}").status_code == 405


def test_the_user_page_shows_the_accounts_recent_history(admin, make_user, login):
    vera = make_user("vera", "viewer")
    client = login(admin)
    client.post(f"/console/users/{vera.pk}/role", {"role": "responder"})
    html = client.get(f"/console/users/{vera.pk}").content.decode()
    assert "user.role" in html
    assert client.get("/console/users/999999").status_code == 404


# --- which changes end a person's sessions -----------------------------------------------------------


def test_reactivating_someone_does_not_bring_their_old_sessions_back(admin, make_user, login):
    rita = make_user("rita", "responder")
    ritas_browser = login(rita)
    assert ritas_browser.get("/console/").status_code == 200
    console = login(admin)
    done = console.post(f"/console/users/{rita.pk}/deactivate", follow=True)
    assert "their sessions have ended" in " ".join(messages_of(done))
    assert console.post(f"/console/users/{rita.pk}/reactivate").status_code == 302
    response = ritas_browser.get("/console/")
    assert response.status_code == 302 and response["Location"].startswith("/console/login")
    assert login(rita).get("/console/").status_code == 200  # she logs in again


def test_a_lower_role_ends_the_persons_sessions_and_a_higher_one_does_not(admin, make_user, login):
    rita, vera = make_user("rita", "responder"), make_user("vera", "viewer")
    ritas_browser, veras_browser = login(rita), login(vera)
    console = login(admin)
    done = console.post(f"/console/users/{rita.pk}/role", {"role": "viewer"}, follow=True)
    assert "Their sessions have ended" in " ".join(messages_of(done))
    assert ritas_browser.get("/console/").status_code == 302
    console.post(f"/console/users/{vera.pk}/role", {"role": "responder"})
    assert veras_browser.get("/console/").status_code == 200


def test_stepping_down_keeps_ones_own_session_and_ends_the_others(owner, make_user, login):
    make_user("otto", "owner")
    here, elsewhere = login(owner), login(owner)
    done = here.post(f"/console/users/{owner.pk}/role", {"role": "admin"}, follow=True)
    assert "Your other sessions have ended" in " ".join(messages_of(done))
    assert here.get("/console/").status_code == 200
    assert elsewhere.get("/console/").status_code == 302


def test_a_password_change_ends_the_other_sessions_and_says_so(make_user, login):
    vera = make_user("vera")
    here, elsewhere = login(vera), login(vera)
    done = here.post("/console/account/password", {"current_password": PASSWORD, "new_password": "a new passphrase!",
                                                   "new_password_again": "a new passphrase!"}, follow=True)
    assert "Your other sessions have ended" in " ".join(messages_of(done))
    assert here.get("/console/").status_code == 200
    assert elsewhere.get("/console/").status_code == 302
