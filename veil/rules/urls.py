"""URLs: a request's path, and the URLs that headers carry (``Location``, ``Referer``...).

A path segment gets what a query value gets: every detector, with the segment before
it as its field (``/ssn/<value>`` reads like ``?ssn=<value>``). Field-name classes are
not applied to segments: ``/phone/verify`` names a route, not a phone number. Segments
are split and decoded on the raw text, and only those that change are re-encoded, so
every other byte stays as it was. The query (and a fragment written as ``a=1&b=2``,
as OAuth's implicit flow writes its tokens) is redacted as :meth:`Plan.redact_query`
redacts one.

Findings name a segment by its place only (``/<segment>/<segment>``): unlike JSON keys,
path segments are mostly data (user names, diagnoses, slugs), so none is written out.
"""

from __future__ import annotations

import re
from urllib.parse import quote, unquote

from veil.rules.plan_types import Finding
from veil.rules.text_ops import redact_pairs, scan_strings
from veil.rules.view import View

SEGMENT = "<segment>"
# What a rewritten segment keeps unencoded: RFC 3986's sub-delims and '@' (a pchar), so
# matrix parameters (';a=1') keep their meaning; ':' is encoded (a first segment holding
# one would read as a scheme), as are '[' and ']' of a placeholder.
_SEGMENT_SAFE = "!$&'()*+,;=@~"
# scheme ':' and '//' authority, as RFC 3986 appendix B splits a URI reference.
_ORIGIN = re.compile(r"^(?:[A-Za-z][A-Za-z0-9+.\-]*:)?(?://[^/?#]*)?")
# Refresh: '5; url=/next' (the URL may be quoted). What follows the URL is cut off in Python: a
# lazy group before '\s*$' backtracked quadratically on a long run of inner spaces.
_REFRESH_HEAD = re.compile(r"""\s*[0-9.]+\s*[;,]\s*(?:url\s*=\s*)?['"]?""", re.IGNORECASE)
_LINK_TARGET = re.compile(r"<([^<>]*)>")

URL_HEADERS = frozenset({"location", "content-location", "referer"})
"""Headers whose whole value is one URL reference."""


def redact_url_path(view: View, target: str, findings: list[Finding]) -> str:
    """Rewrite a path with its query and fragment, if any (``/a/b?c=d#e``); unchanged parts keep their bytes."""
    return _redact_target(view, target, findings)[0]


def _redact_target(view: View, target: str, findings: list[Finding], origin: str = "",
                   header: str = "") -> tuple[str, str]:
    path, qmark, rest = target.partition("?")
    if qmark:
        query, hash_, fragment = rest.partition("#")
    else:
        path, hash_, fragment = path.partition("#")
        query = ""
    new_path, new_origin = _redact_segments(view, path, findings, "path", origin, header)
    new_query = redact_pairs(view, query, view.query, "query", findings, plus=True) if query else query
    if "=" in fragment:
        new_fragment = redact_pairs(view, fragment, view.query, "fragment", findings, plus=False)
    else:
        new_fragment = _redact_segments(view, fragment, findings, "fragment")[0]
    if (new_path, new_query, new_fragment) == (path, query, fragment):
        return target, new_origin
    return new_path + qmark + new_query + hash_ + new_fragment, new_origin


def redact_url(view: View, url: str, name: str, findings: list[Finding]) -> str:
    """Rewrite a URL reference (absolute, or relative as ``Location`` may be) found in the
    header ``name``: its path, query and fragment as a request's; the scheme and authority
    (``user:pass@host``) are scanned as header text."""
    origin = _ORIGIN.match(url)
    head = origin.group() if origin is not None else ""
    tail = url[len(head):]
    new, new_head = _redact_target(view, tail, findings, head, name)
    return url if new is tail and new_head == head else new_head + new


def redact_url_header(view: View, name: str, value: str, findings: list[Finding]) -> str:
    """The value of the header ``name``, one of ``URL_HEADERS``, ``Refresh`` or ``Link``;
    what is not a URL in it (``Link``'s parameters) is scanned as header text."""
    lname = name.lower()
    if lname in URL_HEADERS:
        return redact_url(view, value, name, findings)
    if lname == "refresh":
        parts = refresh_parts(value)
        if parts is None or not parts[1]:
            return value
        head, url, tail = parts
        new = redact_url(view, url, name, findings)
        return value if new == url else head + new + tail
    # Link: '<url>; rel="next", <url>; ...': targets and the text around them alternate.
    pieces = _LINK_TARGET.split(value)
    out = [redact_url(view, piece, name, findings) if i % 2 else _header_text(view, piece, name, findings)
           for i, piece in enumerate(pieces)]
    return "".join(f"<{piece}>" if i % 2 else piece for i, piece in enumerate(out))


def refresh_parts(value: str) -> tuple[str, str, str] | None:
    """A Refresh value's (delay and 'url=' with an opening quote, the URL, a closing quote and
    trailing blanks), or None when it opens otherwise."""
    m = _REFRESH_HEAD.match(value)
    if m is None:
        return None
    rest = value[m.end():]
    body = rest.rstrip()
    if "\n" in body:  # header values hold none; the URL would not run past one
        return None
    cut = len(body) - 1 if body[-1:] in ("'", '"') else len(body)
    return value[: m.end()], rest[:cut], rest[cut:]


def _header_text(view: View, text: str, name: str, findings: list[Finding]) -> str:
    if not text:
        return text
    new = scan_strings(view, [text], [name], "header", [name], findings)[0]
    return "" if new is None else new


def _redact_segments(view: View, path: str, findings: list[Finding], location: str = "path",
                     origin: str = "", header: str = "") -> tuple[str, str]:
    """(path, origin) rewritten: the path's segments, and the URL's scheme and authority
    (``origin``, found in the header ``header``) as header text, in one scan."""
    if not view.everywhere or (not path and not origin):
        return path, origin
    raw = path.split("/")
    index = [i for i, segment in enumerate(raw) if segment]
    decoded = {i: unquote(raw[i]) for i in index}
    texts = [decoded[i] for i in index] + ([origin] if origin else [])
    fields = [decoded.get(i - 1, "") for i in index] + ([header] if origin else [])
    found: list[Finding] = []
    found_in: set[int] = set()
    scanned = scan_strings(view, texts, fields, location, [str(i) for i in index] + ["origin"], found, found_in)
    if not found:
        return path, origin
    for f in found:  # a segment is named by its place only: segments are data (names, diagnoses, slugs)
        if f.path == "origin":
            findings.append(Finding(f.type, f.rule, f.action, "header", header, f.mode, f.start, f.end))
            continue
        at = int(f.path)
        label = "/".join("" if not raw[j] else SEGMENT for j in range(at)) + ("/" if at else "") + SEGMENT
        findings.append(Finding(f.type, f.rule, f.action, f.location, label, f.mode, f.start, f.end))
    out = list(raw)
    for i, new in zip(index, scanned):
        if new is None:
            out[i] = ""  # a removed value leaves an empty segment: the path keeps its shape
        elif new != decoded[i]:
            out[i] = quote(new, safe=_SEGMENT_SAFE)
    new_origin = origin
    if origin:
        new_origin = scanned[-1] or ""
    return "/".join(out), new_origin
