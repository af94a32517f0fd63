"""Field-name classification: role words, name parts, and the shape of a person's name."""

from __future__ import annotations

import pytest

from veil.rules.classify import Classifier, KeyClass, person_shaped

BUILTIN = Classifier.build(True, [])
PERSON = KeyClass("PERSON_NAME", False)
ROLE = KeyClass("PERSON_NAME", True)


@pytest.mark.parametrize(
    ("key", "parent", "expected"),
    [
        # role words, alone or at the end of a key, in any casing
        ("assignee", None, ROLE),
        ("ticket_assignee", None, ROLE),
        ("primaryContact", None, ROLE),
        ("createdBy", None, ROLE),
        ("SUBMITTED_BY", None, ROLE),
        ("assigned-to", None, ROLE),
        ("participants", None, ROLE),  # lists of them
        ("attendees", None, ROLE),
        ("next_of_kin", None, ROLE),
        ("cc", None, ROLE),
        # role words that are something else at the end of these keys
        ("user_agent", None, None),
        ("userAgent", None, None),
        ("package_manager", None, None),
        ("owner_id", None, None),
        ("agent_id", None, None),
        ("author_association", None, None),
        ("sort_by", None, None),  # not every '... by' is a person
        ("owner_email", None, KeyClass("EMAIL", False)),  # the last word decides
        ("ccNumber", None, KeyClass("CREDIT_CARD", False)),
        # 'to' and 'from' are people only in a message
        ("to", "message", ROLE),
        ("from", "email", ROLE),
        ("from", None, None),
        ("to", "date_range", None),
        ("reply_to", None, ROLE),
        # name parts under a parent that says name
        ("first", "name", PERSON),
        ("family", "names", PERSON),
        ("given", "name", PERSON),
        ("display", "name", PERSON),
        ("first", "range", None),
        ("last", None, None),
        # name under a role parent: a person's when shaped like one; under the older qualifiers, always
        ("name", "requester", ROLE),
        ("name", "participants", ROLE),
        ("name", "created_by", ROLE),
        ("name", "customer", PERSON),
        ("name", "product", None),
        ("assignee_name", None, ROLE),
        ("holder_name", None, PERSON),
        ("display", "actor", ROLE),  # FHIR's reference label
        ("display", "settings", None),
        # a repository's full_name is 'org/repo'
        ("full_name", "repository", None),
        ("full_name", "customer", PERSON),
        ("full_name", None, PERSON),
        # explicit name keys, some in other languages
        ("real_name", None, PERSON),
        ("vorname", None, PERSON),
        ("nachname", None, PERSON),
        ("prénom", None, PERSON),
        ("apellidos", None, PERSON),
    ],
)
def test_keys_are_classified_by_their_words_and_their_parent(key: str, parent: str | None, expected: KeyClass | None) -> None:
    assert BUILTIN.key_class(key, parent) == expected


@pytest.mark.parametrize("key", ["assignee", "createdBy", "participants", "name"])
def test_classify_reports_only_classes_that_hold_whatever_the_value(key: str) -> None:
    """Query and form parameters read ``classify``: a role word alone must not cover ``?owner=team-a``."""
    assert BUILTIN.classify(key, "assignee") is None


def test_builtin_roles_are_off_with_the_builtin_classes() -> None:
    plain = Classifier.build(False, [("MEMBER_ID", ["member_no"], [])])
    assert plain.key_class("assignee", None) is None
    assert plain.key_class("member_no", None) == KeyClass("MEMBER_ID", False)
    assert "" not in BUILTIN.entities


def test_a_user_class_overrides_a_role_word() -> None:
    custom = Classifier.build(True, [("AGENT_ID", ["agent"], [])])
    assert custom.key_class("agent", None) == KeyClass("AGENT_ID", False)


@pytest.mark.parametrize("key", ["to", "from", "first", "display", "name", "full_name"])
def test_parent_matters_for_keys_whose_class_a_parent_changes(key: str) -> None:
    assert BUILTIN.parent_matters(key)
    parents = [None, "message", "name", "assignee", "repository", "customer", "product"]
    assert len({BUILTIN.key_class(key, p) for p in parents}) > 1


@pytest.mark.parametrize("key", ["assignee", "createdBy", "email", "user_agent", "first_name"])
def test_parent_does_not_matter_for_keys_that_decide_alone(key: str) -> None:
    assert not BUILTIN.parent_matters(key)
    assert len({BUILTIN.key_class(key, p) for p in [None, "message", "name", "assignee", "repository"]}) == 1


@pytest.mark.parametrize(
    "value",
    [
        "Jane Doe",
        "Jane",  # a first name alone
        "Raj Patel",
        "O'Brien",
        "Siobhán O\u2019Connor",  # typographic apostrophe
        "Jean-Luc Picard",
        "María José García López",
        "Zoë Saldaña",
        "Иван Петров",
        "李小龙",  # no case in the script
        "محمد علي",
        "JANE DOE",  # capitals, two words
        "Jane DOE",
        "Doe, Jane",
        "Dr. Jane Doe",
        "J. R. R. Tolkien",
        "Martin Luther King Jr.",
        "Ludwig van Beethoven",
        "Juan de la Cruz",
        "d'Artagnan",
        "Ronald McDonald",
        "Douglas MacArthur",
        "Danny DeVito",
        "Jane Doe <jane@example.com>",  # a mailbox: the name decides
        '"Doe, Jane" <jane@example.com>',
    ],
)
def test_values_shaped_like_a_person_name(value: str) -> None:
    assert person_shaped(value)


@pytest.mark.parametrize(
    "value",
    [
        "",
        "J",  # one letter
        "J.",  # an initial alone
        "team-platform",  # lower case, a team word
        "Platform Team",
        "Mozilla/5.0 (Windows NT 10.0; Win64; x64)",
        "bot[bot]",
        "dependabot[bot]",
        "GitHub Actions",
        "system",
        "System",
        "Unassigned",
        "usr_8f2k3",
        "jane@example.com",
        "<jane@example.com>",  # a mailbox without a name
        "USD",  # capitals, one word
        "NASA",
        "GitHub",  # a capital inside a word, not after Mc/Mac/De...
        "PayPal",
        "PostgreSQL",
        "iPhone",
        "Acme Corp",
        "Globex Corporation",
        "N/A",
        "example.com",
        "Build 7.12",
        "Jane Doe 2",
        "Jane  Doe  Roe  Smith  Jones",  # five words
        "Mary-",  # an empty segment
        "Room 4B",
        "a b",
        "x" * 81,
    ],
)
def test_values_not_shaped_like_a_person_name(value: str) -> None:
    assert not person_shaped(value)


def test_every_plural_role_is_a_role_in_lists_and_qualifies_a_name_as_its_singular() -> None:
    from veil.rules.classify import PERSON_ROLES, PLURAL_ROLES

    for plural in PLURAL_ROLES:
        assert plural[:-1] in PERSON_ROLES, plural
        assert BUILTIN.key_class(plural, None) == ROLE
        assert BUILTIN.key_class("name", plural) is not None, plural
