import pytest
from django.test import Client
from django.contrib.auth import get_user_model


def test_it_throttles_password_guessing_on_the_console_login(client, db):
    get_user_model().objects.create_superuser("ops", password="correct horse battery")
    for _ in range(5):
        response = client.post("/console/login", {"username": "ops", "password": "guess"})
        assert response.status_code == 400  # the form again, with an error
    response = client.post("/console/login", {"username": "ops", "password": "correct horse battery"})
    assert response.status_code == 429
    assert not response.wsgi_request.user.is_authenticated


def test_it_lets_the_right_password_in_and_forgets_earlier_failures(client, db):
    get_user_model().objects.create_superuser("ops", password="correct horse battery")
    for _ in range(3):
        client.post("/console/login", {"username": "ops", "password": "guess"})
    response = client.post("/console/login", {"username": "ops", "password": "correct horse battery"})
    assert response.status_code == 302
    from signalpost.accounts.models import LoginFailure

    assert not LoginFailure.objects.exists()


def test_it_requires_a_csrf_token_on_the_console_login(db):
    from django.test import Client

    get_user_model().objects.create_superuser("ops", password="correct horse battery")
    response = Client(enforce_csrf_checks=True).post("/console/login", {"username": "ops", "password": "correct horse battery"})
    assert response.status_code == 403


def test_it_throttles_the_address_the_proxy_saw_when_behind_one(client, db, settings):
    settings.BEHIND_PROXY = True
    get_user_model().objects.create_superuser("ops", password="correct horse battery")
    for n in range(5):
        client.post("/console/login", {"username": f"guess{n}", "password": "x"},
                    headers={"X-Forwarded-For": "198.51.100.7"}, REMOTE_ADDR="127.0.0.1")
    # the attacker's address is throttled, a colleague behind the same proxy is not
    refused = client.post("/console/login", {"username": "other", "password": "x"},
                          headers={"X-Forwarded-For": "198.51.100.7"}, REMOTE_ADDR="127.0.0.1")
    assert refused.status_code == 429
    allowed = client.post("/console/login", {"username": "ops", "password": "correct horse battery"},
                          headers={"X-Forwarded-For": "203.0.113.9"}, REMOTE_ADDR="127.0.0.1")
    assert allowed.status_code == 302


# --- what a success clears, and which name is counted --------------------------------------------


def _guesses_until_refused(client, username: str, *, limit: int = 30, **request) -> int:
    for attempt in range(1, limit + 1):
        if client.post("/console/login", {"username": username, "password": "guess"}, **request).status_code == 429:
            return attempt - 1
    return limit


@pytest.mark.parametrize("behind_proxy", [False, True])
def test_signing_in_to_an_account_of_ones_own_does_not_buy_more_guesses(db, settings, behind_proxy):
    settings.BEHIND_PROXY = behind_proxy
    request = {"headers": {"X-Forwarded-For": "198.51.100.7"}, "REMOTE_ADDR": "127.0.0.1"} if behind_proxy else {}
    User = get_user_model()
    User.objects.create_superuser("admin", password="correct horse battery")
    User.objects.create_user("mallory", password="mallory's own password")
    attacker = Client()
    guesses = 0
    for _ in range(4):
        for _ in range(4):
            if attacker.post("/console/login", {"username": "admin", "password": "guess"}, **request).status_code == 429:
                break
            guesses += 1
        attacker.post("/console/login", {"username": "mallory", "password": "mallory's own password"}, **request)
        attacker.post("/console/logout", **request)
    assert guesses <= 5
    refused = attacker.post("/console/login", {"username": "admin", "password": "correct horse battery"}, **request)
    assert refused.status_code == 429


def test_a_success_clears_that_users_own_failures_from_anywhere(client, db):
    get_user_model().objects.create_user("ops", password="correct horse battery")
    for n in range(4):
        Client().post("/console/login", {"username": "ops", "password": "guess"}, REMOTE_ADDR=f"192.0.2.{n + 1}")
    assert client.post("/console/login", {"username": "ops", "password": "correct horse battery"},
                       REMOTE_ADDR="203.0.113.5").status_code == 302
    # the earlier failures no longer count against ops: five more tries from yet another address
    assert _guesses_until_refused(Client(), "ops", REMOTE_ADDR="203.0.113.6") == 5


@pytest.mark.parametrize("spelling", [" alice", "alice ", "\talice", "ａｌｉｃｅ", "alice\n"])
def test_every_spelling_that_signs_in_as_alice_counts_against_alice(db, spelling):
    get_user_model().objects.create_user("alice", password="correct horse battery")
    # the way in is the same: the form strips and normalises the name
    assert Client().post("/console/login", {"username": spelling, "password": "correct horse battery"},
                         REMOTE_ADDR="203.0.113.1").status_code == 302
    for n in range(5):  # five failures for "alice", each from its own address
        Client().post("/console/login", {"username": "alice", "password": "guess"}, REMOTE_ADDR=f"192.0.2.{n + 1}")
    refused = Client().post("/console/login", {"username": spelling, "password": "correct horse battery"},
                            REMOTE_ADDR="198.51.100.1")
    assert refused.status_code == 429


def test_failures_under_other_spellings_add_up_for_the_account(db):
    get_user_model().objects.create_user("alice", password="correct horse battery")
    for n, spelling in enumerate([" alice", "alice ", "\talice", "ａｌｉｃｅ", "alice"]):
        Client().post("/console/login", {"username": spelling, "password": "guess"}, REMOTE_ADDR=f"192.0.2.{n + 1}")
    assert Client().post("/console/login", {"username": "alice", "password": "correct horse battery"},
                         REMOTE_ADDR="198.51.100.1").status_code == 429
