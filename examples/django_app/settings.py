"""Settings of the Django example: veil first in MIDDLEWARE, configured by ``VEIL``.

Usage:
    gunicorn examples.django_app.wsgi:application
    python -m django runserver --settings=examples.django_app.settings
    uvicorn examples.django_app.asgi:application

    curl -s localhost:8000/customer
    curl -s localhost:8000/echo -H 'content-type: application/json' -d '{"email": "jane@example.com"}'
    curl -sN localhost:8000/events
"""

from __future__ import annotations

import os

DEBUG = os.environ.get("DJANGO_DEBUG") == "1"
SECRET_KEY = os.environ.get("DJANGO_SECRET_KEY", "veil-example-not-a-secret")
ALLOWED_HOSTS = ["127.0.0.1", "localhost", "[::1]"]
ROOT_URLCONF = "examples.django_app.urls"
WSGI_APPLICATION = "examples.django_app.wsgi.application"
INSTALLED_APPS: list[str] = [
    "veil.integrations.django.VeilConfig",  # a bad policy stops manage.py check and runserver with file:line:col
]
DATABASES: dict[str, dict[str, str]] = {}  # no database: nothing here stores anything
USE_TZ = True

MIDDLEWARE = [
    "veil.integrations.django.VeilMiddleware",  # first: everything after it sees redacted requests
]

VEIL = {
    "POLICY": os.environ.get("VEIL_POLICY"),  # None: veil's built-in default policy
    "ON_ERROR": "block",  # refuse (400/413) requests and replace (502) responses veil cannot process
}
