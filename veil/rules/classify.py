"""Field-name classification: a key's name says what its value holds.

``customerEmail``, ``customer_email`` and ``Customer-Email`` all end in the
word ``email``, so their values are EMAIL whatever they look like. This covers
names and addresses in structured payloads without NER. Ambiguous words
(``name``, ``number``) are decided by a qualifier in the key itself
(``holder_name``) or by the parent key (``customer.name`` is a person,
``product.name`` is not); with neither, they are left to the detectors.

People are also found by their *role* (issue #14): a key that is, or ends in, a
role word (``assignee``, ``ticket_requester``, ``createdBy``, ``participants``)
holds a person, but only when its string value is shaped like a name
(:func:`person_shaped`): ``"owner": "team-platform"``, ``"agent": "Mozilla/5.0"``
and ``"created_by": "system"`` stay as they are. Such a class is *shaped*
(``KeyClass.shaped``); both JSON engine paths apply the same check to the value.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any, NamedTuple

import re2

from veil.rules.detectors.verdicts import digest, new_cache, store

_WORDS = re2.compile(rb"[A-Z]+(?:[a-z0-9]+)?|[a-z0-9]+", re2.UNICODE)

PERSON = "PERSON_NAME"

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
    PERSON: (
        "first name", "last name", "full name", "surname", "given name", "family name",
        "middle name", "firstname", "lastname", "fullname", "maiden name", "forename", "fname", "lname", "real name",
        "preferred name",
        "f name", "l name", "first names", "given names", "last names", "surnames", "forenames",
        # The obvious ones in a few other languages (split_words sees ASCII words: 'prénom' is 'pr nom').
        "vorname", "nachname", "familienname", "prenom", "pr nom", "nom de famille", "apellido", "apellidos",
        "nombre completo", "nome completo", "sobrenome", "cognome", "voornaam", "achternaam",
    ),
    "ADDRESS": (
        "address", "street", "street address", "address line", "address line1", "address line2",
        "address1", "address2", "postcode", "post code", "postal code", "zip", "zip code", "zipcode",
    ),
    "IP_ADDRESS": ("ip", "ip address", "ipaddress", "client ip", "remote addr", "remote ip"),
}

# Role words: a key that is one, or ends in one, holds a person when its value is shaped
# like a name. Left out on purpose, as their values are as often companies, products or
# machines: host, provider, client, seller, partner, editor, courier, referrer, parent.
PERSON_ROLES: tuple[str, ...] = (
    "requester", "requestor", "reporter", "assignee", "assigner", "author", "owner", "creator", "sender",
    "recipient", "addressee", "reviewer", "approver", "agent", "employee", "manager", "supervisor", "customer",
    "user", "member", "contact", "person", "participant", "attendee", "organizer", "organiser", "invitee",
    "speaker", "moderator", "presenter", "guest", "visitor", "caller", "callee", "committer", "maintainer",
    "contributor", "collaborator", "submitter", "commenter", "patient", "physician", "doctor", "nurse", "practitioner", "clinician",
    "therapist", "dentist", "surgeon", "caregiver", "pharmacist", "prescriber", "teacher", "instructor",
    "student", "guardian", "spouse", "next of kin", "signatory", "signer", "witness", "driver", "passenger",
    "traveler", "traveller", "rider", "tenant", "landlord", "occupant", "resident", "borrower", "guarantor",
    "cosigner", "applicant", "candidate", "interviewer", "recruiter", "beneficiary", "policyholder",
    "holder", "cardholder", "insured", "adjuster", "subscriber", "buyer", "purchaser", "payer", "payee", "representative",
    "technician", "dispatcher", "officer", "coworker", "people", "colleague", "teammate", "mentor",
    "claimant", "plaintiff", "defendant", "victim", "executor", "trustee", "nominee", "actor", "cc", "bcc",
    "attn", "attention", "reply to", "assigned to", "sent to", "addressed to", "ship to", "bill to",
    "created by", "updated by", "modified by", "changed by", "edited by", "deleted by", "submitted by",
    "approved by", "reviewed by", "requested by", "reported by", "assigned by", "owned by", "signed by",
    "sent by", "closed by", "resolved by", "opened by", "verified by", "prepared by", "performed by",
    "completed by", "entered by", "recorded by", "authored by", "written by", "handled by", "referred by",
    "invited by", "booked by", "accepted by", "rejected by", "cancelled by", "canceled by",
)
# The roles that come in lists (each phrase costs the events pass of every body a little).
PLURAL_ROLES = (
    "participants", "attendees", "reviewers", "assignees", "recipients", "owners", "authors", "members", "contacts",
    "users", "customers", "employees", "guests", "invitees", "speakers", "organizers", "passengers", "travelers",
    "travellers", "collaborators", "approvers", "signers", "students", "patients", "guardians", "tenants",
    "contributors", "maintainers", "commenters", "teammates", "managers", "requesters", "agents", "riders",
)
# ... and these only under a parent that is a message (elsewhere: dates, currencies, places).
MESSAGE_ROLES = ("from", "to")
MESSAGE_PARENTS = frozenset(
    {"message", "email", "mail", "envelope", "header", "letter", "memo", "sms", "chat", "notification", "msg", "fax"}
)
# Keys that end in a role word but name no person.
NOT_PEOPLE = frozenset(
    {
        ("user", "agent"), ("useragent",), ("browser", "agent"), ("build", "agent"), ("ci", "agent"),
        ("package", "manager"), ("secret", "manager"), ("secrets", "manager"), ("password", "manager"),
        ("task", "manager"), ("window", "manager"), ("resource", "manager"), ("node", "manager"),
        ("device", "owner"), ("file", "owner"), ("resource", "owner"), ("code", "owner"),
    }
)
# Under a parent that says name (``{"name": {"first": ..., "last": ...}}``), these are its parts.
NAME_PARTS = ("first", "last", "given", "family", "middle", "full", "display", "maiden", "preferred")
# A name class that names no person under these parents (a repository's ``full_name`` is 'org/repo').
THING_PARENTS = frozenset({"repository", "repo", "project", "package", "workspace", "organization", "org", "team"})
NO_CLASS = ""

# Words that are only sensitive with a qualifying word before them or a parent key.
AMBIGUOUS: dict[str, str] = {"name": PERSON, "number": "PHONE"}
PERSON_QUALIFIERS = frozenset(
    {
        "customer", "user", "contact", "holder", "cardholder", "account", "person", "patient",
        "employee", "billing", "shipping", "member",
        "buyer", "guest", "passenger", "applicant", "beneficiary", "payer",
        "payee", "emergency", "display", "legal", "my", "your", "profile", "subscriber", "student",
        "traveler", "traveller", "attendee", "driver", "signer", "visitor", "candidate",
    }
)
# Parents whose ``name`` is a person's when shaped like one (``{"assignee": {"name": ...}}``,
# ``{"to": [{"name": ...}]}``): the last word of every role (``created_by`` -> 'by'), the
# message roles, and a few whose name is as often a bot's, an app's or a shop's
# (``{"author": {"name": "dependabot[bot]"}}``). Under a PERSON_QUALIFIERS parent, a
# ``name`` is a person's whatever its shape.
ROLE_QUALIFIERS = frozenset(p.split()[-1] for p in PERSON_ROLES) | frozenset(MESSAGE_ROLES) | {"seller", "client"}
# 'number' is a phone only under these.
PHONE_QUALIFIERS = frozenset({"phone", "mobile", "contact", "telephone", "cell"})


class KeyClass(NamedTuple):
    """A key's field-name class."""

    entity: str
    shaped: bool
    """The value is ``entity`` only when it is a string shaped like one (:func:`person_shaped`)."""


