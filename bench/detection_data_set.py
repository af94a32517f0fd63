"""The labelled set of ``bench/detection.py``: how many values of each kind, in which carriers.

``build_pii(seed, quick)`` and ``build_nonpii(seed, quick)`` return lists of :class:`Case`. The
same seed gives the same set; ``quick`` takes about a tenth of it (for the smoke test).
``DOCUMENTED`` holds examples published in providers' own documentation (cited), which join the
generated values at every run.
"""

from __future__ import annotations

import random

from detection_data import PERSONAL, email_address, percent_encoded, person
from detection_data_carriers import (
    Case, credential_case, fill, finish_json, finish_text, json_case, percent_email_url_case, person_case, text_case, url_credential_case,
)
from detection_data_nonpii import NON_PII, nonpii_json_case, nonpii_text_case
from detection_data_tokens import CATALOG, SECRET_KEYS_CFG, SECRET_KEYS_ENV, generic_secret, jwt, opaque_bearer, pem_private_key

# Published examples: (type, value, where it is published).
DOCUMENTED: tuple[tuple[str, str, str], ...] = (
    *(("API_KEY", f"dp.{kind}.bAqhcVzrhy5cRHkOlNTc0Ve6w5NUDCpcutm8vGE9myi", "docs.doppler.com/docs/Auth-token-formats")
      for kind in ("ct", "pt", "st.dev", "sa", "said", "scim", "audit")),
    *(("CREDIT_CARD", number, "docs.stripe.com/testing") for number in (
        "4242424242424242", "4242 4242 4242 4242", "5555555555554444", "3782 822463 10005", "6011111111111117",
        "3056930009020004", "3566002020360505", "6200000000000005", "5200828282828210", "4000056655665556")),
    *(("IBAN", value, "SWIFT IBAN registry examples") for value in (
        "GB29NWBK60161331926819", "GB29 NWBK 6016 1331 9268 19", "DE89370400440532013000", "DE89 3704 0044 0532 0130 00",
        "FR1420041010050500013M02606", "ES9121000418450200051332", "CH9300762011623852957", "BE68539007547034",
        "AT611904300234573201", "DK5000400440116243", "FI2112345600000785", "CZ6508000000192000145399",
        "BR1800360305000010009795493C1", "AE070331234567890123456", "HR1210010051863000160", "GI75NWBK000000007099453")),
)

# Values per type in a full run (quick: a tenth, at least two).
COUNTS = {"EMAIL": 160, "PHONE": 220, "CREDIT_CARD": 160, "IBAN": 140, "US_SSN": 110, "US_ITIN": 60, "UK_NINO": 90,
          "IP_ADDRESS": 80, "PERSON_NAME": 300, "JWT": 120, "PRIVATE_KEY": 40, "SECRET": 180, "BEARER_TOKEN": 40,
          "URL_CREDENTIALS": 40, "PERCENT_EMAIL_URL": 30}
TOKENS_PER_FORMAT = 3
NONPII_PER_CATEGORY = 40


