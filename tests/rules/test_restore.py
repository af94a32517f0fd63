"""Restorer and Plan.restorer: which tokens a reply may open, and how they go back into a body."""

from __future__ import annotations

import json

import pytest

from veil import Route, compile_policy
from veil.rules.actions.keys import Keyring
from veil.rules.actions.tokenize import Tokenize
from veil.rules.restore import Restorer

from tests.rules.vendor_plan import VENDOR_ROUTE, vendor_restore_plan

RING = Keyring({"k1": bytes(32)}, active="k1")
RESTORER = Restorer(((RING, ("",)),))
VALUE = 'a"b\\c'  # a quote and a backslash: must be escaped inside JSON
TOKEN = Tokenize(RING).apply(VALUE, "CUSTOM")


@pytest.mark.parametrize(
    "content_type, body, expected, count",
    [
        ("application/json", f'{{"note":"{TOKEN}"}}', '{"note":"a\\"b\\\\c"}', 1),  # JSON-escaped
        ("application/x-ndjson", f'"{TOKEN}"\n{{"n":"x {TOKEN}"}}\n', '"a\\"b\\\\c"\n{"n":"x a\\"b\\\\c"}\n', 2),
        ("text/plain; charset=utf-8", f"note: {TOKEN}.", f"note: {VALUE}.", 1),  # as it is
        ("application/x-www-form-urlencoded", f"note={TOKEN}", f"note={TOKEN}", 0),  # forms: unchanged
        ("application/octet-stream", f"note {TOKEN}", f"note {TOKEN}", 0),  # binary: unchanged
        ("application/json", '{"note":"tok_CUSTOM_k1_abc"}', '{"note":"tok_CUSTOM_k1_abc"}', 0),  # cut short
    ],
)
def test_restore_body(content_type: str, body: str, expected: str, count: int) -> None:
    assert RESTORER.restore_body(body.encode(), content_type) == (expected.encode(), count)


def test_a_restored_value_keeps_json_valid() -> None:
    body = f'{{"note":"{TOKEN}","more":["{TOKEN}"]}}'.encode()
    assert json.loads(RESTORER.restore_body(body, "application/json")[0]) == {"note": VALUE, "more": [VALUE]}


def test_restore_body_opens_only_its_own_scopes() -> None:
    other = Tokenize(RING, scope="tenant-b").apply(VALUE, "CUSTOM")
    body = f"{TOKEN} {other}".encode()
    assert RESTORER.restore_body(body, "text/plain") == (f"{VALUE} {other}".encode(), 1)
    both = Restorer(((RING, ("", "tenant-b")),))
    assert both.restore_body(body, "text/plain") == (f"{VALUE} {VALUE}".encode(), 2)


def test_plan_restorer_follows_restore_true_and_the_rule_match() -> None:
    plan = vendor_restore_plan("  - fields: [{path: $.id, action: {type: tokenize, scope: ids}}]\n")
    vendor = VENDOR_ROUTE
    token = plan.redact_text("mail jane@example.com", vendor).text.removeprefix("mail ")
    restorer = plan.restorer(vendor)
    assert restorer is not None
    assert restorer.restore_text(f"to {token}") == ("to jane@example.com", 1)
    assert plan.restorer(Route("request", "POST", "other.test", "/v1/chat", "application/json")) is None
    id_token = Tokenize(plan.keyrings()[0], scope="ids").apply("u-1", "ID")
    assert restorer.restore_text(id_token) == (id_token, 0)  # a rule without restore: never opened


def test_plan_restorer_is_none_without_restore() -> None:
    plan = compile_policy(
        "version: 1\nkeys:\n  tokens: {env: VEIL_TEST_KEY}\nrules:\n  - scan: {action: {type: tokenize}}\n",
        key_material={"tokens": {"k1": bytes(range(64))}},
    )
    assert plan.restorer(Route("request", "POST", "api.vendor.test", "/", "application/json")) is None


# -- the ledger: a reply restores only what its own request sent -----------------------------------

OTHER = Tokenize(RING).apply("someone.else@example.org", "EMAIL")
MINE = Tokenize(RING).apply("jane@example.com", "EMAIL")


@pytest.mark.parametrize(
    ("received", "sent", "minted"),
    [
        ("mail jane@example.com", f"mail {MINE}", {MINE}),  # veil made it
        (f"mail {OTHER}", f"mail {OTHER}", set()),  # the client wrote it: unchanged, nothing made
        (f"{OTHER} jane@example.com", f"{OTHER} {MINE}", {MINE}),  # only the new one counts
        # The client sent the token escaped; a rewrite of its string unescaped it. Still not made by veil.
        ('{"q": "\\u0074' + OTHER[1:] + ' jane@example.com"}', f'{{"q": "{OTHER} {MINE}"}}', {MINE}),
        (f"q=%74{OTHER[1:]}&to=jane%40example.com", f"q={OTHER}&to={MINE}", {MINE}),
        # The client sent the token and the raw value it stands for: it knows the value either way.
        (f"{MINE} jane@example.com", f"{MINE} {MINE}", {MINE}),
        ("mail jane@example.com", "mail tok_EMAIL_k1_abc", set()),  # not a token these keys open
    ],
)
def test_the_ledger_counts_the_tokens_a_request_gained(received: str, sent: str, minted: set[str]) -> None:
    ledger = RESTORER.ledger()
    ledger.record(received, sent)
    assert set(ledger.minted) == minted


def test_a_ledger_restorer_opens_the_tokens_recorded_after_it_was_made() -> None:
    ledger = RESTORER.ledger()
    restorer = ledger.restorer()  # handed to a stream before the last WebSocket message was sent
    text = f"{MINE} and {OTHER}"
    assert restorer.restore_text(text) == (text, 0)
    ledger.record(b"jane@example.com", MINE.encode())
    assert restorer.restore_text(text) == (f"jane@example.com and {OTHER}", 1)
    assert restorer.open_at(text, len(MINE) + 5) is None and restorer.open_at(text) is not None


@pytest.mark.parametrize(
    ("charset", "lead", "value"),
    [("iso-8859-1", "café ", "José Núñez"), ("windows-1252", "€ ", "José Núñez"), ("shift_jis", "連絡 ", "山田 太郎"),
     ("utf-16", "é ", "José 山田")],
)
def test_a_restored_value_is_written_in_the_bodys_charset(charset: str, lead: str, value: str) -> None:
    """Was: the value went in as UTF-8 bytes among Latin-1 ones (and UTF-16 tokens were never seen)."""
    body = f"{lead}{Tokenize(RING).apply(value, 'CUSTOM')}.".encode(charset)
    out, count = RESTORER.restore_body(body, f"text/plain; charset={charset}")
    assert count == 1 and out.decode(charset) == f"{lead}{value}."


def test_a_value_the_bodys_charset_cannot_write_is_refused_not_mangled() -> None:
    from veil.errors import RedactionError

    token = Tokenize(RING).apply("連絡 jane", "CUSTOM")
    with pytest.raises(RedactionError, match="restored value has no form in iso8859-1"):
        RESTORER.restore_body(f"x {token}".encode("latin-1"), "text/plain; charset=iso-8859-1")
