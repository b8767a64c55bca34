"""Signalpost settings: everything comes from the environment; a fresh install needs none."""

import ipaddress
from pathlib import Path
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import dj_database_url

from signalpost.env import (
    ConfigError,
    envbool,
    envduration_list,
    envfloat,
    envint,
    envlist,
    envstr,
    persistent_secret_key,
)

BASE_DIR = Path(__file__).resolve().parent.parent
DATA_DIR = Path(envstr("SIGNALPOST_DATA_DIR", str(BASE_DIR / "var"))).resolve()
DATA_DIR.mkdir(parents=True, exist_ok=True)

SECRET_KEY = persistent_secret_key(DATA_DIR)
DEBUG = envbool("DEBUG", False)

PAGE_NAME = envstr("SIGNALPOST_NAME", "Status")
SITE_URL = envstr("SIGNALPOST_URL", "http://127.0.0.1:8000").rstrip("/")
_site_host = urlsplit(SITE_URL).hostname or "127.0.0.1"
ALLOWED_HOSTS = envlist("ALLOWED_HOSTS", sorted({_site_host, "127.0.0.1", "localhost", "[::1]"}))
CSRF_TRUSTED_ORIGINS = envlist("CSRF_TRUSTED_ORIGINS", [SITE_URL])

TIME_ZONE = envstr("TIME_ZONE", "UTC")
try:
    ZoneInfo(TIME_ZONE)
except (ZoneInfoNotFoundError, ValueError):
    raise ConfigError(f"TIME_ZONE={TIME_ZONE!r} is not a known time zone (e.g. Europe/Zurich)") from None
USE_TZ = True
LANGUAGE_CODE = "en-us"
USE_I18N = True

INSTALLED_APPS = [
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "ninja",  # the API docs page's Swagger UI, from the package's own static files (no CDN)
    "signalpost.events",
    "signalpost.presentation",
    "signalpost.status",
    "signalpost.public",
    "signalpost.api",
    "signalpost.accounts",
    "signalpost.console",
    "signalpost.postmortems",
    "signalpost.notify",
    "signalpost.monitors",
    "django_otp",
    "django_otp.plugins.otp_totp",
]

MIDDLEWARE = [
    "signalpost.middleware.api_errors",
    "signalpost.middleware.unstorable_request",
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "signalpost.public.middleware.content_security_policy",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django_otp.middleware.OTPMiddleware",
    "signalpost.accounts.sessions.current_sessions_only",
    "signalpost.accounts.middleware.audit_actor",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "signalpost.urls"
WSGI_APPLICATION = "signalpost.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "signalpost.console.context.console",
            ],
        },
    },
]

DATABASE_URL = envstr("DATABASE_URL", f"sqlite:///{DATA_DIR / 'signalpost.sqlite3'}")
DATABASES = {"default": dj_database_url.parse(DATABASE_URL, conn_max_age=envint("DATABASE_CONN_MAX_AGE", 60))}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    DATABASES["default"]["CONN_MAX_AGE"] = 0
    DATABASES["default"]["OPTIONS"] = {
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA busy_timeout=10000;",
        "transaction_mode": "IMMEDIATE",
    }
else:
    DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
    # A process cut off from the database without a word (a network partition, a killed VM) must not keep
    # its session, and the publication lock that session may hold, for the hours of the system's default
    # TCP keepalive: both ends probe an idle connection after 30 s and give it up a minute later.
    options = DATABASES["default"].setdefault("OPTIONS", {})
    for name, value in (("keepalives", 1), ("keepalives_idle", 30), ("keepalives_interval", 10),
                        ("keepalives_count", 3)):
        options.setdefault(name, value)
    server_side = "-c tcp_keepalives_idle=30 -c tcp_keepalives_interval=10 -c tcp_keepalives_count=3"
    options["options"] = f"{options['options']} {server_side}" if options.get("options") else server_side
DATABASES["default"].setdefault("TEST", {})
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # A file, not memory, so that the test suite can start real server processes on the same database.
    DATABASES["default"]["TEST"]["NAME"] = str(DATA_DIR / "test.sqlite3")

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.Argon2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator", "OPTIONS": {"min_length": 10}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
]

