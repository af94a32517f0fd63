"""What the three login apps share: the one user, its profile, the tokens, and the app's log.

Environment (read once, at import):

- ``LOGIN_PROFILE``: the built-in profile the app's veil middleware runs (``app``, ``strict``...),
  ``default`` for the middleware given no policy, or ``none`` for no middleware (the app then plays
  a vendor called through the egress transport).
- ``LOGIN_LOG_FILE``: where the app's log goes, through veil's logging filter on ``builtin:logs``.

Tokens are signed, not stored, so a token issued by one server process is valid at another run
with the same key (the tests log in on a bare app and present the token to a guarded one); logout
revokes a token in its process.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import os
import secrets
from typing import Any

from veil.integrations.logging import RedactingFilter

SECRET_KEY = "login-apps-test-key-not-a-secret"
EMAIL = "jane.roe@example.com"
PASSWORD = "correct horse battery staple"
PROFILE: dict[str, Any] = {
    "id": 42,
    "plan": "gold",
    "user": {"email": EMAIL, "name": "Jane Roe", "phone": "+1 415 555 0100"},
    "card": "4111 1111 1111 1111",
    "note": "call me on +44 20 7946 0958",
}
"""What an authenticated call answers: an id and a plan to keep, personal data to protect."""

PERSONAL_DATA = (EMAIL, "Jane Roe", "415 555 0100", "4111 1111 1111 1111", "7946 0958")

PROFILE_NAME = os.environ.get("LOGIN_PROFILE", "app")
MIDDLEWARE = PROFILE_NAME != "none"
"""Whether veil's middleware guards the app."""
POLICY = f"builtin:{PROFILE_NAME}" if MIDDLEWARE and PROFILE_NAME != "default" else None
"""The middleware's policy; None for ``default``: the middleware given no policy, as a user who chose none."""

_revoked: set[str] = set()
log = logging.getLogger("login_app")


def _setup_log() -> None:
    path = os.environ.get("LOGIN_LOG_FILE")
    if not path:
        return
    handler = logging.FileHandler(path)
    handler.addFilter(RedactingFilter(policy="builtin:logs"))
    log.addHandler(handler)
    log.setLevel(logging.INFO)


_setup_log()


def _sign(value: str) -> str:
    return hmac.new(SECRET_KEY.encode(), value.encode(), hashlib.sha256).hexdigest()


def issue_token() -> str:
    """A new bearer token for the user: random, then signed."""
    nonce = secrets.token_urlsafe(24)
    return f"{nonce}.{_sign(nonce)}"


def token_valid(token: str) -> bool:
    nonce, _, signature = token.partition(".")
    return hmac.compare_digest(signature, _sign(nonce)) and token not in _revoked


def revoke(token: str) -> None:
    _revoked.add(token)


def bearer(authorization: str | None) -> str | None:
    """The token of an ``Authorization: Bearer <token>`` header, if it holds a valid one."""
    scheme, _, token = (authorization or "").partition(" ")
    return token if scheme.lower() == "bearer" and token_valid(token) else None


def credentials_ok(body: Any) -> bool:
    return isinstance(body, dict) and body.get("email") == EMAIL and body.get("password") == PASSWORD


def login_reply(token: str) -> dict[str, Any]:
    """What a login answers: the token to keep (the app's own auth) and the user to protect."""
    log.info("login of %s, issued access_token=%s", EMAIL, token)
    return {"access_token": token, "token_type": "bearer", "user": PROFILE["user"]}


def profile_reply(how: str) -> dict[str, Any]:
    log.info("profile of %s served (auth by %s)", EMAIL, how)
    return {**PROFILE, "auth": how}


def contact_reply() -> dict[str, Any]:
    """A public page (no login) with the user's contact details: personal data in a response."""
    return {"user": PROFILE["user"], "card": PROFILE["card"]}
