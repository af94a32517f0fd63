"""``builtin:app`` keeps the tokens real login APIs hand out and redacts the personal data beside them (issue #16).

Each row is the JSON a widely used auth stack answers to a login (or a session/CSRF call), with a
JWT or an opaque token where it puts one and the user's e-mail where it does. The app's frontend
must get the token back as issued, or its next call fails; the e-mail is what veil protects.
"""

from __future__ import annotations

import json
from typing import Any

import pytest

import veil

JWT = "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiI0MiIsImV4cCI6MTcwMDAwMDAwMH0.c2lnbmF0dXJlLW9mLXRoZS10b2tlbg"
OPAQUE = "q7Vd2kP9xLmA4sTz8RbN3cWeY6uHjF1o"
EMAIL = "jane.roe@example.com"
LOGIN = veil.Route("response", "POST", "app.example.com", "/auth/login")

REPLIES: list[tuple[str, dict[str, Any]]] = [
    ("oauth2 / fastapi", {"access_token": JWT, "token_type": "bearer", "email": EMAIL}),
    ("auth0 / keycloak", {"access_token": JWT, "id_token": JWT, "refresh_token": OPAQUE, "expires_in": 86400}),
    ("simplejwt", {"access": JWT, "refresh": JWT}),
    ("drf authtoken", {"token": OPAQUE}),
    ("laravel sanctum", {"token": "1|" + OPAQUE, "user": {"email": EMAIL}}),
    ("strapi", {"jwt": JWT, "user": {"id": 1, "username": "jroe", "email": EMAIL}}),
    ("firebase auth rest", {"idToken": JWT, "refreshToken": OPAQUE, "email": EMAIL, "expiresIn": "3600"}),
    ("cognito", {"AuthenticationResult": {"AccessToken": JWT, "IdToken": JWT, "RefreshToken": OPAQUE}}),
    ("supabase", {"access_token": JWT, "refresh_token": OPAQUE, "user": {"email": EMAIL}}),
    ("pocketbase", {"token": JWT, "record": {"id": "abc123", "email": EMAIL}}),
    ("directus", {"data": {"access_token": JWT, "refresh_token": OPAQUE, "expires": 900000}}),
    ("parse server", {"objectId": "g7y9tkhB7O", "sessionToken": "r:" + OPAQUE, "email": EMAIL}),
    ("okta authn", {"status": "SUCCESS", "sessionToken": OPAQUE, "_embedded": {"user": {"profile": {"login": EMAIL}}}}),
    ("ory kratos", {"session_token": OPAQUE, "session": {"identity": {"traits": {"email": EMAIL}}}}),
    ("graphql login", {"data": {"login": {"token": JWT, "user": {"email": EMAIL}}}}),
    ("nextauth csrf", {"csrfToken": OPAQUE}),
]


def _values(doc: Any) -> list[str]:
    if isinstance(doc, dict):
        return [v for value in doc.values() for v in _values(value)]
    if isinstance(doc, list):
        return [v for value in doc for v in _values(value)]
    return [doc] if isinstance(doc, str) else []


@pytest.mark.parametrize(("stack", "reply"), REPLIES, ids=[stack for stack, _ in REPLIES])
def test_app_profile_hands_the_login_token_back_and_protects_the_email(stack: str, reply: dict[str, Any]) -> None:
    body = json.dumps(reply).encode()
    out = json.loads(veil.load_policy("builtin:app").redact_body(body, "application/json", LOGIN).output)
    sent = _values(out)
    for token in {v for v in _values(reply) if v.endswith((JWT, OPAQUE))}:
        assert token in sent, f"{stack}: a token the frontend needs was redacted: {out}"
    assert EMAIL not in json.dumps(out), f"{stack}: the e-mail crossed: {out}"


@pytest.mark.parametrize(
    "reply",
    [
        {"password": OPAQUE},             # near miss: a password in a response is still redacted
        {"client_secret": OPAQUE},        # and an OAuth client's secret
        {"note": f"your token is {JWT}"},  # a token in free text is not a login token field
        {"jwt_secret": OPAQUE},           # a key ending in "secret", not in a token word
    ],
)
def test_app_profile_still_redacts_secrets_that_are_not_the_apps_login_tokens(reply: dict[str, Any]) -> None:
    body = json.dumps(reply).encode()
    out = veil.load_policy("builtin:app").redact_body(body, "application/json", LOGIN).output.decode()
    assert OPAQUE not in out and JWT not in out, out


REDIRECT = veil.Route("response", "GET", "app.example.com", "/authorize")


@pytest.mark.parametrize(
    ("location", "kept", "gone"),
    [
        # the implicit flow hands tokens to the frontend in the fragment: kept, the e-mail beside them not
        (f"https://app.example.com/cb#access_token={JWT}&token_type=bearer&email={EMAIL}", JWT, EMAIL),
        (f"https://app.example.com/cb#id_token={JWT}&state=xyz", JWT, None),
        (f"https://app.example.com/cb?code={OPAQUE}&state=xyz", OPAQUE, None),  # authorization code flow
        # near misses: a JWT under a name that is not a token's is redacted
        (f"https://app.example.com/cb#data={JWT}", None, JWT),
        (f"https://app.example.com/welcome?email={EMAIL}", None, EMAIL),
    ],
)
def test_app_profile_reads_a_redirects_query_and_fragment_by_name(location: str, kept: str | None, gone: str | None) -> None:
    [(_, sent)] = veil.load_policy("builtin:app").redact_headers([("Location", location)], REDIRECT)[0]
    if kept is not None:
        assert kept in sent, sent
    if gone is not None:
        assert gone not in sent, sent


@pytest.mark.parametrize(
    ("name", "value", "kept"),
    [
        # devise_token_auth's login headers: the client sends each back on every call
        ("access-token", OPAQUE, True),
        ("uid", EMAIL, True),
        ("client", "Lx8wPZ3iF1x4", True),
        ("Authorization", f"Bearer {JWT}", True),  # devise-jwt
        # near misses: the same e-mail under another header, a key under a name that is not the app's auth
        ("x-user-email", EMAIL, False),
        ("x-debug", f"key={OPAQUE} sk_live_{OPAQUE}", False),
    ],
)
def test_app_profile_keeps_the_auth_headers_a_login_hands_out(name: str, value: str, kept: bool) -> None:
    [(_, sent)] = veil.load_policy("builtin:app").redact_headers([(name, value)], LOGIN)[0]
    assert (sent == value) is kept, sent
