"""SECRET: the value of a credential assignment in free text.

Env files and dumps (``DB_PASSWORD=...``, ``export API_TOKEN="..."``), YAML
(``api_key: ...``), JSON inside text (``"client_secret": "..."``), query
strings and form text (``password=...&``) and log lines (``token=... user=``)
all put a key name that says what the value is right before it. The key must
contain one of the words secret, token, password/passwd/pwd, apikey,
credential(s) or auth as a word (``db_password``, ``clientSecret``,
``GITHUBTOKEN``; not ``monkey``), or ``key`` qualified as secret (``api_key``,
``secret_key``, ``signingKey``, ``private-key``...) or standing alone; an
``idempotency_key`` or ``cache_key`` holds an identifier; only the value is reported (``value`` group),
so the key stays readable. The same label as the field-name classifier's
``SECRET`` class, and the same placeholder.

Which values count, from ``is_secret_value``: key names like ``TOKEN_TTL``,
``PASSWORD_MIN_LENGTH`` or ``API_KEY_HEADER`` hold settings, not secrets, so the
value itself must look like one:

- 8 characters or more, not a template (``${VAR}``, ``<your-key>``, ``{{ x }}``
  never match the value's characters), not a placeholder word (``changeme``,
  ``redacted``, ``xxxx``, ``****``...);
- not a number, UUID, version, date/timestamp, URL, path, ARN, e-mail address,
  and not an identifier made of plain words and numbers joined by ``-_./:``
  (regions ``us-east-1``, buckets ``acme-prod-uploads-2024``, hosts, aliases);
- not a single plain word (``production``, ``Authorization``, ``sessionId``);
- Shannon entropy of at least ``MIN_ENTROPY`` bits per character, with at
  least 5 distinct characters;
- not a vendor token, JWT, AWS key id or PEM block: those keep their own type
  (the search moves on and their detector reports them).

``MIN_ENTROPY`` was measured (see tests/rules/detectors/test_credential_entropy.py,
which keeps the measurement honest): over 2,000 random strings per shape, the
1st percentile is 2.41 bits/char for 8 alphanumerics, 3.02 for 12, 3.38 for
16, and 2.69 for 16 hex digits; so 2.4 keeps 99% of the shortest random
secrets. Entropy alone cannot tell ``acme-prod-uploads-2024`` (3.79) from a
secret: the structural rules above do that, and the test's non-secret sample
(regions, buckets, hosts, ARNs, versions, booleans, placeholders) must all be
rejected.
"""

from __future__ import annotations

import re

from veil.rules.detectors.api_key import is_api_key
from veil.rules.detectors.aws import is_aws_access_key
from veil.rules.detectors.base import DetectorSpec
from veil.rules.detectors.jwt import is_jwt
from veil.rules.detectors.secret_checksums import shannon_entropy

MIN_ENTROPY = 2.4
"""Bits per character a value needs (measured; see the module docstring)."""

_QUALIFIED_KEY = r"(?:api|access|secret|private|signing|encryption|master|client|auth|app|account|license|service|admin)[_.\-]?keys?"
_WORDS = rf"secrets?|tokens?|passw(?:or)?ds?|passphrases?|pwd|apikey|credentials?|auth|{_QUALIFIED_KEY}"
_CAMEL = r"Secrets?|Tokens?|Passw(?:or)?ds?|Pwd|Apikey|Credentials?|Auth|(?:Api|Access|Secret|Private|Signing|Encryption|Master|Client|App)Keys?"
_GLUED = r"SECRETS?|TOKENS?|PASSW(?:OR)?DS?|PWD|APIKEY|CREDENTIALS?"
_VALUE_CHARS = r"A-Za-z0-9+/=_\-.~!@#%^*?:"
# A bare "key" counts only as the whole name (``key=...``): idempotency_key, cache_key, sort_key,
# partition_key and public_key hold identifiers, so a key needs a word that says it is secret.
# Glued after a lower-case letter or a digit (``dbpassword``, ``mytoken``, ``v2secret``; a token's
# base32 payload then a name, ``tok_A_k1_bpassword=``) only the words that say secret on their own,
# and any of them after a digit (``..6API_KEY=``): ``monkey``, ``hockey`` and ``turkey`` are no keys.
_KEY = (
    rf"(?:(?:^|[^A-Za-z0-9])(?i:{_WORDS})|(?:^|[^A-Za-z0-9_.\-])(?i:keys?)"
    rf"|[a-z](?:{_CAMEL})|[A-Z](?:{_GLUED})"
    rf"|[a-z0-9](?:passw(?:or)?ds?|secrets?|tokens?|credentials?|apikeys?)|[0-9](?i:{_WORDS}))"
)
_PATTERN = (
    _KEY
    + r"[A-Za-z0-9_.\-]{0,40}"  # the rest of the key name: DB_PASSWORD_PROD, token.value
    + r"(?:\\?[\"'])?[ \t]*(?:=>|:=|=|:)[ \t]*(?:\\?[\"'])?"  # closing quote, separator, opening quote
    # '$' may sit inside a value but not start it (``${VAR}``), nor may ':' (an IPv6 address's '::'
    # after a name: ``hash_API_KEY_<hex>_fe80::1``); no sentence punctuation at the end
    + rf"(?P<value>[{_VALUE_CHARS.replace(':', '')}][{_VALUE_CHARS}$]{{6,}}[A-Za-z0-9+/=_\-~!@#%^*?$])"
)

