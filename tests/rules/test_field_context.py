"""A field name can be the context a weaker candidate needs, on both JSON paths alike.

``{"nino": "AB123456"}`` (no suffix letter) only counts because of its key; the splice
path must scan such a value with its key as context, as the walk does. And a value
string is not scanned whole merely because it holds a short context word as a
substring ("beanie" holds "ni").
"""

from __future__ import annotations

import orjson
import pytest

from veil import compile_policy, default_plan

JSON = "application/json"
WALKED = compile_policy(
    "version: 1\nrules:\n  - id: sel\n    fields: [{path: $.nothing.here, action: redact}]\n"
    "  - id: scan\n    scan: true\n"
)

CASES = [
    ({"nino": "AB123456"}, {"nino": "[REDACTED:UK_NINO]"}),
    ({"customerNino": "ab123456"}, {"customerNino": "[REDACTED:UK_NINO]"}),
    ({"tax_id": "900701234"}, {"tax_id": "[REDACTED:US_ITIN]"}),
    ({"note": "my nino is ab 12 34 56"}, {"note": "my nino is [REDACTED:UK_NINO]"}),
    ({"note": "ITIN 900701234"}, {"note": "ITIN [REDACTED:US_ITIN]"}),
    ({"opinion": "AB123456"}, {"opinion": "AB123456"}),  # 'ni' inside a word is no context
    ({"item": "Merino beanie AB123456"}, {"item": "Merino beanie AB123456"}),
    ({"id": "ord_828367436b1b", "ref": "123456789"}, {"id": "ord_828367436b1b", "ref": "123456789"}),
]


@pytest.mark.parametrize(("doc", "expected"), CASES)
def test_field_names_give_context_on_the_splice_path(doc: dict[str, str], expected: dict[str, str]) -> None:
    out = default_plan().redact_body(orjson.dumps(doc), JSON).output
    assert orjson.loads(out) == expected


@pytest.mark.parametrize(("doc", "expected"), CASES)
def test_field_names_give_context_on_the_walk(doc: dict[str, str], expected: dict[str, str]) -> None:
    out = WALKED.redact_body(orjson.dumps(doc), JSON).output
    assert orjson.loads(out) == expected
