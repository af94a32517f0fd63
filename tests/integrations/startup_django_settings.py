"""Django settings for tests/integrations/test_startup_servers.py: veil's app and middleware,
the policy from ``$STARTUP_POLICY``."""

from __future__ import annotations

import os

SECRET_KEY = "veil-test-not-a-secret"
DEBUG = False
ALLOWED_HOSTS = ["127.0.0.1", "localhost"]
ROOT_URLCONF = "examples.django_app.urls"
INSTALLED_APPS = ["veil.integrations.django.VeilConfig"]  # manage.py check validates VEIL and its policy
DATABASES: dict[str, dict[str, str]] = {}
USE_TZ = True
MIDDLEWARE = ["veil.integrations.django.VeilMiddleware"]
VEIL = {"POLICY": os.environ.get("STARTUP_POLICY")}
