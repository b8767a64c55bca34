import json
import os
import subprocess
import sys

import pytest


@pytest.mark.parametrize("path", ["/console/login", "/"])
def test_it_forbids_inline_script_and_framing(client, db, path):
    response = client.get(path)
    csp = response["Content-Security-Policy"]
    script_src = next(part for part in csp.split(";") if part.strip().startswith("script-src")).split()
    assert script_src == ["script-src", "'self'"]
    assert "frame-ancestors 'none'" in csp
    assert response["X-Frame-Options"] == "DENY"
    assert response["X-Content-Type-Options"] == "nosniff"


def test_it_sends_hsts_and_secure_cookies_when_served_over_https(tmp_path):
    """Settings come from the environment at start: an https:// SIGNALPOST_URL turns on HSTS."""
    probe = ("import json, django; django.setup(); from django.conf import settings as s; "
             "print(json.dumps([s.SECURE_HSTS_SECONDS, s.SESSION_COOKIE_SECURE, s.CSRF_COOKIE_SECURE]))")
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "signalpost.settings", "SIGNALPOST_DATA_DIR": str(tmp_path),
           "SIGNALPOST_URL": "https://status.example.com"}
    env.pop("DATABASE_URL", None)
    out = subprocess.run([sys.executable, "-c", probe], env=env, capture_output=True, text=True, check=True)
    hsts, session_secure, csrf_secure = json.loads(out.stdout.strip().splitlines()[-1])
    assert hsts >= 31536000 and session_secure and csrf_secure


def test_the_hsts_header_is_on_https_responses(client, db, settings):
    settings.SECURE_HSTS_SECONDS = 31536000
    response = client.get("/console/login", secure=True)
    assert response["Strict-Transport-Security"].startswith("max-age=31536000")
