"""Generators of personal values for ``bench/detection.py``: fresh, seeded, from official formats.

Every value is made here from the published structure of its kind (SSA area/group/serial rules,
IRS ITIN ranges, HMRC NINO prefixes, ISO 13616 IBAN mod-97, ISO/IEC 7812 Luhn and card IIN ranges,
ITU numbering plans, RFC 5321/6531 addresses), never copied from another project's tests or from
veil's. Each generator returns ``(value, variant)``: the text as a user would write it and a short
name of its form (``dotted``, ``glued``...), so the evaluation can say which forms miss.
"""

from __future__ import annotations

import random
import string
from collections.abc import Callable

import phonenumbers

Gen = Callable[[random.Random], tuple[str, str]]

DIGITS = string.digits
UPPER = string.ascii_uppercase


def digits(rng: random.Random, n: int) -> str:
    return "".join(rng.choice(DIGITS) for _ in range(n))


# -- people ---------------------------------------------------------------------------------
FIRST_NAMES = (
    "Jane", "Oliver", "Amelia", "Mohammed", "Sofía", "Lucas", "Chloé", "Mateo", "Aisha", "Hiroshi",
    "Yuki", "Priya", "Arjun", "Wei", "Mei", "Olumide", "Chinonso", "Fatima", "Björn", "Ingrid",
    "Zofia", "Łukasz", "Siobhán", "Seán", "Dmitri", "Anastasia", "Giulia", "Francesco", "Nguyen",
    "Thi", "Kwame", "Ama", "Carlos", "Ana", "João", "Maria", "Emily", "Noah", "Liam", "Ava",
    "Henrik", "Astrid", "Omar", "Layla", "Ravi", "Deepika", "Tomás", "Renée", "Zainab", "Kofi",
    "Hannah", "Jakob", "Elif", "Mehmet", "Sanjay", "Ayumi", "Kenji", "Min-jun", "Seo-yeon", "Pablo",
)
LAST_NAMES = (
    "Doe", "Smith", "García", "Müller", "O'Brien", "Nakamura", "Okafor", "Patel", "Kowalski", "Rossi",
    "Dubois", "Johansson", "Nguyen", "Zhang", "Wang", "Ivanova", "Hernández", "Silva", "Santos",
    "Mensah", "Haddad", "Al-Sayed", "Fitzgerald", "van der Berg", "De Luca", "Schmidt", "Novak",
    "Yılmaz", "Sharma", "Gupta", "Kim", "Park", "Lee", "Tanaka", "Suzuki", "Adeyemi", "Boateng",
    "Lindqvist", "MacDonald", "Sørensen", "Nowak", "Costa", "Ferreira", "Moreau", "Lefèvre",
    "Jackson", "Thompson", "Walsh", "Byrne", "Chowdhury", "Rahman", "Abdullah", "Khan", "Cohen",
)


def person(rng: random.Random) -> tuple[str, str]:
    """``(first, last)``; a middle initial or a double-barrelled last name now and then."""
    first = rng.choice(FIRST_NAMES)
    last = rng.choice(LAST_NAMES)
    if rng.random() < 0.1:
        last = f"{last}-{rng.choice(LAST_NAMES)}"
    if rng.random() < 0.1:
        first = f"{first} {rng.choice(UPPER)}."
    return first, last


# -- e-mail -----------------------------------------------------------------------------------
DOMAINS = (
    "gmail.com", "outlook.com", "yahoo.co.uk", "proton.me", "icloud.com", "example-corp.com",
    "mail.acme.io", "uni-heidelberg.de", "company.co.jp", "health.nhs.uk", "fastmail.fm",
    "startup.ai", "gov.example.org", "web.de", "orange.fr", "libero.it", "qq.com", "naver.com",
)
IDN_DOMAINS = ("bücher.de", "münchen-stadtwerke.de", "例子.广告", "пример.рф", "café.fr", "ñandú.es",
               "xn--bcher-kva.de", "δοκιμή.gr", "sähkö.fi")
UNICODE_LOCAL = ("josé", "müller.k", "用户", "почта", "zoë")


