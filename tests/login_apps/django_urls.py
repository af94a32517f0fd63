"""Views of the Django login app (tests.login_apps.django_settings): the session flow is CSRF
protected (GET /csrf first, then X-CSRFToken), as a Django site's is; bearer calls are not."""

from __future__ import annotations

import json

from django.http import HttpRequest, HttpResponse, JsonResponse  # type: ignore[import-untyped]
from django.middleware.csrf import get_token  # type: ignore[import-untyped]
from django.urls import path  # type: ignore[import-untyped]
from django.views.decorators.http import require_GET, require_POST  # type: ignore[import-untyped]

from tests.login_apps import common


def _who(request: HttpRequest) -> str | None:
    if common.bearer(request.headers.get("Authorization")):
        return "bearer"
    return "cookie" if request.session.get("user") == common.EMAIL else None


@require_GET  # type: ignore[untyped-decorator]
def csrf(request: HttpRequest) -> HttpResponse:
    return JsonResponse({"csrfToken": get_token(request)})


@require_POST  # type: ignore[untyped-decorator]
def login(request: HttpRequest) -> HttpResponse:
    if not common.credentials_ok(json.loads(request.body or b"null")):
        return JsonResponse({"error": "bad credentials"}, status=401)
    request.session.cycle_key()
    request.session["user"] = common.EMAIL
    return JsonResponse(common.login_reply(common.issue_token()))


@require_GET  # type: ignore[untyped-decorator]
def me(request: HttpRequest) -> HttpResponse:
    how = _who(request)
    return JsonResponse(common.profile_reply(how)) if how else JsonResponse({"error": "unauthorized"}, status=401)


@require_POST  # type: ignore[untyped-decorator]
def logout(request: HttpRequest) -> HttpResponse:
    if _who(request) is None:
        return JsonResponse({"error": "unauthorized"}, status=401)
    token = common.bearer(request.headers.get("Authorization"))
    if token:
        common.revoke(token)
    request.session.flush()
    return JsonResponse({"logged_out": True})


@require_GET  # type: ignore[untyped-decorator]
def contact(request: HttpRequest) -> HttpResponse:
    return JsonResponse(common.contact_reply())


@require_POST  # type: ignore[untyped-decorator]
def notes(request: HttpRequest) -> HttpResponse:
    """What the app received: for the egress tests, what the vendor sees."""
    if _who(request) is None:
        return JsonResponse({"error": "unauthorized"}, status=401)
    return JsonResponse({"received": json.loads(request.body)})


urlpatterns = [path("csrf", csrf), path("login", login), path("me", me), path("logout", logout), path("notes", notes),
               path("contact", contact)]
