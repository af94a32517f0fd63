"""How SECRET's entropy threshold was measured, kept as a test so the numbers stay true.

Real-shaped secrets (random strings of the alphabets and lengths credentials
use) must pass ``is_secret_value``; realistic non-secret values that sit under
secret-sounding keys (settings, names, regions, buckets, hosts, versions,
templates) must not. The per-length percentiles quoted in credential.py come
from ``_percentile`` below.
"""

from __future__ import annotations

import random
import string

import pytest

from veil.rules.detectors.credential import MIN_ENTROPY, is_secret_value
from veil.rules.detectors.secret_checksums import shannon_entropy

ALNUM = string.ascii_letters + string.digits
HEX = "0123456789abcdef"


def _random(alphabet: str, length: int, rng: random.Random) -> str:
    return "".join(rng.choice(alphabet) for _ in range(length))


def _percentile(alphabet: str, length: int, pct: float, n: int = 2000) -> float:
    rng = random.Random(f"{alphabet}:{length}")
    values = sorted(shannon_entropy(_random(alphabet, length, rng)) for _ in range(n))
    return values[int(n * pct)]


def test_threshold_keeps_99_percent_of_the_shortest_random_secrets() -> None:
    assert _percentile(ALNUM, 8, 0.01) >= MIN_ENTROPY
    assert _percentile(HEX, 16, 0.01) >= MIN_ENTROPY
    assert _percentile(ALNUM, 12, 0.01) > MIN_ENTROPY + 0.5


SHAPES = [(ALNUM, 12), (ALNUM, 16), (ALNUM, 24), (ALNUM, 40), (HEX, 32), (HEX, 40), (HEX, 64),
          (ALNUM + "+/", 40), (ALNUM + "!@#%^*-_", 12), (ALNUM + "!@#%^*-_", 20)]  # fmt: skip


@pytest.mark.parametrize(("alphabet", "length"), SHAPES)
def test_real_shaped_secrets_pass(alphabet: str, length: int) -> None:
    rng = random.Random(f"secrets:{alphabet}:{length}")
    values = [_random(alphabet, length, rng) for _ in range(300)]
    missed = [v for v in values if not is_secret_value(v)]
    assert len(missed) <= 3, missed  # >= 99%


NON_SECRETS = [
    "us-east-1", "eu-west-2", "ap-southeast-1", "us-central1", "europe-west1-b",
    "acme-prod-uploads-2024", "my-company-logs-archive", "acme-production-customer-uploads-eu-west-1-2024",
    "db.internal.example.com", "redis-cache-primary.abc123.ng.0001.use1.cache.amazonaws.com",
    "staging-cluster-01", "kms-key-alias-prod", "alias/aws/s3", "arn:aws:s3:::acme-prod-uploads-2024",
    "s3://acme-prod-uploads-2024/key", "/var/run/secrets/kubernetes.io/serviceaccount/token",
    "projects/my-project/secrets/db-password/versions/latest", "v2.14.0-beta.1", "1.2.3", "10.0.0.1",
    "2024-05-01T12:00:00Z", "2024-05-01", "3600", "86400", "true", "false", "null", "undefined",
    "changeme", "password", "production", "Authorization", "application/json", "x-api-key", "HS256",
    "RS256", "AES256", "sessionId", "${DB_PASSWORD}", "<your-api-key>", "****************",
    "your_api_key_here", "REDACTED", "xxxxxxxxxxxxxxxx", "3f2b8c1e-9a4d-4e7b-8c2a-1f5e6d7c8b9a",
    "jane.doe@example.com", "https://auth.example.com/oauth/token", "access_token", "client_credentials",
    "snake_case_setting_name", "SOME_ENV_VAR_NAME", "CamelCaseName",
]  # fmt: skip


@pytest.mark.parametrize("value", NON_SECRETS)
def test_realistic_non_secret_values_fail(value: str) -> None:
    assert not is_secret_value(value)