def email_address(rng: random.Random) -> str:
    first, last = person(rng)
    ascii_ = lambda s: "".join(c for c in s.lower() if c in string.ascii_lowercase)  # noqa: E731
    f, l_ = ascii_(first) or "jo", ascii_(last) or "doe"
    local = rng.choice((f"{f}.{l_}", f"{f[0]}{l_}", f"{f}{rng.randint(1, 99)}", f"{f}_{l_}",
                        f"{f}+{rng.choice(('news', 'billing', 'test'))}", f"{l_}.{f}{rng.randint(70, 99)}"))
    return f"{local}@{rng.choice(DOMAINS)}"


def email(rng: random.Random) -> tuple[str, str]:
    r = rng.random()
    if r < 0.12:
        return f"{email_address(rng).split('@')[0]}@{rng.choice(IDN_DOMAINS)}", "idn-domain"
    if r < 0.17:
        return f"{rng.choice(UNICODE_LOCAL)}@{rng.choice(IDN_DOMAINS + DOMAINS)}", "unicode-local"
    if r < 0.22:
        return email_address(rng).upper(), "upper"
    return email_address(rng), "plain"


# -- US SSN / ITIN ----------------------------------------------------------------------------
def _ssn_parts(rng: random.Random) -> tuple[str, str, str]:
    area = rng.randint(1, 899)
    while area == 666:
        area = rng.randint(1, 899)
    return f"{area:03d}", f"{rng.randint(1, 99):02d}", f"{rng.randint(1, 9999):04d}"


def _join_ssn(rng: random.Random, a: str, g: str, s: str) -> tuple[str, str]:
    sep = rng.choices(("-", ".", " ", ""), weights=(5, 2, 2, 1))[0]
    return f"{a}{sep}{g}{sep}{s}", {"-": "dashed", ".": "dotted", " ": "spaced", "": "compact"}[sep]


def us_ssn(rng: random.Random) -> tuple[str, str]:
    return _join_ssn(rng, *_ssn_parts(rng))


def us_itin(rng: random.Random) -> tuple[str, str]:
    """IRS ITIN: 9XX, group 50-65, 70-88, 90-92 or 94-99."""
    group = rng.choice([*range(50, 66), *range(70, 89), 90, 91, 92, *range(94, 100)])
    return _join_ssn(rng, f"9{rng.randint(0, 99):02d}", f"{group:02d}", f"{rng.randint(0, 9999):04d}")


# -- UK National Insurance number ---------------------------------------------------------------
_NINO_FIRST = [c for c in UPPER if c not in "DFIQUV"]
_NINO_SECOND = [c for c in UPPER if c not in "DFIQUVO"]
_NINO_BANNED = {"BG", "GB", "KN", "NK", "NT", "TN", "ZZ"}


def uk_nino(rng: random.Random) -> tuple[str, str]:
    prefix = "GB"
    while prefix in _NINO_BANNED:
        prefix = rng.choice(_NINO_FIRST) + rng.choice(_NINO_SECOND)
    d = digits(rng, 6)
    suffix = rng.choice("ABCD")
    form = rng.choice(("compact", "spaced", "lower", "spaced-lower"))
    value = f"{prefix} {d[:2]} {d[2:4]} {d[4:]} {suffix}" if "spaced" in form else f"{prefix}{d}{suffix}"
    return (value.lower() if "lower" in form else value), form


# -- IBAN (ISO 13616): BBAN shapes from the SWIFT IBAN registry, mod-97 check digits -------------
IBAN_BBAN: dict[str, str] = {
    "DE": "18n", "GB": "4a14n", "FR": "10n11c2n", "ES": "20n", "IT": "1a10n12c", "NL": "4a10n",
    "BE": "12n", "CH": "5n12c", "AT": "16n", "PL": "24n", "PT": "21n", "IE": "4a14n", "SE": "20n",
    "NO": "11n", "DK": "14n", "FI": "14n", "LU": "3n13c", "GR": "7n16c", "CZ": "20n", "HU": "24n",
    "RO": "4a16c", "BG": "4a6n8c", "HR": "17n", "SI": "15n", "SK": "20n", "LT": "16n", "LV": "4a13c",
    "EE": "16n", "MT": "4a5n18c", "CY": "8n16c", "IS": "22n", "LI": "5n12c", "MC": "10n11c2n",
    "SA": "2n18c", "AE": "19n", "TR": "5n1n16c", "IL": "19n", "BR": "23n1a1c", "QA": "4a21c",
    "KW": "4a22c", "JO": "4a4n18c", "UA": "6n19c", "GE": "2a16n", "PK": "4a16c", "MU": "4a19n3a",
}