_PLACEHOLDERS = (
    "changeme", "change_me", "change-me", "redacted", "xxxx", "****", "placeholder", "example", "dummy",
    "your_", "your-", "yourkey", "yourtoken", "yoursecret", "yourpassword", "todo", "fixme", "notset", "undefined",
)  # fmt: skip
_UUID = re.compile(r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}")
_VERSION = re.compile(r"v?[0-9]+(?:\.[0-9]+)+(?:[-+][0-9A-Za-z.\-]+)?")
_TIMESTAMP = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}(?:[T ][0-9:.]+(?:Z|[+\-][0-9:]+)?)?")
_EMAIL = re.compile(r"[^@\s]+@[A-Za-z0-9.\-]+\.[A-Za-z]{2,}")
# Python's re backtracks: no quantified group whose body may match in more than one way (camelCase as
# ``(?:[A-Z]?[a-z]+)+`` took exponential time on a long lower-case run that then failed).
_SEGMENT = re.compile(r"[a-z]+[0-9]*|[A-Z]+[0-9]*|[0-9]+|[A-Z]?[a-z]+(?:[A-Z][a-z]+)*[0-9]*")
_WORDY = re.compile(r"[a-z]+|[A-Z]+|[A-Z]?[a-z]+(?:[A-Z][a-z]+)*")


def _is_identifier(value: str) -> bool:
    """Plain words and numbers joined by separators: a region, bucket, host, path or alias."""
    segments = [s for s in re.split(r"[\-_./:@]+", value) if s]
    return len(segments) >= 2 and all(len(s) <= 20 and _SEGMENT.fullmatch(s) for s in segments)


def is_secret_value(value: str) -> bool:
    """Whether an assigned value looks like a secret rather than a setting (see the module docstring)."""
    if len(value) < 8 or not value.isascii():
        return False
    lowered = value.lower()
    if any(word in lowered for word in _PLACEHOLDERS) or "://" in value or value.startswith("arn:"):
        return False
    if any(mark in value for mark in ("${", "{{", "<", "%(")):  # templates, when called directly
        return False
    if value.isdigit() or _WORDY.fullmatch(value) or _is_identifier(value):
        return False
    if any(p.fullmatch(value) for p in (_UUID, _VERSION, _TIMESTAMP, _EMAIL)):
        return False
    if len(set(value)) < 5 or shannon_entropy(value) < MIN_ENTROPY:
        return False
    # A value another detector names is left to it, so it is reported by its own type.
    return not (value.startswith("-----") or is_api_key(value) or is_jwt(value) or is_aws_access_key(value))


SECRET = DetectorSpec(
    name="SECRET",
    family="secret",
    pattern=_PATTERN,
    validator=is_secret_value,
    context=("secret", "token", "password", "key", "credential"),
    description="High-entropy value assigned to a key named like a secret/token/password/key (env, YAML, JSON text, query).",
    examples=(
        "DB_PASSWORD=q7Rt2xLm9Vz4",
        'export GITHUB_TOKEN="9f8e7d6c5b4a32109f8e7d6c5b4a3210"',
        'log: {"client_secret": "Zt4kQ9wL2mXr8vBn"}',
    ),
)

DETECTORS: tuple[DetectorSpec, ...] = (SECRET,)