@dataclass(frozen=True, slots=True)
class ClassRule:
    entity: str
    words: tuple[str, ...]
    parents: frozenset[str] = frozenset()
    shaped: bool = False


def split_words(name: str) -> tuple[str, ...]:
    """``customerEmail`` / ``customer_email`` / ``CUSTOMER-EMAIL`` -> ('customer', 'email')."""
    return tuple(w.decode("utf-8").lower() for w in _WORDS.findall(name.encode("utf-8")))


def _singular(word: str) -> str:
    if len(word) > 3 and word.endswith("s") and not word.endswith("ss"):
        return word[:-1]
    return word


def _role_rules() -> list[ClassRule]:
    rules = []
    for phrase in PERSON_ROLES + PLURAL_ROLES:
        rules.append(ClassRule(PERSON, tuple(phrase.split()), shaped=True))
    for word in MESSAGE_ROLES:
        rules.append(ClassRule(PERSON, (word,), MESSAGE_PARENTS, shaped=True))
    for word in NAME_PARTS:
        rules.append(ClassRule(PERSON, (word,), frozenset({"name"})))
    # A reference's label, as FHIR writes one: {"actor": {"reference": "Patient/1", "display": "Jane Doe"}}.
    rules.append(ClassRule(PERSON, ("display",), ROLE_QUALIFIERS | {"subject", "performer"}, shaped=True))
    for phrase in ("full name", "fullname"):
        rules.append(ClassRule(NO_CLASS, tuple(phrase.split()), THING_PARENTS))
    return rules


