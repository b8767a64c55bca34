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
