"""``veil detokenize``: tokens it was asked to open but could not are an error (issue #16)."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from tests.test_cli import KEY_HEX, SEEDED_EMAIL, TOKENIZE_POLICY, PolicyFile, _env, policy_file, veil

__all__ = ["policy_file"]  # the fixture, shared with test_cli


def _tokenize(policy: Path, emails: list[str]) -> str:
    doc = {"users": [{"email": e} for e in emails]}
    policy_text = policy.read_text().replace("$.user.email", "$.users[*].email")
    policy.write_text(policy_text)
    proc = veil("apply", "-p", policy, "-t", "application/json", "-", stdin=json.dumps(doc).encode(),
                env=_env(VEIL_TOKEN_KEY=KEY_HEX))
    assert proc.returncode == 0, proc.stderr
    return proc.stdout.decode()


def _tamper(token: str) -> str:
    """The same token with one payload character changed (still well-formed base32)."""
    i = len(token) - 6
    return token[:i] + ("a" if token[i] != "a" else "b") + token[i + 1:]


@pytest.mark.parametrize(
    ("key_args", "key_env", "reason"),
    [
        (["--key-env", "K"], {"K": "cd" * 64}, "made with another key or scope, or altered"),
        (["--key-env", "K", "--key-id", "k9"], {"K": KEY_HEX}, "made with key id 'k1', which no given key has"),
        (["--key-env", "K", "--scope", "other"], {"K": KEY_HEX}, "made with another key or scope, or altered"),
    ],
)
def test_detokenize_tokens_the_key_does_not_open_exit_1_with_count_and_reason(
    policy_file: PolicyFile, key_args: list[str], key_env: dict[str, str], reason: str
) -> None:
    tokenized = _tokenize(policy_file(TOKENIZE_POLICY), [SEEDED_EMAIL, "bob@example.com"])
    proc = veil("detokenize", *key_args, "-", stdin=tokenized.encode(), env=_env(**key_env))
    assert proc.returncode == 1
    assert proc.stdout.decode() == tokenized  # left as they are, never half-restored
    assert proc.stderr.decode().splitlines() == [
        "veil detokenize: 0 tokens restored",
        f"veil detokenize: 2 tokens could not be opened: 2 {reason}",
    ]


def test_detokenize_tampered_token_fails_and_the_others_are_restored(policy_file: PolicyFile) -> None:
    policy = policy_file(TOKENIZE_POLICY)
    tokenized = _tokenize(policy, [SEEDED_EMAIL, "bob@example.com"])
    tokens = re.findall(r"tok_\w+", tokenized)
    assert len(tokens) == 2
    altered = tokenized.replace(tokens[1], _tamper(tokens[1]))
    proc = veil("detokenize", "-p", policy, "-", stdin=altered.encode(), env=_env(VEIL_TOKEN_KEY=KEY_HEX))
    assert proc.returncode == 1
    out = json.loads(proc.stdout)
    assert out["users"][0]["email"] == SEEDED_EMAIL
    assert out["users"][1]["email"] == _tamper(tokens[1])
    assert proc.stderr.decode().splitlines() == [
        "veil detokenize: 1 token restored",
        "veil detokenize: 1 token could not be opened: 1 made with another key or scope, or altered",
    ]
    assert "bob@example.com" not in proc.stderr.decode()


@pytest.mark.parametrize(
    "text",
    [
        "no tokens here\n",
        "tok_ alone, tok_email_k1_abc (lower-case tag), tok_EMAIL_K1_abc (upper-case key id)\n",
    ],
)
def test_detokenize_text_without_tokens_is_not_an_error(text: str) -> None:
    proc = veil("detokenize", "--key-env", "K", "-", stdin=text.encode(), env=_env(K=KEY_HEX))
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.decode() == text
    assert proc.stderr == b"veil detokenize: 0 tokens restored\n"
