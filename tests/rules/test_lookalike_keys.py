"""Vendor API keys next to veil-shaped text (issue #15's property, second re-review).

A key of fixed length whose alphabet takes '_', '-' or '.' ran on into a token or hash glued
after it (``github_pat_..._tok_A_k1_b``, ``AIza...-hash_...``): the scan took the glued text as
part of the key, its length check failed, and the key crossed whole.
"""

from __future__ import annotations

import orjson
import pytest

from tests.rules.detectors.test_secret_formats import example_of
from tests.rules.test_lookalike_tokens import PLAN, REAL_HASH, REAL_TOKEN, redact
from veil.rules.detectors.secret_formats import FORMATS

SUFFIXES = ["_tok_A_k1_b", f"_{REAL_TOKEN}", "-tok_A_k1_b", f"-{REAL_HASH}", "_hash_A_0123456789abcdef", ".tok_A_k1_b",
            "_k1", "-x"]
KEYS = [example_of(fmt) for fmt in FORMATS]


@pytest.mark.parametrize("suffix", SUFFIXES)
@pytest.mark.parametrize("key", KEYS, ids=[fmt.name for fmt in FORMATS])
def test_a_key_with_a_separator_and_lookalike_text_glued_after_it_never_passes(key: str, suffix: str) -> None:
    if key in redact(f"see {key} ok"):
        pytest.fail(f"the example key is not found alone: {key}")
    text = f"see {key}{suffix}"  # no "key:" before it: SECRET would take the whole run
    assert key not in redact(text)
    assert key not in PLAN.redact_body(orjson.dumps({"note": text}), "application/json").output.decode()


@pytest.mark.parametrize(
    "text",
    [
        "github_pat_ok_tok_A_k1_b",  # too short for the format, whatever is cut
        "sk-proj_tok_A_k1_b",
        "AIzaShort-tok_A_k1_b",
    ],
)
def test_a_cut_that_fits_no_format_finds_nothing(text: str) -> None:
    assert redact(text) == text
