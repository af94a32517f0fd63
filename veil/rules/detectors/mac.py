"""MAC_ADDRESS: 48-bit hardware addresses in colon, dash or Cisco dotted form.

A candidate may not be preceded by a letter, a digit or a separator, and a
longer run (EUI-64, IPv6 groups) is swallowed whole and rejected; '_' may
touch it on either side (issue #15: ``tok_A_k1_b_00:1a:2b:3c:4d:5e``). The
all-zero and broadcast addresses carry no identity and are not reported.
"""

from __future__ import annotations

from veil.rules.detectors.base import DetectorSpec

_H2 = "[0-9A-Fa-f]{2}"
_H4 = "[0-9A-Fa-f]{4}"
_SHAPES = frozenset({(6, ":"), (6, "-"), (3, ".")})


def is_mac_address(candidate: str) -> bool:
    """Six 2-hex groups (':' or '-') or three 4-hex groups ('.'), one separator kind, not 00.. or ff.."""
    for sep in ":-.":
        parts = candidate.split(sep)
        if len(parts) > 1:
            break
    else:
        return False
    if (len(parts), sep) not in _SHAPES:
        return False
    width = 12 // len(parts)
    if any(len(p) != width or not p.isascii() for p in parts):
        return False
    try:
        value = int("".join(parts), 16)
    except ValueError:
        return False
    return value not in (0, 0xFFFFFFFFFFFF)


_LEAD = r"(?:^|[^0-9A-Za-z:.\-])"
_ADDRESS = (
    rf"{_H2}(?::{_H2}){{5}}(?::[0-9A-Fa-f]+)*"
    rf"|{_H2}(?:-{_H2}){{5}}(?:-[0-9A-Fa-f]+)*"
    rf"|{_H4}\.{_H4}\.{_H4}(?:\.[0-9A-Fa-f]+)*"
)

MAC_ADDRESS = DetectorSpec(
    name="MAC_ADDRESS",
    family="identifier",
    # '_' may touch an address on either side (issue #15: ``tok_A_k1_b_00:1a:2b:3c:4d:5e``,
    # ``00:1A:2B:3C:4D:5E_tok_A_k1_b``): the character after is consumed and trimmed (a trailing edge).
    pattern=rf"{_LEAD}(?P<value>{_ADDRESS})(?:[^0-9A-Za-z]|$)",
    validator=is_mac_address,
    context=("mac", "mac address", "hwaddr", "ether"),
    description="MAC address (aa:bb:cc:dd:ee:ff, aa-bb-cc-dd-ee-ff, aabb.ccdd.eeff).",
    examples=("ether 00:1a:2b:3c:4d:5e", "MAC 00-1A-2B-3C-4D-5E", "hw 001a.2b3c.4d5e"),
)

DETECTORS: tuple[DetectorSpec, ...] = (MAC_ADDRESS,)