STATIC_URL = "/static/"
STATIC_ROOT = DATA_DIR / "static"
STATIC_ROOT.mkdir(exist_ok=True)
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedStaticFilesStorage"},
}
WHITENOISE_USE_FINDERS = True

LOGIN_URL = "/console/login"
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_AGE = envint("SESSION_COOKIE_AGE", 14 * 24 * 3600)


# Mail (invitations, password reset): sent only when EMAIL_HOST is set.
EMAIL_HOST = envstr("EMAIL_HOST", "")
EMAIL_PORT = envint("EMAIL_PORT", 25)
EMAIL_HOST_USER = envstr("EMAIL_HOST_USER", "")
EMAIL_HOST_PASSWORD = envstr("EMAIL_HOST_PASSWORD", "")
EMAIL_USE_TLS = envbool("EMAIL_USE_TLS", False)
EMAIL_USE_SSL = envbool("EMAIL_USE_SSL", False)
EMAIL_TIMEOUT = envint("EMAIL_TIMEOUT", 20)
DEFAULT_FROM_EMAIL = envstr("DEFAULT_FROM_EMAIL", f"Signalpost <signalpost@{_site_host}>")
SMTP_CONFIGURED = bool(EMAIL_HOST)
SESSION_COOKIE_SECURE = SITE_URL.startswith("https://")
CSRF_COOKIE_SECURE = SESSION_COOKIE_SECURE
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
if SESSION_COOKIE_SECURE:
    SECURE_HSTS_SECONDS = envint("SECURE_HSTS_SECONDS", 31536000)
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")

# Snapshot of the public pages: kept in the database (shared by all web instances) and on disk.
SNAPSHOT_DIR = DATA_DIR / "snapshot"
SNAPSHOT_POLL_SECONDS = envfloat("SIGNALPOST_SNAPSHOT_POLL", 0.25)
# How often the maintenance job looks for windows to start or complete.
WORKER_INTERVAL_SECONDS = envfloat("SIGNALPOST_WORKER_INTERVAL", 1.0)
# Consumers are woken on commit; this poll is only the fallback (a missed wake-up, a retry's back-off).
EVENTS_POLL_SECONDS = envfloat("SIGNALPOST_EVENTS_POLL", 5.0)
# Events every consumer is done with are deleted after this many days.
EVENTS_RETENTION_DAYS = envint("SIGNALPOST_EVENTS_RETENTION_DAYS", 30)
# A failed event is tried again after 1, 2, 4... times this many seconds (at most 5 minutes apart), and set
# aside after a consumer's attempts (8 for the publisher, 10 for mail; SIGNALPOST_EVENTS_MAX_ATTEMPTS for all).
EVENTS_BACKOFF_SECONDS = envfloat("SIGNALPOST_EVENTS_BACKOFF", 1.0)
EVENTS_MAX_ATTEMPTS = envint("SIGNALPOST_EVENTS_MAX_ATTEMPTS", 0) or None
# A claim not finished within this many seconds (its worker died) is taken again; 0: each consumer's own.
EVENTS_LEASE_SECONDS = envfloat("SIGNALPOST_EVENTS_LEASE", 0.0) or None
# Self-signup on the public page: at most this many requests per hour for one address (e-mail or URL)
# and from one client address; over it, the page answers 429 and sends nothing.
SIGNUP_PER_ADDRESS = envint("SIGNALPOST_SIGNUP_PER_ADDRESS", 3)
SIGNUP_PER_IP = envint("SIGNALPOST_SIGNUP_PER_IP", 20)
# Notifications (docs/notifications.md). Component status changes without an incident notify only when on.
NOTIFY_COMPONENT_CHANGES = envbool("SIGNALPOST_NOTIFY_COMPONENT_CHANGES", False)
# Reminders before a maintenance window starts, e.g. "24h,1h" (h or m; empty: none).
NOTIFY_REMINDERS = envduration_list("SIGNALPOST_NOTIFY_REMINDERS", "24h,1h")
# At most this many messages per subscriber and hour (e-mail and chat); the rest go as one digest.
NOTIFY_PER_HOUR = envint("SIGNALPOST_NOTIFY_PER_HOUR", 6)
# A failed delivery is tried again after 30 s, 60 s, 120 s... (with jitter, at most an hour apart), and
# after this many attempts it fails for good (the dead letters, retried from the console).
NOTIFY_MAX_ATTEMPTS = envint("SIGNALPOST_NOTIFY_MAX_ATTEMPTS", 8)
NOTIFY_BACKOFF_SECONDS = envfloat("SIGNALPOST_NOTIFY_BACKOFF", 30.0)
# A claimed batch not recorded within this many seconds (its worker died) is taken again.
NOTIFY_LEASE_SECONDS = envfloat("SIGNALPOST_NOTIFY_LEASE", 120.0)
NOTIFY_BATCH = envint("SIGNALPOST_NOTIFY_BATCH", 500)  # deliveries a worker claims and sends at once
NOTIFY_SMTP_CONNECTIONS = envint("SIGNALPOST_NOTIFY_SMTP_CONNECTIONS", 4)  # kept open, used in parallel
NOTIFY_HTTP_TIMEOUT = envfloat("SIGNALPOST_NOTIFY_HTTP_TIMEOUT", 30.0)  # a webhook's answer, in seconds
# Messages per second each delivery worker sends on a channel (0: as fast as it can).
NOTIFY_RATE_EMAIL = envfloat("SIGNALPOST_NOTIFY_RATE_EMAIL", 0.0)
NOTIFY_RATE_WEBHOOK = envfloat("SIGNALPOST_NOTIFY_RATE_WEBHOOK", 0.0)
NOTIFY_RATE_CHAT = envfloat("SIGNALPOST_NOTIFY_RATE_CHAT", 0.0)
# Outbound requests to addresses users give (webhooks, chat, alert channels) never reach loopback, private,
# link-local, CGNAT, multicast or metadata addresses, except in these CIDR ranges (e.g. 127.0.0.1/32).
OUTBOUND_ALLOW = []
for _range in envlist("SIGNALPOST_OUTBOUND_ALLOW", []):
    try:
        OUTBOUND_ALLOW.append(ipaddress.ip_network(_range, strict=False))
    except ValueError:
        raise ConfigError(f"SIGNALPOST_OUTBOUND_ALLOW: {_range!r} is not a CIDR range (e.g. 127.0.0.1/32)") from None
