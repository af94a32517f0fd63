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


# A short or bare prefix (hf_, AIza, SK, AKCp, r8_, sk-...) wanted a word boundary before it, and
# '_' is a word character: after a token's or a hash's '_' the key crossed whole. Now any character
# that is no letter or digit may precede one; key- and secret_ keep the word boundary (monkey-).
PREFIXES = ["tok_A_k1_", f"{REAL_TOKEN}_", "hash_A_0123456789abcdef_", f"{REAL_HASH}_", "x_"]
APART = [(fmt.name, example_of(fmt)) for fmt in FORMATS if fmt.prefix not in ("key-", "secret_")]


@pytest.mark.parametrize("prefix", PREFIXES)
@pytest.mark.parametrize(("name", "key"), APART, ids=[name for name, _ in APART])
def test_a_key_after_lookalike_text_and_an_underscore_never_passes(name: str, key: str, prefix: str) -> None:
    text = f"see {prefix}{key} ok"
    assert key not in redact(text), name
    assert key not in PLAN.redact_body(orjson.dumps({"note": text}), "application/json").output.decode(), name
