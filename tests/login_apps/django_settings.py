"""Django app with a login: a bearer token in the JSON reply, Django's session cookie (signed
cookies, no database) and its CSRF protection; veil's middleware first, on ``LOGIN_PROFILE``.
Run: ``python -m django runserver --noreload --settings=tests.login_apps.django_settings``."""

from __future__ import annotations

from tests.login_apps import common

SECRET_KEY = common.SECRET_KEY
DEBUG = False
ALLOWED_HOSTS = ["127.0.0.1", "localhost"]
ROOT_URLCONF = "tests.login_apps.django_urls"
INSTALLED_APPS: list[str] = []
DATABASES: dict[str, dict[str, str]] = {}
USE_TZ = True
SESSION_ENGINE = "django.contrib.sessions.backends.signed_cookies"
MIDDLEWARE = [
    *(["veil.integrations.django.VeilMiddleware"] if common.MIDDLEWARE else []),
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
]
VEIL = {"POLICY": common.POLICY}
