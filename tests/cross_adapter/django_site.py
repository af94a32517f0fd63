"""The case app as a Django project in one module (settings, URLs, view, WSGI application), with veil's
VeilMiddleware first; ``VEIL["POLICY"]`` is ``$VEIL_POLICY``. Served by gunicorn in the cross-adapter test:
``DJANGO_SETTINGS_MODULE=tests.cross_adapter.django_site gunicorn tests.cross_adapter.django_site:application``.
"""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from typing import Any

from tests.cross_adapter.recorder import PAUSE, record, response_for

SECRET_KEY = "cross-adapter-test-not-a-secret"
ALLOWED_HOSTS = ["127.0.0.1"]
ROOT_URLCONF = __name__
INSTALLED_APPS: list[str] = []
DATABASES: dict[str, Any] = {}
USE_TZ = True
MIDDLEWARE = ["veil.integrations.django.VeilMiddleware"]
VEIL = {"POLICY": os.environ.get("VEIL_POLICY")}


def _paced(chunks: tuple[bytes, ...]) -> Iterator[bytes]:
    for n, chunk in enumerate(chunks):
        if n:
            time.sleep(PAUSE)
        yield chunk


def answer(request: Any) -> Any:
    from django.http import HttpResponse, StreamingHttpResponse  # type: ignore[import-untyped]

    meta = request.META
    headers = [(k, v) for k, v in request.headers.items()]
    record(request.method, request.path, meta.get("QUERY_STRING", ""), headers, request.body)
    case = response_for(request.path)
    if case is None:
        return HttpResponse(b"ok", content_type="text/plain")
    if len(case.chunks) == 1:
        response = HttpResponse(case.chunks[0], status=case.status)
    else:
        response = StreamingHttpResponse(_paced(case.chunks), status=case.status)
    del response["Content-Type"]
    for name, value in case.headers:
        if name.lower() == "set-cookie":
            response.cookies.load(value)  # Django keeps Set-Cookie in response.cookies
        else:
            response[name] = value
    return response


def _urls() -> list[Any]:
    from django.urls import re_path  # type: ignore[import-untyped]

    return [re_path(r"^.*$", answer)]


urlpatterns = _urls()


def _application() -> Any:
    from django.core.wsgi import get_wsgi_application  # type: ignore[import-untyped]

    return get_wsgi_application()


application = _application() if os.environ.get("DJANGO_SETTINGS_MODULE") == __name__ else None
