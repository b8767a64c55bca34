from django.contrib.auth import get_user_model


def test_it_throttles_password_guessing_on_the_console_login(client, db):
    get_user_model().objects.create_superuser("ops", password="correct horse battery")
    for _ in range(5):
        response = client.post("/admin/login/", {"username": "ops", "password": "guess"})
        assert response.status_code == 200  # the form again, with an error
    response = client.post("/admin/login/", {"username": "ops", "password": "correct horse battery"})
    assert response.status_code == 429
    assert not response.wsgi_request.user.is_authenticated


def test_it_lets_the_right_password_in_and_forgets_earlier_failures(client, db):
    get_user_model().objects.create_superuser("ops", password="correct horse battery")
    for _ in range(3):
        client.post("/admin/login/", {"username": "ops", "password": "guess"})
    response = client.post("/admin/login/", {"username": "ops", "password": "correct horse battery"})
    assert response.status_code == 302
    from signalpost.accounts.models import LoginFailure

    assert not LoginFailure.objects.exists()


def test_it_requires_a_csrf_token_on_the_console_login(db):
    from django.test import Client

    get_user_model().objects.create_superuser("ops", password="correct horse battery")
    response = Client(enforce_csrf_checks=True).post("/admin/login/", {"username": "ops", "password": "correct horse battery"})
    assert response.status_code == 403