# Monitors' raw check results are kept this many days, their per-minute roll-ups this many, their per-hour
# roll-ups this many (state changes stay). The defaults keep a year of 1,000 monitors well under 2 GB.
MONITOR_RAW_DAYS = envint("SIGNALPOST_MONITOR_RAW_DAYS", 2)
MONITOR_MINUTE_DAYS = envint("SIGNALPOST_MONITOR_MINUTE_DAYS", 1)
MONITOR_HOURLY_DAYS = envint("SIGNALPOST_MONITOR_HOURLY_DAYS", 400)
# The name of the place this machine's probe checks from (results and verdicts are kept per location).
MONITOR_LOCATION = envstr("SIGNALPOST_MONITOR_LOCATION", "local")
# The team's alerts about monitors: state changes this close together go out as one message, and a
# monitor that stays down is brought up again at most this often.
MONITOR_ALERT_WINDOW_SECONDS = envfloat("SIGNALPOST_MONITOR_ALERT_WINDOW", 30.0)
MONITOR_ALERT_REMINDER_MINUTES = envint("SIGNALPOST_MONITOR_ALERT_REMINDER_MINUTES", 60)
# Behind a reverse proxy, the client address is the last one in X-Forwarded-For (login throttling).
BEHIND_PROXY = envbool("SIGNALPOST_BEHIND_PROXY", False)
DEMO = envbool("SIGNALPOST_DEMO", True)
WEB_WORKERS = envint("SIGNALPOST_WEB_WORKERS", 1)

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"line": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {"console": {"class": "signalpost.log.ConsoleHandler", "formatter": "line"}},
    "root": {"handlers": ["console"], "level": envstr("LOG_LEVEL", "INFO")},
    "loggers": {"django.db.backends": {"level": "WARNING"}},
}


def OTP_TOTP_ISSUER(device) -> str:  # noqa: N802 - django-otp's setting: the name an authenticator app shows
    from signalpost.status.services import get_page

    return get_page().name
