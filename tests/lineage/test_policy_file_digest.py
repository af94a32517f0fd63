"""A plan loaded from a policy file (the proxy, extproc, VEIL_POLICY, the middlewares) is named by
the file's bytes: ``plan.digest`` is what ``sha256sum policy.yaml`` prints, cut to 16 hex."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

from veil.settings import load_policy

BODY = "version: 1\nrevision: r1\nrules:\n  - id: mail\n    scan: {detectors: [EMAIL]}\n"


def _sha256sum(path: Path) -> str:
    return "sha256:" + hashlib.sha256(path.read_bytes()).hexdigest()[:16]


@pytest.mark.parametrize(
    "text",
    [
        BODY,
        BODY.replace("\n", "\r\n"),  # CRLF bytes are hashed as stored, not as read in text mode
        "# a comment changes the file, so the digest\n" + BODY,
        BODY + "\n\n",  # trailing blank lines too
    ],
    ids=["plain", "crlf", "comment", "trailing-newlines"],
)
def test_loaded_plan_digest_is_sha256sum_of_the_file(tmp_path: Path, text: str) -> None:
    path = tmp_path / "policy.yaml"
    path.write_bytes(text.encode("utf-8"))
    assert load_policy(path).digest == _sha256sum(path)


def test_files_with_the_same_rules_but_different_bytes_have_different_digests(tmp_path: Path) -> None:
    one, two = tmp_path / "one.yaml", tmp_path / "two.yaml"
    one.write_text(BODY)
    two.write_text("# same rules\n" + BODY)
    assert load_policy(one).digest != load_policy(two).digest
