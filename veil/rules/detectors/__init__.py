"""The built-in detector catalog and the named validators policies can reuse.

``BUILTIN_DETECTORS`` is ordered by priority: when two detectors match at the
same position, the one listed first wins. More specific, higher-risk shapes
come first (a JWT is also a bearer token, a URL's userinfo sits inside a URL,
an IBAN's digits could look like a card), generic shapes last. The type names
(``EMAIL``, ``CREDIT_CARD``...) are a public contract used in policies,
reports and metrics labels.

Example::

    >>> from veil.rules.detectors import BUILTIN_DETECTORS
    >>> list(BUILTIN_DETECTORS)[:3]
    ['PRIVATE_KEY', 'JWT', 'API_KEY']
"""

from __future__ import annotations

from veil.rules.detectors import (
    api_key,
    aws,
    bearer,
    card,
    credential,
    dob,
    email,
    iban,
    ip,
    itin,
    jwt,
    mac,
    nino,
    passport,
    phone,
    private_key,
    ssn,
    url,
)
from veil.rules.detectors.base import DetectorSpec, Validator

PRIORITY: tuple[str, ...] = (
    "PRIVATE_KEY",
    "JWT",
    "API_KEY",
    "AWS_ACCESS_KEY",
    "AWS_SECRET_KEY",
    "BEARER_TOKEN",
    "URL_CREDENTIALS",
    "SECRET",
    "EMAIL",
    "IBAN",
    "CREDIT_CARD",
    "US_SSN",
    "US_ITIN",
    "UK_NINO",
    "US_PASSPORT",
    "DATE_OF_BIRTH",
    "IP_ADDRESS",
    "MAC_ADDRESS",
    "PHONE",
    "URL",
)
"""Detector type names, highest priority first."""


def _collect() -> dict[str, DetectorSpec]:
    by_name: dict[str, DetectorSpec] = {}
    for module in (private_key, jwt, api_key, aws, bearer, url, credential, email, iban, card, ssn, itin, nino, passport, dob, ip, mac, phone):
        for spec in module.DETECTORS:
            by_name[spec.name] = spec
    # Fail at import, not at first use, if a family and PRIORITY drift apart.
    if set(by_name) != set(PRIORITY):
        raise RuntimeError(f"PRIORITY and detector modules disagree: {sorted(set(by_name) ^ set(PRIORITY))}")
    return {name: by_name[name] for name in PRIORITY}


BUILTIN_DETECTORS: dict[str, DetectorSpec] = _collect()
"""Every built-in detector by type name, in priority order (earlier wins a tie)."""

VALIDATORS: dict[str, Validator] = {
    "luhn": card.is_luhn,
    "credit_card": card.is_card_number,
    "iban": iban.is_iban,
    "us_ssn": ssn.is_us_ssn,
    "us_itin": itin.is_us_itin,
    "uk_nino": nino.is_uk_nino,
    "phone": phone.is_phone_number,
    "ip_address": ip.is_ip_address,
    "mac_address": mac.is_mac_address,
    "jwt": jwt.is_jwt,
    "date": dob.is_plausible_date,
    "aws_secret_key": aws.is_aws_secret_key,
    "api_key": api_key.is_api_key,
    "secret_value": credential.is_secret_value,
}
"""Validators a policy's custom detector may name (``validator: luhn``).

Each takes the candidate text (the ``value`` group if the pattern has one) and
returns whether it is real; none raises on malformed input.
"""

__all__ = ["BUILTIN_DETECTORS", "PRIORITY", "VALIDATORS", "DetectorSpec", "Validator"]
