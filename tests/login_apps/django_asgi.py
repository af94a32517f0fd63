"""The Django login app as ASGI (veil's Django middleware then runs its async chain).
Run: ``uvicorn tests.login_apps.django_asgi:application``."""

from __future__ import annotations

import os

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tests.login_apps.django_settings")

from django.core.asgi import get_asgi_application  # type: ignore[import-untyped]  # noqa: E402

application = get_asgi_application()
