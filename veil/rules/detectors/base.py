"""What a detector is: an RE2 pattern plus optional validation and context.

A detector never sees more than one string at a time. The engine finds
candidates with RE2 (combined with every other detector's pattern into as few
scans as possible), then asks the detector to confirm each candidate.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable

Validator = Callable[[str], bool]
"""Takes the candidate text (the ``value`` group if the pattern has one) and says whether it is real."""


@dataclass(frozen=True, slots=True)
class DetectorSpec:
    """A detector, built-in or from a policy.

    ``pattern`` is RE2 syntax and must not match the empty string. If it has a
    group named ``value``, only that group is reported and rewritten (so
    ``Bearer (?P<value>...)`` keeps the word ``Bearer``). ``context`` words
    (lowercase) raise confidence: with ``context_required`` a candidate only
    counts when one of them appears in the ``context_window`` characters before
    it, or in the name of the field or header that holds the string.
    ``case_insensitive`` compiles the pattern with ``(?i)``.

    ``trigger`` (optional) is a cheaper pattern that matches inside every text
    in which ``pattern`` matches: a part every match must contain. It is only
    used to pick which strings of a body to scan, never to report, so it may
    match more; it must never match less (the catalog tests check each one).

    ``lead`` (optional) matches at the start of every match of ``pattern``: a
    prefix of it, e.g. a token's literal prefixes. The combined searches use it
    in place of ``pattern`` (and of ``trigger`` where that is empty), and the
    full pattern is only tried where it matched. Patterns made of many long
    counted runs (``ghp_[A-Za-z0-9]{36,}`` and 150 others) are cheap alone but
    multiply the states of RE2's DFA when combined with every other detector:
    on text of fresh base64 the combined search ran 20x slower with them.

    Confidence instead of blanket rejection (issue #14): ``with_context`` is a
    weaker validator for candidates ``validator`` rejects; such a candidate
    still counts when ``with_context`` accepts it *and* one of ``context``
    is near it or in its field name (:func:`~veil.rules.detectors.matching.has_context`).
    So a rule that would otherwise drop a value the user must not leak (nine
    bare digits, an SSN-shaped 9xx number, an IBAN whose national check fails)
    lowers confidence rather than vetoing.

    ``not_after`` (optional, RE2) is the opposite signal: a candidate is left
    alone when this pattern matches at the very end of the ``context_window``
    characters before it (the pattern is searched as ``(?:not_after)$``, so it
    describes what immediately precedes the value: ``version ``, ``rv:``,
    ``Chrome/``). Only the text is read, never the field name.

    ``inside`` (optional, RE2) is ``not_after`` for a run the value would continue (a UPS ``1Z``
    number, whose tail is phone-shaped): it applies only when the value starts with a letter or a
    digit, as the run's next character would (``1Z 999 AA1 01 2345 6784``; ``1Z+44 20 7946 0958``
    is a phone after it).

    ``not_in_field`` (optional, lowercase words) is the field name's veto: a
    candidate in a field whose name holds one of these words (``app_version``,
    ``buildNumber``, ``oid``) is left alone, as split by
    :func:`~veil.rules.detectors.matching.split_words`.
    """

    name: str
    pattern: str
    validator: Validator | None = None
    context: tuple[str, ...] = ()
    context_required: bool = False
    context_window: int = 48
    case_insensitive: bool = False
    description: str = ""
    examples: tuple[str, ...] = field(default=())
    trigger: str = ""
    lead: str = ""
    with_context: Validator | None = None
    not_after: str = ""
    inside: str = ""
    not_in_field: tuple[str, ...] = ()
    family: str = ""