@dataclass(frozen=True)
class Classifier:
    """Decides the entity of a key from its own words and its parent's."""

    rules: tuple[ClassRule, ...]
    ambiguous: dict[str, str] = field(default_factory=dict)
    _answers: dict[bytes, Any] = field(default_factory=new_cache, compare=False, repr=False)
    """Classes found, by a keyed digest of (key, parent): keys come from payloads, and a
    user name or an e-mail as a map key is data, so no key text is kept (bounded, ``store``)."""

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
            rules += _role_rules()  # before the classes: the exceptions to them (NO_CLASS) come first
            for entity, phrases in BUILTIN_CLASSES.items():
                for phrase in phrases:
                    rules.append(ClassRule(entity, tuple(phrase.split())))
        rules.sort(key=lambda r: -len(r.words))  # longest suffix wins
        return Classifier(tuple(rules), dict(AMBIGUOUS) if builtin else {})

    @property
    def entities(self) -> frozenset[str]:
        return frozenset(r.entity for r in self.rules if r.entity) | frozenset(self.ambiguous.values())

    def classify(self, key: str, parent: str | None) -> str | None:
        """Entity of every value under ``key`` (whatever it looks like), under ``parent`` (a dict
        key, or None at the top). A shaped class (a role word) is not one: see ``key_class``."""
        found = self.key_class(key, parent)
        return found.entity if found is not None and not found.shaped else None

    def key_class(self, key: str, parent: str | None) -> KeyClass | None:
        """The class of ``key`` under ``parent``, shaped classes included (the JSON engine's view)."""
        # Length-prefixed, and a parent marked as present: no two (key, parent) pairs encode alike.
        text = f"{len(key)}:{key}" if parent is None else f"{len(key)}:{key}/{parent}"
        memo = digest(text.encode("utf-8", "surrogatepass"))
        found = self._answers.get(memo, _UNKNOWN)
        if found is _UNKNOWN:
            found = self._classify(key, parent)
            store(self._answers, memo, found)
        return found  # type: ignore[no-any-return]

    def _classify(self, key: str, parent: str | None) -> KeyClass | None:
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
                if rule.shaped and _names_no_person(words):
                    continue
                return KeyClass(rule.entity, rule.shaped) if rule.entity else None
        last = words[-1]
        entity = self.ambiguous.get(last)
        if entity is None:
            return None
        if entity == "PHONE":
            qualifier = _singular(words[-2]) if len(words) > 1 else parent_word
            return KeyClass(entity, False) if qualifier in PHONE_QUALIFIERS else None
        # Whose name: the key says (``holder_name``, ``assignee_name``) or else its parent does.
        qualifier = _singular(words[-2]) if len(words) > 1 else parent_word
        if qualifier in PERSON_QUALIFIERS:
            return KeyClass(entity, False)
        if qualifier in ROLE_QUALIFIERS:
            return KeyClass(entity, True)
        return None

    @property
    def qualifying_parents(self) -> frozenset[str]:
        """Every last word (singular) of a parent key that can change a key's class."""
        words: set[str] = set()
        for rule in self.rules:
            words |= rule.parents
        if PERSON in self.ambiguous.values():
            words |= PERSON_QUALIFIERS | ROLE_QUALIFIERS
        if "PHONE" in self.ambiguous.values():
            words |= PHONE_QUALIFIERS
        return frozenset(words)

    def parent_matters(self, key: str) -> bool:
        """Whether ``classify(key, parent)`` (or ``key_class``) can depend on ``parent``."""
        words = split_words(key)
        if not words:
            return False
        for rule in self.rules:
            if words[-len(rule.words):] == rule.words:
                if rule.parents:
                    return True  # a later rule may still match if this parent does not
                if rule.shaped and _names_no_person(words):
                    continue
                return False
        return len(words) == 1 and words[0] in self.ambiguous

    def __hash__(self) -> int:
        return id(self)

    def __eq__(self, other: object) -> bool:
        return self is other


def _names_no_person(words: tuple[str, ...]) -> bool:
    return words[-2:] in NOT_PEOPLE or words[-1:] in NOT_PEOPLE


_UNKNOWN: Any = object()


# -- the shape of a person's name ----------------------------------------------------