def _bban(rng: random.Random, spec: str) -> str:
    out, num = [], ""
    for ch in spec:
        if ch.isdigit():
            num += ch
            continue
        pool = {"n": DIGITS, "a": UPPER, "c": DIGITS + UPPER}[ch]
        out.append("".join(rng.choice(pool) for _ in range(int(num))))
        num = ""
    return "".join(out)


def iban_check_digits(country: str, bban: str) -> str:
    moved = bban + country + "00"
    number = int("".join(str(int(c, 36)) for c in moved))
    return f"{98 - number % 97:02d}"


def iban(rng: random.Random) -> tuple[str, str]:
    country = rng.choice(sorted(IBAN_BBAN))
    bban = _bban(rng, IBAN_BBAN[country])
    compact = country + iban_check_digits(country, bban) + bban
    form = rng.choices(("compact", "spaced", "dashed"), weights=(4, 5, 1))[0]
    if form == "compact":
        return compact, f"{country}-compact"
    sep = " " if form == "spaced" else "-"
    return sep.join(compact[i:i + 4] for i in range(0, len(compact), 4)), f"{country}-{form}"


# -- payment cards (ISO/IEC 7812: IIN ranges by network, Luhn) -----------------------------------
CARD_NETWORKS: dict[str, tuple[tuple[tuple[int, int], ...], tuple[int, ...]]] = {
    # network: ((IIN range low, high), ...), lengths
    "visa": (((4, 4),), (16, 13, 19)),
    "mastercard": (((51, 55), (2221, 2720)), (16,)),
    "amex": (((34, 34), (37, 37)), (15,)),
    "discover": (((6011, 6011), (644, 649), (65, 65)), (16, 19)),
    "diners": (((300, 305), (36, 36), (38, 39)), (14, 16)),
    "jcb": (((3528, 3589),), (16,)),
    "unionpay": (((62, 62),), (16, 19)),
    "maestro": (((5018, 5018), (5020, 5020), (5038, 5038), (6304, 6304), (6759, 6759)), (12, 16, 19)),
    "mir": (((2200, 2204),), (16,)),
    "rupay": (((60, 60), (6521, 6522), (81, 82)), (16,)),
    "verve": (((506099, 506198), (650002, 650027)), (16, 19)),
    "troy": (((9792, 9792),), (16,)),
    "elo": (((636368, 636368), (438935, 438935), (504175, 504175)), (16,)),
    "uatp": (((1, 1),), (15,)),
}


def luhn_digit(partial: str) -> str:
    total = 0
    for i, ch in enumerate(reversed(partial)):
        d = int(ch)
        if i % 2 == 0:  # doubled: these sit at odd positions once the check digit is appended
            d = d * 2 - 9 if d > 4 else d * 2
        total += d
    return str((10 - total % 10) % 10)


