"""API_KEY: vendor tokens with a well-known prefix.

Covered: GitHub (``ghp_``/``gho_``/``ghu_``/``ghs_``/``ghr_``, ``github_pat_``),
GitLab ``glpat-``, Slack (``xoxb-``/``xoxp-``/``xoxa-``/``xoxr-``/``xoxs-``,
``xapp-``), Stripe (``sk_live_``/``sk_test_``/``rk_live_``/``rk_test_``/
``pk_live_``), Google ``AIza``, OpenAI-style ``sk-``/``sk-proj-``, Anthropic
``sk-ant-``, npm ``npm_``, PyPI ``pypi-``, Hugging Face ``hf_``, SendGrid
``SG.``, Shopify ``shpat_``-family, DigitalOcean ``dop_v1_``.

Each body is matched greedily over its character set, so the whole token is
reported even when longer than the documented minimum. The validator rejects
low-entropy placeholders (fewer than 10 distinct characters, e.g.
``ghp_xxxxxxxx...``), and bare ``sk-`` tokens must mix upper case, lower case
and digits so prose like ``sk-learn-compatible-estimators`` is not a key.
"""

from __future__ import annotations

from veil.rules.detectors.base import DetectorSpec

_TOKENS = (
    r"gh[pousr]_[A-Za-z0-9]{36,}",
    r"github_pat_[A-Za-z0-9_]{60,}",
    r"glpat-[A-Za-z0-9_\-]{20,}",
    r"xox[bpars]-[A-Za-z0-9\-]{10,}",
    r"xapp-\d-[A-Za-z0-9\-]{10,}",
    r"(?:sk|rk)_(?:live|test)_[A-Za-z0-9]{16,}",
    r"pk_live_[A-Za-z0-9]{16,}",
    r"AIza[A-Za-z0-9_\-]{35,}",
    r"sk-[A-Za-z0-9_\-]{20,}",
    r"npm_[A-Za-z0-9]{36,}",
    r"pypi-[A-Za-z0-9_\-]{50,}",
    r"hf_[A-Za-z0-9]{30,}",
    r"SG\.[A-Za-z0-9_\-]{16,}\.[A-Za-z0-9_\-]{16,}",
    r"shp(?:at|ca|pa|ss)_[a-fA-F0-9]{32,}",
    r"dop_v1_[a-f0-9]{64,}",
)


def is_api_key(candidate: str) -> bool:
    """Not a placeholder; an unprefixed-vendor ``sk-`` token must look random."""
    if not candidate.isascii() or len(set(candidate)) < 10:
        return False
    if candidate.startswith("sk-") and not candidate.startswith("sk-ant-"):
        body = candidate[3:]
        return (
            any(c.isupper() for c in body)
            and any(c.islower() for c in body)
            and any(c.isdigit() for c in body)
        )
    return True


API_KEY = DetectorSpec(
    name="API_KEY",
    pattern=r"\b(?:" + "|".join(_TOKENS) + ")",
    validator=is_api_key,
    context=("api key", "apikey", "token", "secret", "key"),
    description="Vendor API key or token with a well-known prefix (GitHub, Slack, Stripe, Google, OpenAI, ...).",
    examples=(
        "GITHUB_TOKEN=ghp_R7fK2mQ9xLp4Wv8sT1nB6yC3dE5gH0jA2kZu",
        "stripe sk_live_4eC39HqLyjWDarjtT1zdp7dc",
        "key AIzaSyD-9tSrke72PouQMnMX-a7eZSW0jkFMBWY",
    ),
)

DETECTORS: tuple[DetectorSpec, ...] = (API_KEY,)
