"""'_' glued to a value never hides it (issue #15, re-review of the word-edged detectors).

DATE_OF_BIRTH, US_PASSPORT, MAC_ADDRESS and BEARER_TOKEN wanted a word boundary (``\\b``) at
their edges, and '_' is a word character for ``\\b``: veil-shaped text (``tok_<TYPE>_<key>_...``,
``hash_<TYPE>_<hex>``) glued on with '_' let the value through (``born: 1985-03-12_tok_A_k1_b``,
``tok_A_k1_b_00:1a:2b:3c:4d:5e``, ``tok_A_k1_b_Bearer ...``). Their edges now take '_' as they
take a space; neutral text glued the same way (``x_1985-03-12``) is found alike, as the property
of issue #15 compares with it. Digits glued on still make a longer number (near misses below).
Not covered: letters glued straight to a date, a passport number or an address
(``born tok_A_k1_b1985-03-12``), which neutral letters hide alike (``born x1985-03-12``).
"""

from __future__ import annotations

import orjson
import pytest

from tests.rules.test_lookalike_tokens import PLAN, REAL_HASH, REAL_TOKEN

DOB = "1985-03-12"
PASSPORT = "912803456"
PASSPORT_LETTER = "C03005988"
MAC = "00:1a:2b:3c:4d:5e"
BEARER = "Xk9vQ2mZ7pL4wRt8aBcDeF12"

# Veil-shaped text: the plan's own outputs, forged ones, and neutral letters of the same shape.
LOOKALIKES = [REAL_TOKEN, REAL_HASH, "tok_A_k1_b", "vtok_EMAIL_k1_qrok", "hash_IP_0123456789abcdef",
              "hash_DATE_OF_BIRTH_0123456789abcdef", "x"]

# (context word before, value, field name): DOB and the passport need a context word within 48
# characters before them (``context_window``), or in the name of the field holding them.
VALUES = [
    ("born: ", DOB, "date_of_birth"),
    ("born ", DOB, "dob"),
    ("DOB ", "12/03/1985", "dob"),
    ("date of birth ", "12 March 1985", "date_of_birth"),
    ("birthday: ", "March 12, 1985", "birthday"),
    ("born ", "1985-03-12T10:00:00Z", "born"),
    ("passport ", PASSPORT, "passport"),
    ("passport number: ", PASSPORT_LETTER, "passport_number"),
    ("", MAC, "note"),
    ("", MAC.upper(), "note"),
    ("", "00-1A-2B-3C-4D-5E", "note"),
    ("", "001a.2b3c.4d5e", "note"),
]


def _redacted_both_ways(text: str, field: str = "note") -> list[str]:
    return [PLAN.redact_text(text).text,
            PLAN.redact_body(orjson.dumps({field: text}), "application/json").output.decode()]


def test_the_values_alone_are_found() -> None:
    for before, value, field in VALUES:
        for out in _redacted_both_ways(f"{before}{value}", field):
            assert value not in out, out
        if before:  # a context word is needed: without one, no value
            assert PLAN.redact_text(value).text == value
    for out in _redacted_both_ways(f"Authorization: Bearer {BEARER}"):
        assert BEARER not in out


# The reviewer's cases.
@pytest.mark.parametrize(
    ("text", "value"),
    [
        (f"born: {DOB}_tok_A_k1_b", DOB),
        (f"born tok_A_k1_b_{DOB}", DOB),
        (f"passport {PASSPORT}_tok_A_k1_b", PASSPORT),
        ("passport 123456789_tok_A_k1_b", "123456789"),  # as reported
        (f"tok_A_k1_b_{MAC}", MAC),
        (f"{MAC.upper()}_tok_A_k1_b", MAC.upper()),
        (f"tok_A_k1_b_Bearer {BEARER}", BEARER),
    ],
)
def test_the_reported_cases_never_pass(text: str, value: str) -> None:
    for out in _redacted_both_ways(text):
        assert value not in out, out


@pytest.mark.parametrize("lookalike", LOOKALIKES)
@pytest.mark.parametrize(("before", "value", "field"), VALUES)
@pytest.mark.parametrize("side", ["before", "after", "both"])
def test_a_value_with_underscore_and_lookalike_text_glued_never_passes(
    lookalike: str, before: str, value: str, field: str, side: str
) -> None:
    head = f"{lookalike}_" if side in ("before", "both") else ""
    tail = f"_{lookalike}" if side in ("after", "both") else ""
    text = f"{before}{head}{value}{tail}"
    # The field name says what the value is wherever the context word stands.
    assert value not in PLAN.redact_body(orjson.dumps({field: text}), "application/json").output.decode()
    if len(before) + len(head) > 48:
        # A lookalike longer than the context window (a real token: 67 characters) pushes the
        # context word out of it, as neutral text of its length does: a matter of the window.
        return
    for out in _redacted_both_ways(text):
        assert value not in out, out


@pytest.mark.parametrize("lookalike", LOOKALIKES)
@pytest.mark.parametrize("header", ["Bearer", "bearer", "BEARER"])
def test_a_bearer_token_after_lookalike_text_and_underscore_never_passes(lookalike: str, header: str) -> None:
    for text in (f"{lookalike}_{header} {BEARER}", f"-H {lookalike}_{header} {BEARER}_{lookalike}"):
        for out in _redacted_both_ways(text):
            assert BEARER not in out, out


@pytest.mark.parametrize(
    "text",
    [
        "born tok_A_k1_b_21985-03-12",  # a five-digit year: no date
        "born x_1985-03-120",  # a longer last group
        "born x_1985-02-30",  # no such day
        "passport x_1234567890",  # ten digits
        "passport x_01234567890_y",
        "passport tok_A_k1_b_000000000",  # a placeholder
        "build_2024-01-02_x",  # a date without a birth word
        "tok_A_k1_b_00:1a:2b:3c:4d:5e:6f",  # a longer run (EUI-64)
        "x_00-1a-2b-3c-4d-5e-6f-70_y",
        "tok_A_k1_b_00:00:00:00:00:00",  # the all-zero address
        "hash_X_ff:ff:ff:ff:ff:ff_k1",  # broadcast
        "x_ab:cd:ef:01:23_y",  # five groups
        "tok_A_k1_b_Bearer of_this_letter",  # prose, no token
        "is_bearer true",
    ],
)
def test_underscore_near_misses_stay_as_they_are(text: str) -> None:
    assert PLAN.redact_text(text).text == text
    body = orjson.dumps({"note": text})
    assert PLAN.redact_body(body, "application/json").output == body


# SECRET reads "Authorization: <word>_Bearer" as an assignment whose value runs through the word
# Bearer: its finding gives way to BEARER_TOKEN's, which starts inside it and runs past its end.
def test_a_bearer_token_after_an_assignment_glued_to_bearer_never_passes() -> None:
    for lookalike in LOOKALIKES:
        text = f"Authorization: {lookalike}_Bearer {BEARER}"
        for out in _redacted_both_ways(text):
            assert BEARER not in out, out
