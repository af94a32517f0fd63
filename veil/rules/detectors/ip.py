"""IP_ADDRESS: IPv4 dotted quads and IPv6 (full, compressed, IPv4-mapped).

Every candidate is confirmed by :mod:`ipaddress`. Dotted runs are swallowed
whole (``1.2.3.4.5`` is one candidate and fails), and a candidate may not be
preceded by a letter, a digit, or a '.' that follows a digit or a '.', so
version strings and longer dotted numbers do not yield an inner address. '_'
may precede or follow one, and letters follow a dotted quad (issue #15:
``tok_A_k1_192.168.10.23``, ``192.168.10.23_k1``, ``tok_A_k1_.192.168.10.23``
crossed); a '.' after a word leads one (``host.10.0.0.1``). Letters glued
before an address still hide it (``ab10.0.0.1``: a name's digits, or a
version). Colon runs like ``12:30:45`` or a MAC address are candidates but
fail IPv6 parsing; IPv6 candidates must contain a decimal digit, which
rejects ``::`` and words like ``dead::beef``.

Version strings are left alone by their context (issue #14): a candidate
right after ``v``, ``ver``, ``version``, ``build``, ``release`` or ``rv``
(with an optional ``:``, ``=``, ``.``, ``_`` or space) or after a product name and a
slash (``Chrome/120.0.6099.109``, ``Firefox/1.9.1.20``) is not an address;
five or more dotted parts are never one. Addresses in logs
(``client 10.0.0.12``, ``from 203.0.113.9 port 22``, ``X-Forwarded-For:
198.51.100.7``, ``http://10.0.0.1/``) still count.

Caveat: a four-part version with no such word before it ("7.12.31.170 is
out") is a valid IPv4 address and is reported.
"""

from __future__ import annotations

import ipaddress

from veil.rules.detectors._common import OUTPUT_ENDING_IN_DIGIT
from veil.rules.detectors.base import DetectorSpec


def is_ip_address(candidate: str) -> bool:
    """A valid IPv4 or IPv6 address (zone ids not included); IPv6 needs a decimal digit."""
    if not candidate.isascii():
        return False
    if ":" not in candidate:
        # Without a colon only IPv4 can parse: ipaddress's own rules for it (four parts of
        # 1-3 digits, no leading zero, at most 255), in a fifth of its time.
        parts = candidate.split(".")
        return len(parts) == 4 and all(_is_octet(part) for part in parts)
    try:
        address = ipaddress.ip_address(candidate)
    except ValueError:
        return False
    if address.version == 6 and not any(ch.isdigit() for ch in candidate):
        return False
    return True


def _is_octet(part: str) -> bool:
    return 0 < len(part) <= 3 and part.isdigit() and (part == "0" or part[0] != "0") and int(part) <= 255


# A dotted run is swallowed whole (``1.2.3.4.5``, ``1.2.3.4567``: one candidate, no address), and so
# are letters after a colon run, hex or not (``dead::beefy``). Nothing else after an address is part
# of it: '_' and letters may follow a dotted quad (``192.168.10.23_k1``, ``10.0.0.1abc``).
_V4 = r"\d{1,3}(?:\.\d{1,3}){3}(?:\.\d+)*\d*"
_V6 = r"[0-9A-Fa-f]{0,4}(?::[0-9A-Fa-f]{0,4}){2,7}(?:\.\d{1,3}){0,3}[0-9A-Za-z]*"
# Before an address: no letter, digit or '.' (inside a word, a longer number or a dotted run), but
# '_' may (``tok_A_k1_192...``, ``ip_10.0.0.1``); and, in a branch of its own, a '.' that follows
# neither a digit nor a '.' (``tok_A_k1_.192...``, ``host.10.0.0.1``; after a digit it is the tail of
# a longer dotted number, ``1.2.3.4.5``). Two branches, so the common one keeps its fast form.
_ADDRESS = rf"{_V4}|{_V6}"
# Next to veil-shaped text (issue #15's property), each in a branch of its own: a colon run ending
# in a hex digit glued before one, maybe with ':' between (``2001:db8::1tok_...``: no letter of
# ``tok``/``vtok``/``hash`` is hex, so the run ends there; the plain branch would swallow the word
# and fail), and an address after one ending in a digit and '.', '-' or '/'
# (``hash_IP_..8651.10.0.0.5``, ``hash_..0c4.2001:db8::1``: elsewhere a digit before makes one
# longer dotted number). The first is tried first: the plain branch matches there too. Not
# covered: a run ending in '::' glued to such text (``2001:db8::tok_...``), and a colon run glued
# to a hash's hex digits (``..e71fe80::1``: where the hash ends is not known).
_V6_BEFORE_OUTPUT = r"[0-9A-Fa-f]{0,4}(?::[0-9A-Fa-f]{0,4}){1,6}:[0-9A-Fa-f]{1,4}(?:\.\d{1,3}){0,3}"
_PATTERN = (
    rf"(?:(?:^|[^0-9A-Za-z.])(?P<value_before_output>{_V6_BEFORE_OUTPUT}):?(?:hash|v?tok)_"
    rf"|(?:^|[^0-9A-Za-z.])(?P<value>{_ADDRESS})"
    rf"|(?:^|[^0-9.])\.(?P<value_after_dot>{_ADDRESS})"
    rf"|{OUTPUT_ENDING_IN_DIGIT}[.\-/](?P<value_after_output>{_ADDRESS}))"
)

IP_ADDRESS = DetectorSpec(
    name="IP_ADDRESS",
    family="identifier",
    pattern=_PATTERN,
    validator=is_ip_address,
    # What precedes a version number or an OID: a version word (also ending a name,
    # ``APP_VERSION=``), an OID or algorithm word, "upgraded ... to", or a product token and '/'
    # as user agents write them (``Firefox/``: capitalized, after a space or the start; never a
    # URL's path: ``ipinfo.io/203.0.113.9`` is an address). "release", "pinned", "bumped" and
    # "rolled back" say nothing: "DHCP release 192.168.1.10", "failover pinned to 203.0.113.9".
    not_after=(
        r"(?i:(?:\b|_)(?:v|ver|version|build|rv|oid|algorithm)[ .:=_]?[\"' ]?)"
        r"|(?i:\b(?:upgrad[a-z]*|downgrad[a-z]*)\b[^.\n]{0,40}\bto ?)"
        r"|(?:^|[\s(;,])[A-Z][A-Za-z0-9._\-]*/"  # case matters: a flag here would apply to it too
    ),
    # Fields that hold versions or object identifiers, not addresses ("release_server" may hold one).
    not_in_field=("version", "ver", "build", "revision", "oid", "firmware", "sdk"),
    context=("ip", "ip address", "addr", "host", "client"),
    description="IPv4 or IPv6 address, confirmed with the ipaddress module.",
    examples=("client 203.0.113.7 connected", "via 2001:db8::8a2e:370:7334", "mapped ::ffff:192.0.2.1"),
)

DETECTORS: tuple[DetectorSpec, ...] = (IP_ADDRESS,)
