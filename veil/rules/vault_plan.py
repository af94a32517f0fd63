"""A Plan with vault tokens: it knows its vault actions and hands them each body's subject.

A vault rule may name a subject (``subject: $.customer.id``): the data subject
whose tokens ``veil vault forget`` erases. The action sees one value at a time,
so this plan parses a JSON body once more and publishes it, for the length of
the call, in a context variable the actions read (:func:`set_document`). Bodies
that are not one JSON document (NDJSON, text, forms) have no subject: their
tokens are issued without one and are erased by their TTL only.
"""

from __future__ import annotations

from typing import Any

import orjson

from veil.rules.actions.vault_token import VaultTokenize, reset_document, set_document
from veil.rules.plan import Plan
from veil.rules.plan_types import Report, Result, Route


class VaultPlan(Plan):
    """A :class:`Plan` whose policy has vault tokens (``vault_actions``)."""

    does_io = True  # every new value is a round trip to the vault backend (Redis over the network, a SQLite file)

    def __init__(self, *, vault_actions: tuple[VaultTokenize, ...], **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.vault_actions = vault_actions
        self._needs_subject = any(a.subject is not None for a in vault_actions)

    def redact_body(self, body: bytes, content_type: str = "", route: Route | None = None, *,
                    rules_for: str = "", rules_also: str = "") -> Result:
        if not self._needs_subject or not body:
            return super().redact_body(body, content_type, route, rules_for=rules_for, rules_also=rules_also)
        doc = None
        if body.lstrip()[:1] in (b"{", b"["):  # JSON, whatever its declared type (it may be sniffed)
            try:
                doc = orjson.loads(body)
            except orjson.JSONDecodeError:
                doc = None  # not one JSON document: the plan itself says what it is
        token = set_document(doc)
        try:
            return super().redact_body(body, content_type, route, rules_for=rules_for, rules_also=rules_also)
        finally:
            reset_document(token)

    def redact_json(self, value: Any, route: Route | None = None) -> tuple[Any, Report]:
        token = set_document(value)
        try:
            return super().redact_json(value, route)
        finally:
            reset_document(token)