# "Jane Doe <jane@example.com>", as mail headers write a person: the name decides.
_MAILBOX = re.compile(r'"?([^"<>]*?)"?\s*<[^<>\s]+@[^<>\s]+>')
_SEGMENTS = re.compile(r"['\u2019-]")
# Lower-case words and elisions inside names: 'van Gogh', 'de la Cruz', "d'Artagnan", 'al-Hassan'.
_PARTICLES = frozenset(
    {"d", "l", "o", "da", "das", "de", "del", "della", "der", "den", "di", "do", "dos", "du", "la", "le", "van",
     "von", "y", "e", "bin", "binti", "ibn", "al", "el", "ter", "ten", "zu", "af", "av"}
)
# 'McDonald', 'MacArthur', 'DeVito', 'LeBron': a capital inside a word only after these
# ('GitHub', 'PayPal', 'MySQL' are not people).
_INNER_CAPITAL_AFTER = frozenset({"mc", "mac", "de", "di", "da", "du", "la", "le", "van", "von", "fitz", "st"})
# Capitalised words that say the value is a team, a machine, a company or no one.
_NOT_NAMES = frozenset(
    """
    team teams group squad crew bot bots robot system systems admin admins administrator root service services
    support helpdesk desk platform engineering department dept division unit ops devops sre operations sales
    marketing finance legal billing payroll accounts reception office security infra infrastructure inc llc ltd
    corp corporation company co gmbh plc pty limited holdings partners solutions technologies labs foundation
    org organization organisation association university school hospital clinic bank insurance utilities
    store shop market agency council unassigned unknown none null nil undefined nobody noone anonymous anyone
    someone everyone all default automation automated automatic auto scheduler cron webhook integration app
    application api server client user users guest owner member staff internal external public private pending
    test demo sample example tbd self me you various multiple unspecified other noreply info notifications
    notification alerts alert newsletter import migration sync script job task worker daemon process batch
    dependabot renovate copilot github gitlab bitbucket jenkins actions zapier slack jira salesforce hubspot
    stripe shopify google microsoft amazon aws gcp azure iam mozilla chrome chromium firefox safari curl wget
    python java node linux windows macos android ios operator yes no true false web website portal form
    email phone chat mobile online kiosk agent agents collector exporter monitor sensor probe
    """.split()
)


def person_shaped(value: str) -> bool:
    """Whether ``value`` reads as a person's name, as a field holding one writes it.

    One to four words (particles such as 'van' and 'de' aside), each of letters of any
    script with inner apostrophes or hyphens ('O'Brien', 'Jean-Luc'), or an initial or
    title with a dot; each capitalised, or in capitals with two words or more, or in a
    script without case ('李小龙'). No digits, '_', '/', '@' or '.' inside a word, and no
    word that says team, machine, company or no one. A mailbox ("Jane Doe <jane@x.org>")
    is decided by its name. Cheap (no lookup tables beyond sets), and kept free of any
    cache: values are payload text. The JSON walk and the splice path both call it.
    """
    if not 1 < len(value) <= 80:
        return False
    if value[-1] == ">":
        mailbox = _MAILBOX.fullmatch(value)
        if mailbox is not None:
            value = mailbox.group(1).strip()
    words = value.split()
    if not 0 < len(words) <= 6:
        return False
    counted = 0
    capitals = False
    long_word = False
    for i, word in enumerate(words):
        if word[-1] == "," and i < len(words) - 1:  # 'Doe, Jane'
            word = word[:-1]
        if word[-1:] == ".":  # an initial or a title: 'J.', 'Dr.', 'Jr.'
            word = word[:-1]
            if not 0 < len(word) <= 3:
                return False
        if word in _PARTICLES:
            continue
        segments = _SEGMENTS.split(word)
        for k, segment in enumerate(segments):
            if not segment.isalpha():  # digits, '_', '/', '@', '.', an empty segment ('a--b', a trailing "'")
                return False
            lower = segment.lower()
            if lower in _NOT_NAMES:
                return False
            if lower == segment.upper():  # a script without case
                continue
            if segment[0].islower():
                if lower in _PARTICLES and k < len(segments) - 1:  # "d'Artagnan", 'al-Hassan'
                    continue
                return False
            rest = segment[1:]
            if rest.islower() or not rest:
                continue
            if segment.isupper():
                capitals = True
                continue
            inner = next(j for j in range(1, len(segment)) if segment[j].isupper())
            if segment[:inner].lower() not in _INNER_CAPITAL_AFTER or not segment[inner + 1 :].islower():
                return False
        counted += 1
        long_word = long_word or len(word) > 1
    return 0 < counted <= 4 and long_word and not (capitals and counted < 2)
