"""Kept credentials that hold personal data are not kept (issue #15 review of #16's ``builtin:app``).

A policy that keeps an app's own login working keeps its credentials as they are: the
session and CSRF cookies it sets, the tokens a login reply hands out, its auth headers.
It names them with the entity :data:`OPAQUE_CREDENTIAL` (``AUTH_TOKEN``) and the action
``keep``. Such a value is kept only while it is opaque: when a detector of personal data
(e-mail, phone, card, SSN, IBAN... any but the credential detectors) finds something in
it, ``{"notification_token": "jane@example.com"}`` or ``Set-Cookie: email=jane@...``,
it is a person's data under a credential's name, and it is scanned as any value no rule
names is, by every detector of the view. Real tokens (random strings, JWTs, signed
cookies) hold nothing those detectors find, so they still cross unchanged.

Credential detectors (:data:`CREDENTIAL_TYPES`) are left out of the check: they find the
kept token itself, which is what keeping it is for. A keep under any other entity is an
allow-list (``{name: uid, action: keep}``, devise_token_auth's login e-mail) and stays one.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from veil.rules.compiled import Binding
    from veil.rules.view import View

OPAQUE_CREDENTIAL = "AUTH_TOKEN"
"""The entity of a credential kept only while no personal data is found in it."""

CREDENTIAL_TYPES = frozenset(
    {"PRIVATE_KEY", "JWT", "API_KEY", "AWS_ACCESS_KEY", "AWS_SECRET_KEY", "BEARER_TOKEN", "URL_CREDENTIALS", "SECRET"}
)
"""Built-in detectors of credentials: their hits in a kept credential do not unkeep it."""


def keeps_opaque_credential(entity: str, binding: Binding) -> bool:
    """Whether ``binding`` keeps a value of ``entity`` as an opaque credential (enforced ``keep``)."""
    return entity == OPAQUE_CREDENTIAL and binding.mode == "enforce" and not binding.action.changes


def holds_personal_data(view: View, text: str) -> bool:
    """Whether a detector of ``view``'s scan, other than a credential detector, finds a
    value in ``text`` that no allow list exempts. False when the view scans nothing."""
    if not view.everywhere or not text:
        return False
    # The scan's detectors without the credential ones: a smaller automaton, and on fresh
    # base64 (every new token) 10-20x faster than all of them together.
    personal = view._everywhere_without(CREDENTIAL_TYPES).detectors
    return any(not view.allows(text[hit.start : hit.end]) for hit in personal.scan([text]))


def unkept(view: View, entity: str, binding: Binding, text: str) -> bool:
    """Whether the value ``text``, which ``binding`` would keep as ``entity``, must be scanned
    instead: it is kept as an opaque credential and holds personal data."""
    return keeps_opaque_credential(entity, binding) and holds_personal_data(view, text)