def card(rng: random.Random) -> tuple[str, str]:
    network = rng.choice(sorted(CARD_NETWORKS))
    ranges, lengths = CARD_NETWORKS[network]
    low, high = rng.choice(ranges)
    length = rng.choice(lengths)
    head = str(rng.randint(low, high))
    partial = head + digits(rng, length - len(head) - 1)
    number = partial + luhn_digit(partial)
    form = rng.choices(("compact", "spaced", "dashed"), weights=(3, 4, 2))[0]
    if form == "compact":
        return number, f"{network}-{length}"
    sep = " " if form == "spaced" else "-"
    groups = (4, 6, 5) if length == 15 else (4, 6, 4) if length == 14 else (4,) * (length // 4) + ((length % 4,) if length % 4 else ())
    out, i = [], 0
    for g in groups:
        out.append(number[i:i + g])
        i += g
    return sep.join(p for p in out if p), f"{network}-{length}-{form}"


# -- phones: numbers from national numbering plans, written as people write them ------------------
# (country, dialling code, national trunk prefix, national-significant-number templates)
# 'X' is any digit, 'N' is 2-9. Templates come from each regulator's published plan.
PHONE_PLANS: tuple[tuple[str, str, str, tuple[str, ...]], ...] = (
    ("US", "1", "", ("212NXXXXXX", "415NXXXXXX", "617NXXXXXX", "312NXXXXXX", "206NXXXXXX", "512NXXXXXX")),
    ("CA", "1", "", ("416NXXXXXX", "604NXXXXXX", "514NXXXXXX")),
    ("GB", "44", "0", ("7NXXXXXXXX", "20NXXXXXXX", "161NXXXXXX", "131NXXXXXX")),
    ("FR", "33", "0", ("6XXXXXXXX", "7XXXXXXXX", "1NXXXXXXX")),
    ("DE", "49", "0", ("151XXXXXXXX", "160XXXXXXX", "30NXXXXXXX", "89NXXXXXX")),
    ("ES", "34", "", ("6XXXXXXXX", "91NXXXXXX")),
    ("IT", "39", "", ("3NXXXXXXXX", "06NXXXXXXX")),
    ("NL", "31", "0", ("6NXXXXXXX", "20NXXXXXX")),
    ("IN", "91", "0", ("9NXXXXXXXX", "8NXXXXXXXX", "7NXXXXXXXX")),
    ("BR", "55", "0", ("119NXXXXXXX", "219NXXXXXXX")),
    ("JP", "81", "0", ("90NXXXXXXX", "80NXXXXXXX", "3NXXXXXXX")),
    ("AU", "61", "0", ("4NXXXXXXX", "2NXXXXXXX")),
    ("MX", "52", "", ("55NXXXXXXX", "33NXXXXXXX")),
    ("ZA", "27", "0", ("82NXXXXXX", "21NXXXXXX")),
    ("NG", "234", "0", ("803NXXXXXX", "706NXXXXXX")),
    ("SG", "65", "", ("9NXXXXXX", "8NXXXXXX")),
    ("CN", "86", "0", ("138NXXXXXXX", "139NXXXXXXX")),
    ("KR", "82", "0", ("10NXXXXXXX",)),
    ("SE", "46", "0", ("70NXXXXXX", "8NXXXXXXX")),
    ("PL", "48", "", ("5NXXXXXXX", "6NXXXXXXX")),
    ("IE", "353", "0", ("85NXXXXXX", "87NXXXXXX")),
    ("CH", "41", "0", ("79NXXXXXX", "44NXXXXXX")),
)


def _fill(rng: random.Random, template: str) -> str:
    return "".join(rng.choice(DIGITS) if c == "X" else rng.choice("23456789") if c == "N" else c for c in template)


def _grouped(digits_: str, sizes: tuple[int, ...], sep: str) -> str:
    out, i = [], 0
    for s in sizes:
        if i >= len(digits_):
            break
        out.append(digits_[i:i + s])
        i += s
    if i < len(digits_):
        out[-1] += digits_[i:]
    return sep.join(out)


def phone(rng: random.Random) -> tuple[str, str]:
    """A valid number (checked against libphonenumber's metadata: the ITU plans as published),
    in an international or national form chosen the way people write them."""
    for _ in range(50):
        region, cc, trunk, templates = rng.choice(PHONE_PLANS)
        nsn = _fill(rng, rng.choice(templates))
        parsed = phonenumbers.parse(f"+{cc}{nsn}")
        if phonenumbers.is_valid_number(parsed) and phonenumbers.region_code_for_number(parsed) == region:
            break
    form = rng.choice(("e164", "intl-spaced", "intl-dashed", "national", "national-grouped", "intl-00"))
    if cc == "1":
        area, rest = nsn[:3], nsn[3:]
        return {
            "e164": f"+1{nsn}", "intl-spaced": f"+1 {area} {rest[:3]} {rest[3:]}",
            "intl-dashed": f"+1-{area}-{rest[:3]}-{rest[3:]}", "national": f"({area}) {rest[:3]}-{rest[3:]}",
            "national-grouped": f"{area}.{rest[:3]}.{rest[3:]}", "intl-00": f"001 {area} {rest[:3]} {rest[3:]}",
        }[form], f"{region}-{form}"
    sizes = (2, 4, 4) if len(nsn) == 10 else (3, 3, 3) if len(nsn) == 9 else (3, 4, 4) if len(nsn) == 11 else (4, 4)
    if region == "FR":
        sizes = (1, 2, 2, 2, 2)
    national = trunk + nsn
    return {
        "e164": f"+{cc}{nsn}", "intl-spaced": f"+{cc} {_grouped(nsn, sizes, ' ')}",
        "intl-dashed": f"+{cc}-{_grouped(nsn, sizes, '-')}", "national": national if trunk else f"+{cc} {nsn}",
        "national-grouped": (trunk + _grouped(nsn, sizes, " ")) if trunk else f"+{cc} {_grouped(nsn, sizes, ' ')}",
        "intl-00": f"00{cc} {_grouped(nsn, sizes, ' ')}",
    }[form], f"{region}-{form}"


# -- IP addresses ---------------------------------------------------------------------------------
def ip_address(rng: random.Random) -> tuple[str, str]:
    if rng.random() < 0.7:
        first = rng.choice([n for n in range(1, 224) if n not in (10, 127, 0)])
        return f"{first}.{rng.randint(0, 255)}.{rng.randint(0, 255)}.{rng.randint(1, 254)}", "ipv4"
    groups = [f"{rng.randint(0, 0xFFFF):x}" for _ in range(8)]
    groups[0] = rng.choice(("2001", "2a02", "2606", "2a00", "2c0f"))
    if rng.random() < 0.5:
        return ":".join(groups[:4]) + "::" + ":".join(groups[6:]), "ipv6-compressed"
    return ":".join(groups), "ipv6"


# -- obfuscated forms: what users and tools do to values on the way -------------------------------
FULLWIDTH = {c: chr(ord(c) + 0xFEE0) for c in string.digits + "@." + string.ascii_letters}
ZERO_WIDTH = ("\u200b", "\u200c", "\u200d", "\u2060", "\ufeff")


def fullwidth(value: str, rng: random.Random) -> str:
    """Digits and ``@`` as fullwidth forms (what CJK input methods type)."""
    return "".join(FULLWIDTH[c] if (c.isdigit() or c == "@") and c in FULLWIDTH else c for c in value)


def zero_width(value: str, rng: random.Random) -> str:
    """One to three zero-width characters inside (pasted from rich text, or put there to dodge filters)."""
    chars = list(value)
    for _ in range(rng.randint(1, 3)):
        chars.insert(rng.randint(1, len(chars) - 1), rng.choice(ZERO_WIDTH))
    return "".join(chars)


def percent_encoded(value: str, rng: random.Random) -> str:
    """As a form or query string carries it: ``jane%40example.com``."""
    return value.replace("@", "%40").replace("+", "%2B").replace(" ", "%20")


def obfuscated_email(rng: random.Random) -> tuple[str, str]:
    way = rng.choice(("fullwidth-at", "zero-width", "percent"))
    value = email_address(rng)
    if way == "fullwidth-at":
        return value.replace("@", "＠"), way
    if way == "zero-width":
        return zero_width(value, rng), way
    return percent_encoded(value, rng), way


def obfuscated_card(rng: random.Random) -> tuple[str, str]:
    value, _ = card(rng)
    way = rng.choice(("fullwidth", "zero-width"))
    return (fullwidth(value, rng) if way == "fullwidth" else zero_width(value, rng)), way


def obfuscated_phone(rng: random.Random) -> tuple[str, str]:
    value, _ = phone(rng)
    way = rng.choice(("fullwidth", "zero-width"))
    return (fullwidth(value, rng) if way == "fullwidth" else zero_width(value, rng)), way


PERSONAL: dict[str, tuple[Gen, ...]] = {
    "EMAIL": (email, obfuscated_email),
    "PHONE": (phone, phone, phone, obfuscated_phone),
    "CREDIT_CARD": (card, card, card, obfuscated_card),
    "IBAN": (iban,),
    "US_SSN": (us_ssn,),
    "US_ITIN": (us_itin,),
    "UK_NINO": (uk_nino,),
    "IP_ADDRESS": (ip_address,),
}
"""Label type -> generators (repeated entries weight the draw)."""
