"""URL and URL_CREDENTIALS.

URL: ``http``, ``https``, ``ftp``, ``ws`` and ``wss`` URLs (scheme matched
case-insensitively). The URL may not end in sentence punctuation or a closing
bracket/quote, so "see https://example.com/a." reports ``https://example.com/a``.
Only ASCII URL characters are taken: text right after a URL in another script
is not swallowed (an IRI's non-ASCII path is cut short).

URL_CREDENTIALS: the ``user:password`` userinfo of any ``scheme://`` URL
(including DSNs such as ``postgres://u:p@db/x`` and ``redis://:p@host``). Only the userinfo is reported
(``value`` group); a user name without a password is not a credential. The
password runs to the last ``@`` before the host, so a percent-encoded ``%40``
in it (decoded before matching) does not cut it short.
"""

from __future__ import annotations

from veil.rules.detectors.base import DetectorSpec

_BODY = r"[A-Za-z0-9\-._~:/?#\[\]@!$&()*+,;=%]*[A-Za-z0-9\-_~/#$&*+=%]"

URL = DetectorSpec(
    name="URL",
    family="secret",
    pattern=rf"\b(?i:https?|ftp|wss?)://[A-Za-z0-9\[](?:{_BODY})?",
    context=("url", "link", "href", "uri"),
    description="http(s), ftp and ws(s) URL.",
    examples=("see https://example.com/path?q=1.", "ws://10.0.0.1:8080/socket"),
)

URL_CREDENTIALS = DetectorSpec(
    name="URL_CREDENTIALS",
    family="secret",
    pattern=(
        # Any character that cannot continue a scheme may lead it, '_' too (``tok_A_k1_postgres://...``).
        r"(?:^|[^A-Za-z0-9+.\-])[A-Za-z][A-Za-z0-9+.\-]{1,30}://"
        r"(?P<value>[^\s:/?#@\[\]\"'<>]*:[^\s/?#\"'<>]+)@[A-Za-z0-9\[]"
    ),
    # What follows the scheme: a scheme is any word, so the full pattern makes
    # RE2 follow every word in a body for 30 bytes (a tenth of the events pass).
    trigger=r"://[^\s:/?#@\[\]\"'<>]*:[^\s/?#\"'<>]+@[A-Za-z0-9\[]",
    context=("url", "dsn", "connection"),
    description="user:password userinfo embedded in a URL.",
    examples=("https://admin:s3cr3t@example.com/", "postgres://app:hunter2@db.internal:5432/app"),
)

DETECTORS: tuple[DetectorSpec, ...] = (URL, URL_CREDENTIALS)
