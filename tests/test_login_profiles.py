"""A FastAPI, a Flask and a Django app with a login, behind each built-in profile (issue #16).

The apps (tests/login_apps) log in with a JSON e-mail and password and hand out both a bearer token
(``access_token`` in the reply) and a session cookie (Django's CSRF-protected, as a Django site's
is); ``/me`` answers the user's profile to either, ``/logout`` revokes both, ``/contact`` is a
public page with personal data, ``/notes`` echoes what the app received. Each runs under its real
server (uvicorn, gunicorn, Django's runserver, and Django under uvicorn for the middleware's async
chain), called over loopback with httpx.

What each profile must do there:

- ``app`` (in-app middleware): login, an authenticated call (by token, by cookie) and logout work;
  personal data in responses is protected; the app's log (through ``builtin:logs``) holds none.
- ``strict`` (the default, secure by default): it protects credentials wherever they are, so the
  app's own auth cannot work behind it: the login's e-mail and password reach the app redacted
  (401), and a valid token or session cookie is redacted on the way in (401, where the same
  credential works without veil). Personal data in responses is protected. A middleware given no
  policy runs it and logs one start-up line that says so and names ``builtin:app``.
- ``egress`` (the client's transport to a vendor; here the app plays the vendor): the client's
  ``Authorization``, cookies and CSRF header reach the vendor, so an authenticated call and logout
  work; personal data in what the client sends is redacted; the vendor's replies are the client's
  own data and come back untouched. A password in a JSON login body is a secret in a body, which
  egress protects: logging in through it is refused, by design.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.login_apps.common import EMAIL, PASSWORD, PERSONAL_DATA
from tests.servers import free_port, serve
from veil.integrations.httpx import RedactingTransport
from veil.observe.startup import STRICT_NOTICE

FRAMEWORKS = ("fastapi", "flask", "django", "django-asgi")
TOKEN_SHAPE = re.compile(r"[\w-]+\.[0-9a-f]{64}")  # tests/login_apps/common.py issue_token
CREDENTIALS = {"email": EMAIL, "password": PASSWORD}


def _command(framework: str, port: int) -> list[str]:
    return {
        "fastapi": ["uvicorn", "tests.login_apps.fastapi_app:app", "--host", "127.0.0.1", "--port", str(port)],
        "flask": ["gunicorn", "tests.login_apps.flask_app:app", "--bind", f"127.0.0.1:{port}", "--workers", "1"],
        "django": ["django", "runserver", "--noreload", f"127.0.0.1:{port}",
                   "--settings=tests.login_apps.django_settings"],
        "django-asgi": ["uvicorn", "tests.login_apps.django_asgi:application", "--host", "127.0.0.1", "--port",
                        str(port)],
    }[framework]


@contextmanager
def running(framework: str, profile: str, tmp: Path) -> Iterator[tuple[str, Path]]:
    """The framework's login app on ``builtin:<profile>`` (``default``: the middleware given no policy;
    ``none``: no middleware), under its server: (base URL, the app's log file). The server's own
    output goes to ``<framework>-<profile>.server.log`` in ``tmp``."""
    port = free_port()
    log = tmp / f"{framework}-{profile}.app.log"
    env = {"LOGIN_PROFILE": profile, "LOGIN_LOG_FILE": str(log)}
    with serve(_command(framework, port), port=port, ready="/contact", log=tmp / f"{framework}-{profile}.server.log",
               env=env, drop_env=("VEIL_POLICY", "DJANGO_SETTINGS_MODULE")) as base:
        yield base, log


class Session:
    """A logged-in browser or API client: its httpx client (cookie jar) and what it sends on POSTs.
    Django's session flow is CSRF protected: the client fetches /csrf first and sends the cookie's
    token back in ``X-CSRFToken``, as a Django frontend does."""

    def __init__(self, framework: str, base: str, transport: httpx.BaseTransport | None = None) -> None:
        self.framework = framework
        self.client = httpx.Client(base_url=base, timeout=10, transport=transport)
        if framework.startswith("django"):
            reply = self.client.get("/csrf")
            assert reply.status_code == 200, reply.text
            self.csrf_reply = reply.json()

    def post(self, path: str, **kwargs: Any) -> httpx.Response:
        if self.framework.startswith("django"):
            kwargs["headers"] = {**kwargs.get("headers", {}), "X-CSRFToken": self.client.cookies.get("csrftoken", "")}
        return self.client.post(path, **kwargs)

    def close(self) -> None:
        self.client.close()


def _assert_protected(reply: httpx.Response) -> None:
    """No personal data in the reply, and the fields that held it say what was there."""
    for value in PERSONAL_DATA:
        assert value not in reply.text, (value, reply.text)
    assert reply.json()["user"]["email"] == "[REDACTED:EMAIL]"


def _bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


@pytest.fixture(scope="module", params=FRAMEWORKS)
def bare(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, str]]:
    """The framework's app with no veil at all, shared by the framework's tests: (framework, base URL).
    It issues the credentials the strict and egress tests present, and is their control."""
    framework = str(request.param)
    with running(framework, "none", tmp_path_factory.mktemp(f"{framework}-bare")) as (base, _):
        yield framework, base


def _log_in(framework: str, base: str) -> tuple[Session, str]:
    """A session logged in at ``base``, and its bearer token."""
    session = Session(framework, base)
    reply = session.post("/login", json=CREDENTIALS)
    assert reply.status_code == 200, reply.text
    return session, reply.json()["access_token"]


# -- app -------------------------------------------------------------------------------------


def test_app_profile_keeps_login_calls_and_logout_working_and_protects_personal_data(
    bare: tuple[str, str], tmp_path: Path
) -> None:
    framework, _ = bare
    with running(framework, "app", tmp_path) as (base, log):
        browser = Session(framework, base)
        if framework.startswith("django"):  # the CSRF token handed to the frontend, in JSON and cookie, is kept
            assert browser.csrf_reply["csrfToken"] and "REDACTED" not in browser.csrf_reply["csrfToken"]
            assert "REDACTED" not in browser.client.cookies["csrftoken"]

        login = browser.post("/login", json=CREDENTIALS)
        assert login.status_code == 200, login.text
        token = login.json()["access_token"]
        assert TOKEN_SHAPE.fullmatch(token), token  # handed out as issued
        _assert_protected(login)
        set_cookies = login.headers.get_list("set-cookie")
        assert set_cookies and not [c for c in set_cookies if "REDACTED" in c], set_cookies

        with httpx.Client(base_url=base, timeout=10) as api:  # no cookies: the token alone
            me = api.get("/me", headers=_bearer(token))
            assert me.status_code == 200, me.text
            assert me.json()["auth"] == "bearer" and me.json()["id"] == 42 and me.json()["plan"] == "gold"
            _assert_protected(me)
            assert me.json()["card"] != "4111 1111 1111 1111"

        by_cookie = browser.client.get("/me")  # the session cookie alone
        assert by_cookie.status_code == 200 and by_cookie.json()["auth"] == "cookie", by_cookie.text
        _assert_protected(by_cookie)

        logout = browser.post("/logout", headers=_bearer(token))
        assert logout.status_code == 200, logout.text
        assert browser.client.get("/me").status_code == 401  # the cookie is gone
        assert browser.client.get("/me", headers=_bearer(token)).status_code == 401  # the token revoked
        browser.close()

        _assert_protected(httpx.get(base + "/contact", timeout=10))
    written = log.read_text()
    assert "login of [REDACTED:EMAIL]" in written and "profile of [REDACTED:EMAIL] served (auth by bearer)" in written
    for value in (*PERSONAL_DATA, token):
        assert value not in written, (value, written)


# -- strict ----------------------------------------------------------------------------------


@pytest.mark.parametrize("profile", ["strict", "default"])
def test_strict_profile_protects_the_apps_own_credentials_so_its_auth_cannot_work(
    bare: tuple[str, str], tmp_path: Path, profile: str
) -> None:
    """``default`` (the middleware given no policy) is strict, and says so once at start-up, naming
    ``builtin:app``; ``builtin:strict`` named is a choice, and says nothing."""
    framework, bare_base = bare
    control, token = _log_in(framework, bare_base)
    with running(framework, profile, tmp_path) as (base, _):
        visitor = Session(framework, base)
        login = visitor.post("/login", json=CREDENTIALS)
        assert login.status_code in (401, 403), login.text  # e-mail and password reached the app redacted
        for value in (EMAIL, PASSWORD):
            assert value not in login.text
        visitor.close()

        with httpx.Client(base_url=base, timeout=10) as api:
            assert api.get("/me", headers=_bearer(token)).status_code == 401  # the token arrives redacted
            assert control.client.get("/me", headers=_bearer(token)).status_code == 200  # it works without veil
            _assert_protected(api.get("/contact"))
        cookies = dict(control.client.cookies)
        with httpx.Client(base_url=base, timeout=10, cookies=cookies) as browser:
            assert browser.get("/me").status_code == 401  # the session cookie arrives redacted
        assert control.client.get("/me").status_code == 200  # it works without veil
    control.close()
    said = (tmp_path / f"{framework}-{profile}.server.log").read_text().count(STRICT_NOTICE)
    assert said == (1 if profile == "default" else 0)


# -- egress ----------------------------------------------------------------------------------


@pytest.mark.parametrize("policy", ["builtin:egress", None], ids=["egress", "transport-default"])
def test_egress_profile_keeps_the_clients_credentials_to_the_vendor_and_redacts_what_it_sends(
    bare: tuple[str, str], policy: str | None, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The httpx transport's default (no policy, no $VEIL_POLICY) is builtin:egress, and behaves so."""
    monkeypatch.delenv("VEIL_POLICY", raising=False)
    framework, vendor = bare
    through_veil = Session(framework, vendor, transport=RedactingTransport(policy=policy))

    refused = through_veil.post("/login", json=CREDENTIALS)
    assert refused.status_code == 401, refused.text  # a password in a body is a secret: it never leaves

    direct, token = _log_in(framework, vendor)
    through_veil.client.cookies.update(direct.client.cookies)
    direct.close()

    me = through_veil.client.get("/me", headers=_bearer(token))
    assert me.status_code == 200 and me.json()["auth"] == "bearer", me.text
    assert me.json()["user"]["email"] == EMAIL  # the vendor's reply is the client's own data: untouched
    by_cookie = through_veil.client.get("/me")
    assert by_cookie.status_code == 200 and by_cookie.json()["auth"] == "cookie", by_cookie.text

    note = f"please call {EMAIL} about card 4111 1111 1111 1111"
    sent = through_veil.post("/notes", json={"text": note}, headers=_bearer(token))
    assert sent.status_code == 200, sent.text
    received = sent.json()["received"]["text"]
    assert EMAIL not in received and "4111" not in received and "[REDACTED:EMAIL]" in received

    logout = through_veil.post("/logout", headers=_bearer(token))
    assert logout.status_code == 200, logout.text
    assert through_veil.client.get("/me", headers=_bearer(token)).status_code == 401
    through_veil.close()
