"""Field-name classification: a key's name says what its value holds.

``customerEmail``, ``customer_email`` and ``Customer-Email`` all end in the
word ``email``, so their values are EMAIL whatever they look like. This covers
names and addresses in structured payloads without NER. Ambiguous words
(``name``, ``number``) are decided by a qualifier in the key itself
(``holder_name``) or by the parent key (``customer.name`` is a person,
``product.name`` is not); with neither, they are left to the detectors.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import lru_cache

import re2

_WORDS = re2.compile(rb"[A-Z]+(?:[a-z0-9]+)?|[a-z0-9]+", re2.UNICODE)

# Trailing word sequences -> entity. Longer sequences are tried first.
BUILTIN_CLASSES: dict[str, tuple[str, ...]] = {
    "EMAIL": ("email", "e mail", "email address", "mail address"),
    "PHONE": ("phone", "mobile", "telephone", "tel", "phone number", "mobile number", "cell phone", "fax"),
    "US_SSN": ("ssn", "social security number", "social security no"),
    "SECRET": (
        "password", "passwd", "pwd", "secret", "token", "authorization", "auth token", "session id", "cookie", "api key", "apikey", "access key",
        "secret key", "private key", "client secret", "passphrase", "credentials", "otp", "pin",
    ),
    "CREDIT_CARD": ("card number", "card no", "pan", "credit card", "cc number", "ccn", "cvv", "cvc"),
    "IBAN": ("iban", "account number", "bank account"),
    "DATE_OF_BIRTH": ("dob", "birth date", "date of birth", "birthdate", "birthday"),
    "PERSON_NAME": (
        "first name", "last name", "full name", "surname", "given name", "family name",
        "middle name", "firstname", "lastname", "fullname", "maiden name",
    ),
    "ADDRESS": (
        "address", "street", "street address", "address line", "address line1", "address line2",
        "address1", "address2", "postcode", "post code", "postal code", "zip", "zip code", "zipcode",
    ),
    "IP_ADDRESS": ("ip", "ip address", "ipaddress", "client ip", "remote addr", "remote ip"),
}

# Words that are only sensitive with a qualifying word before them or a parent key.
AMBIGUOUS: dict[str, str] = {"name": "PERSON_NAME", "number": "PHONE"}
PERSON_QUALIFIERS = frozenset(
    {
        "customer", "user", "contact", "holder", "cardholder", "account", "person", "patient",
        "employee", "owner", "sender", "recipient", "billing", "shipping", "member", "client",
        "buyer", "seller", "author", "guest", "passenger", "applicant", "beneficiary", "payer",
        "payee", "emergency", "display", "legal", "my", "your", "profile", "subscriber", "student",
        "traveler", "traveller", "attendee", "driver", "signer", "visitor", "candidate",
    }
)
# 'number' is a phone only under these.
PHONE_QUALIFIERS = frozenset({"phone", "mobile", "contact", "telephone", "cell"})


@dataclass(frozen=True, slots=True)
class ClassRule:
    entity: str
    words: tuple[str, ...]
    parents: frozenset[str] = frozenset()


def split_words(name: str) -> tuple[str, ...]:
    """``customerEmail`` / ``customer_email`` / ``CUSTOMER-EMAIL`` -> ('customer', 'email')."""
    return tuple(w.decode("utf-8").lower() for w in _WORDS.findall(name.encode("utf-8")))


def _singular(word: str) -> str:
    if len(word) > 3 and word.endswith("s") and not word.endswith("ss"):
        return word[:-1]
    return word


@dataclass(frozen=True)
class Classifier:
    """Decides the entity of a key from its own words and its parent's."""

    rules: tuple[ClassRule, ...]
    ambiguous: dict[str, str] = field(default_factory=dict)

    @staticmethod
    def build(builtin: bool, extra: list[tuple[str, list[str], list[str]]]) -> "Classifier":
        rules: list[ClassRule] = []
        # User classes first, so they can override a built-in meaning.
        for entity, names, parents in extra:
            for name in names:
                words = split_words(name)
                if words:
                    rules.append(ClassRule(entity, words, frozenset(split_words(p)[-1] for p in parents if split_words(p))))
        if builtin:
            for entity, phrases in BUILTIN_CLASSES.items():
                for phrase in phrases:
                    rules.append(ClassRule(entity, tuple(phrase.split())))
        rules.sort(key=lambda r: -len(r.words))  # longest suffix wins
        return Classifier(tuple(rules), dict(AMBIGUOUS) if builtin else {})

    @property
    def entities(self) -> frozenset[str]:
        return frozenset(r.entity for r in self.rules) | frozenset(self.ambiguous.values())

    def classify(self, key: str, parent: str | None) -> str | None:
        """Entity for ``key`` under ``parent`` (a dict key, or None at the top)."""
        return _classify_cached(self, key, parent)

    def _classify(self, key: str, parent: str | None) -> str | None:
        words = split_words(key)
        if not words:
            return None
        parent_word = None
        if parent is not None:
            pw = split_words(parent)
            parent_word = _singular(pw[-1]) if pw else None
        for rule in self.rules:
            n = len(rule.words)
            if words[-n:] == rule.words:
                if rule.parents and parent_word not in rule.parents:
                    continue
                return rule.entity
        last = words[-1]
        entity = self.ambiguous.get(last)
        if entity is None:
            return None
        qualifiers = PHONE_QUALIFIERS if entity == "PHONE" else PERSON_QUALIFIERS
        qualifier = _singular(words[-2]) if len(words) > 1 else parent_word
        if qualifier in qualifiers:
            return entity
        return None

    @property
    def qualifying_parents(self) -> frozenset[str]:
        """Every last word (singular) of a parent key that can change a key's class."""
        words: set[str] = set()
        for rule in self.rules:
            words |= rule.parents
        if "PERSON_NAME" in self.ambiguous.values():
            words |= PERSON_QUALIFIERS
        if "PHONE" in self.ambiguous.values():
            words |= PHONE_QUALIFIERS
        return frozenset(words)

    def parent_matters(self, key: str) -> bool:
        """Whether ``classify(key, parent)`` can depend on ``parent``."""
        words = split_words(key)
        if not words:
            return False
        for rule in self.rules:
            if words[-len(rule.words):] == rule.words:
                if rule.parents:
                    return True  # a later rule may still match if this parent does not
                return False
        return len(words) == 1 and words[0] in self.ambiguous

    def __hash__(self) -> int:
        return id(self)

    def __eq__(self, other: object) -> bool:
        return self is other


@lru_cache(maxsize=8192)
def _classify_cached(classifier: Classifier, key: str, parent: str | None) -> str | None:
    # Bounded: keys come from payloads, so the cache must not grow with them.
    return classifier._classify(key, parent)