def _n(type_: str, quick: bool) -> int:
    return max(2, COUNTS[type_] // 10) if quick else COUNTS[type_]


def personal_case(rng: random.Random, type_: str, value: str, source: str) -> Case:
    # A bare run of digits is only an SSN/ITIN when something says so.
    context = type_ in ("US_SSN", "US_ITIN") and source.endswith("/compact")
    return text_case(rng, type_, value, source, context) if rng.random() < 0.6 else json_case(rng, type_, value, source, context)


def build_pii(seed: int, quick: bool = False) -> list[Case]:
    rng = random.Random(seed)
    cases: list[Case] = []
    for type_, gens in PERSONAL.items():
        for _ in range(_n(type_, quick)):
            gen = rng.choice(gens)
            value, form = gen(rng)
            cases.append(personal_case(rng, type_, value, f"{gen.__name__}/{form}"))
    for _ in range(_n("PERCENT_EMAIL_URL", quick)):
        cases.append(percent_email_url_case(rng, percent_encoded(email_address(rng), rng), "email/percent-in-url"))
    for _ in range(_n("PERSON_NAME", quick)):
        cases.append(person_case(rng, *person(rng)))
    for fmt in CATALOG if not quick else rng.sample(CATALOG, 24):
        for _ in range(1 if quick else TOKENS_PER_FORMAT):
            cases.append(credential_case(rng, fmt.env, fmt.type, fmt.make(rng), fmt.provider, fmt.needs_context))
    for _ in range(_n("JWT", quick)):
        value, form = jwt(rng)
        cases.append(jwt_case(rng, value, f"jwt/{form}"))
    for _ in range(_n("PRIVATE_KEY", quick)):
        cases.append(pem_case(rng))
    for _ in range(_n("SECRET", quick)):
        value, form = generic_secret(rng)
        env = rng.random() < 0.5
        key = rng.choice(SECRET_KEYS_ENV if env else SECRET_KEYS_CFG)
        cases.append(credential_case(rng, key if env else key.upper(), "SECRET", value, f"assignment/{form}", True))
    for _ in range(_n("BEARER_TOKEN", quick)):
        value, form = opaque_bearer(rng)
        cases.append(bearer_case(rng, value, f"bearer/{form}"))
    for _ in range(_n("URL_CREDENTIALS", quick)):
        value, form = generic_secret(rng)
        value = value.replace("@", "").replace("/", "").replace("#", "").replace("%", "").replace("?", "")
        cases.append(url_credential_case(rng, value, f"url-password/{form}"))
    for type_, value, where in DOCUMENTED if not quick else DOCUMENTED[::6]:
        if type_ == "API_KEY":
            cases.append(credential_case(rng, "DOPPLER_TOKEN", type_, value, f"documented: {where}", False))
        else:
            cases.append(personal_case(rng, type_, value, f"documented: {where}"))
    return cases


def jwt_case(rng: random.Random, token: str, source: str) -> Case:
    way = rng.randrange(7)
    if way == 0:
        return finish_text("text/jwt", fill("Authorization: Bearer {v}", "JWT", token, source))
    if way == 1:
        return finish_text("text/jwt", fill(rng.choice(("why is this token rejected? {v}", "decode this: {v}", "Set-Cookie: session={v}; Path=/; HttpOnly")), "JWT", token, source))
    if way == 2:
        return finish_text("text/jwt", fill("https://app.example.com/callback#id_token={v}&state=af0ifjsldkj", "JWT", token, source))
    if way == 3:
        return finish_json("json/jwt", {"access_token": fill("{v}", "JWT", token, source), "token_type": "Bearer", "expires_in": 3600})
    if way == 4:
        return finish_json("json/jwt", {"request": {"headers": {"authorization": fill("Bearer {v}", "JWT", token, source)}, "path": "/v1/me"}})
    if way == 5:
        return finish_json("json/jwt", {"level": "debug", "msg": fill("upstream call with Bearer {v} took 41ms", "JWT", token, source)})
    return finish_json("json/jwt", {"messages": [{"role": "user", "content": fill("my JWT is {v}, what does the exp claim say?", "JWT", token, source)}]})


def pem_case(rng: random.Random) -> Case:
    way = rng.randrange(4)
    if way == 0:
        value, form = pem_private_key(rng)
        return finish_text("text/pem", fill("here is the key from the server:\n{v}\nwhy won't ssh accept it?", "PRIVATE_KEY", value, f"pem/{form}"))
    if way == 1:
        value, form = pem_private_key(rng)
        return finish_json("json/pem", {"type": "service_account", "project_id": "acme-prod", "private_key_id": "".join(rng.choice("0123456789abcdef") for _ in range(40)),
                                        "private_key": fill("{v}\n", "PRIVATE_KEY", value, f"pem/{form}"), "token_uri": "https://oauth2.googleapis.com/token"})
    if way == 2:
        value, form = pem_private_key(rng, newline="\\n")
        return finish_text("env/pem", fill('PRIVATE_KEY="{v}"\nNODE_ENV=production\n', "PRIVATE_KEY", value, f"pem-escaped/{form}"))
    value, form = pem_private_key(rng)
    return finish_json("json/pem", {"messages": [{"role": "user", "content": fill("Is this key format right?\n\n{v}", "PRIVATE_KEY", value, f"pem/{form}")}]})


def bearer_case(rng: random.Random, token: str, source: str) -> Case:
    way = rng.randrange(3)
    if way == 0:
        return finish_text("text/bearer", fill(rng.choice(("curl -H \"Authorization: Bearer {v}\" https://api.example.com/v1/orders",
                                                          "> Authorization: Bearer {v}\n> Accept: */*")), "BEARER_TOKEN", token, source))
    if way == 1:
        return finish_json("json/bearer", {"headers": {"Authorization": fill("Bearer {v}", "BEARER_TOKEN", token, source), "User-Agent": "okhttp/4.12.0"}})
    return finish_json("json/bearer", {"log": fill("retrying with Authorization: Bearer {v}", "BEARER_TOKEN", token, source)})


def build_nonpii(seed: int, quick: bool = False) -> list[Case]:
    rng = random.Random(seed + 1)
    cases: list[Case] = []
    per = max(3, NONPII_PER_CATEGORY // 10) if quick else NONPII_PER_CATEGORY
    for category, make in NON_PII.items():
        for _ in range(per // 2):
            cases.append(nonpii_text_case(rng, category, make(rng)))
    categories = list(NON_PII)
    for _ in range(per * len(NON_PII) // 2 // 4):
        picked = rng.sample(categories, 4)
        cases.append(nonpii_json_case(rng, [(c, NON_PII[c](rng)) for c in picked]))
    return cases

