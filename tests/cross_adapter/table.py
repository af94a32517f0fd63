"""The cross-adapter case table: every row runs through ASGI, WSGI, Django, the proxy and the httpx transport.

Each row says which side it exercises. ``request``: the client's request, and what must reach the app
(for the middlewares), the upstream (proxy) or the vendor (httpx transport). ``response``: the app's,
upstream's or vendor's response, and what must reach the client (for httpx: with ``redact_responses=True``).

Expected bytes are written out here, by hand, from the policy in ``policy.py``; nothing in this table
calls veil. Where an adapter differs without a leak (Django renders cookie attributes in its own order,
a client library raises instead of answering a status), the row carries that adapter's own expectation.
Where an adapter lets data through today, the row names the issue item that fixes it (``defects``): that
adapter's run is a strict xfail, and it passes as soon as the fix lands (then drop the mark).
"""

from __future__ import annotations

import gzip
import zlib

import zstandard

from tests.cross_adapter.model import (
    Case,
    Crossed,
    Raised,
    Refused,
    Request,
    Response,
)

JSON = (("Content-Type", "application/json"),)
SSE = (("Content-Type", "text/event-stream"),)
NDJSON = (("Content-Type", "application/x-ndjson"),)

# One JSON document with PII in named fields, in free text, and behind JSON escapes (\u0040 is '@').
PII_FIELDS = b'{"user": {"email": "jane@example.com", "card": "4111 1111 1111 1111"}, "ssn": "123-45-6789", "n": 7}'
PII_FIELDS_REDACTED = (
    b'{"user": {"email": "[REDACTED:EMAIL]", "card": "[REDACTED:CREDIT_CARD]"}, "ssn": "[REDACTED:US_SSN]", "n": 7}'
)
FREE_TEXT = (b'{"note": "mail jane@example.com or call +1 415 555 0100, SSN 123-45-6789", '
             b'"escaped": "jane\\u0040example.com \\"4111 1111 1111 1111\\""}')
FREE_TEXT_REDACTED = (b'{"note": "mail [REDACTED:EMAIL] or call [REDACTED:PHONE], SSN [REDACTED:US_SSN]", '
                      b'"escaped": "[REDACTED:EMAIL] \\"[REDACTED:CREDIT_CARD]\\""}')
# Values no detector would find, redacted for their key's name alone; city and order_id are near-misses.
FIELD_NAMES = (b'{"password": "hunter2", "first_name": "Jane", "last_name": "Doe", "phone_number": "n/a", '
               b'"date_of_birth": "1990-01-02", "city": "Leeds", "order_id": "A-17"}')
FIELD_NAMES_REDACTED = (b'{"password": "[REDACTED:SECRET]", "first_name": "[REDACTED:PERSON_NAME]", '
                        b'"last_name": "[REDACTED:PERSON_NAME]", "phone_number": "[REDACTED:PHONE]", '
                        b'"date_of_birth": "[REDACTED:DATE_OF_BIRTH]", "city": "Leeds", "order_id": "A-17"}')
TEXT = b"Call +1 415 555 0100 or write to jane@example.com.\nCard: 4111 1111 1111 1111\n"
TEXT_REDACTED = b"Call [REDACTED:PHONE] or write to [REDACTED:EMAIL].\nCard: [REDACTED:CREDIT_CARD]\n"
# No rule covers anything here: odd spacing, a \u escape, raw UTF-8 and an id must come back byte for byte.
UNTOUCHED = b'{ "status" : "ok",\n  "items": [1, 2.50, "A-17"], "unicode": "Jos\\u00e9 \xe2\x9c\x93", "empty": {} }'
NDJSON_LINES = (b'{"email": "jane@example.com"}\n', b'{"note": "card 4111 1111 1111 1111"}\n', b'{"n": 3}\n')
NDJSON_REDACTED = b'{"email": "[REDACTED:EMAIL]"}\n{"note": "card [REDACTED:CREDIT_CARD]"}\n{"n": 3}\n'
# limits.max_body_bytes is 4096: 4096 bytes pass, 4212 are refused.
AT_LIMIT = b'{"blob": "' + b"x" * 4084 + b'"}'
OVER_LIMIT = b'{"blob": "' + b"x" * 4200 + b'"}'


def _zstd_stream(*events: bytes) -> tuple[bytes, ...]:
    """``events`` as the chunks of one zstd stream, each flushed so it decodes on arrival."""
    compressor = zstandard.ZstdCompressor().compressobj()
    chunks = [compressor.compress(event) + compressor.flush(zstandard.COMPRESSOBJ_FLUSH_BLOCK) for event in events]
    return (*chunks[:-1], chunks[-1] + compressor.flush(zstandard.COMPRESSOBJ_FLUSH_FINISH))


ZSTD_SSE_CHUNKS = _zstd_stream(b"data: mail jane@example.com\n\n", b"data: [DONE]\n\n")
CR_COMMENTS = (b": keep-alive " + b"." * 1000 + b"\r\r") * 5  # 5 KiB of CR-ended lines, nothing to redact


CASES: list[Case] = [
    # -- JSON ---------------------------------------------------------------------------------------
    Case("json-fields-request", "request", Request(PII_FIELDS), Crossed(PII_FIELDS_REDACTED)),
    Case("json-fields-response", "response", Response((PII_FIELDS,)), Crossed(PII_FIELDS_REDACTED)),
    Case("json-free-text-request", "request", Request(FREE_TEXT), Crossed(FREE_TEXT_REDACTED)),
    Case("json-free-text-response", "response", Response((FREE_TEXT,)), Crossed(FREE_TEXT_REDACTED)),
    Case("field-names-request", "request", Request(FIELD_NAMES), Crossed(FIELD_NAMES_REDACTED)),
    Case("field-names-response", "response", Response((FIELD_NAMES,)), Crossed(FIELD_NAMES_REDACTED)),
    Case("untouched-json-request", "request", Request(UNTOUCHED), Crossed(UNTOUCHED)),
    Case("untouched-json-response", "response", Response((UNTOUCHED,)), Crossed(UNTOUCHED)),
    Case("gzip-json-response", "response",
         Response((gzip.compress(b'{"email": "jane@example.com"}', mtime=0),),
                  headers=(*JSON, ("Content-Encoding", "gzip"))),
         Crossed(b'{"email": "[REDACTED:EMAIL]"}')),  # as the client decodes it
    # -- head: headers, cookies, query, path ----------------------------------------------------------
    Case("headers-request", "request",
         Request(b"{}", headers=(("Authorization", "Bearer abc.def.ghi"), ("Cookie", "session=s3ss10n; theme=dark"),
                                 ("X-Contact", "jane@example.com"), ("X-Request-Id", "r-17"))),
         Crossed(b"{}", headers=(("authorization", "[REDACTED:SECRET]"),
                                 ("cookie", "session=[REDACTED:SECRET]; theme=[REDACTED:SECRET]"),
                                 ("x-contact", "[REDACTED:EMAIL]"), ("x-request-id", "r-17")))),
    Case("headers-response", "response",
         Response((b"{}",), headers=(*JSON, ("Set-Cookie", "session=s3ss10n; Path=/; HttpOnly"),
                                     ("X-Contact", "jane@example.com"), ("X-Request-Id", "r-17"))),
         Crossed(b"{}", headers=(("set-cookie", "session=[REDACTED:SECRET]; Path=/; HttpOnly"),
                                 ("x-contact", "[REDACTED:EMAIL]"), ("x-request-id", "r-17"))),
         per_adapter={"django": Crossed(b"{}", headers=(  # Django renders cookie attributes in its own order
             ("set-cookie", "session=[REDACTED:SECRET]; HttpOnly; Path=/"),
             ("x-contact", "[REDACTED:EMAIL]"), ("x-request-id", "r-17")))},
    ),  # httpx passed response headers unredacted before issue 15 (the transport like the other adapters)
    Case("query-request", "request",
         Request(method="GET", content_type="",
                 query="access_token=s3cr3t&page=2&email=jane%40example.com&api_key=k-123&q=hello+world"),
         Crossed(b"", query="access_token=[REDACTED:SECRET]&page=2&email=[REDACTED:EMAIL]"
                            "&api_key=[REDACTED:SECRET]&q=hello+world")),
    Case("email-in-path-request", "request",
         Request(method="GET", content_type="", path="/users/jane@example.com/orders"),
         Crossed(b"", path="/users/[REDACTED:EMAIL]/orders")),  # as the app decodes it (the wire has %5B...%5D)
    Case("plain-path-request", "request",  # near-miss: ids and dots in a path are not personal data
         Request(method="GET", content_type="", path="/users/A-17/orders/v1.2"),
         Crossed(b"", path="/users/A-17/orders/v1.2")),
    # Issue 15, protocol headers: Content-Type parameters crossed unscanned; charset and boundary stay as sent,
    # and a finding in one of them (or in the media type) is refused, since rewriting it breaks the body.
    Case("content-type-parameter-response", "response",
         Response((TEXT,), headers=(("Content-Type", "text/plain; charset=utf-8; name=jane@example.com"),)),
         Crossed(TEXT_REDACTED, headers=(("content-type", 'text/plain; charset=utf-8; name="[REDACTED:EMAIL]"'),))),
    Case("content-type-parameter-request", "request",  # WSGI and Django: CONTENT_TYPE was no HTTP_ header
         Request(TEXT, content_type="text/plain; charset=utf-8; name=jane@example.com"),
         Crossed(TEXT_REDACTED, headers=(("content-type", 'text/plain; charset=utf-8; name="[REDACTED:EMAIL]"'),))),
    Case("content-type-boundary-finding-response", "response",  # the boundary and its header crossed
         Response((b"--jane@example.com\r\nContent-Type: text/plain\r\n\r\nhello\r\n--jane@example.com--\r\n",),
                  headers=(("Content-Type", "multipart/mixed; boundary=jane@example.com"),)),
         Refused(502, b'{"error":"veil_redaction_failed","reason":"unredactable_header","direction":"response"}'),
         per_adapter={"httpx": Raised("unredactable_header")}),
    # One Content-Type parameter parser (issue #15, L4-L6): veil read these differently from receivers.
    Case("content-type-quoted-charset-request", "request",  # a ';' in a quoted value: veil decoded UTF-16
         Request(b"email jane@example.com", content_type='text/plain; x="; charset=utf-16"'),
         Crossed(b"email [REDACTED:EMAIL]")),
    Case("content-type-quoted-charset-response", "response",
         Response((b"email jane@example.com",), headers=(("Content-Type", 'text/plain; x="; charset=utf-16"'),)),
         Crossed(b"email [REDACTED:EMAIL]")),
    Case("content-type-utf16-on-ascii-response", "response",  # an app ignoring the charset read the address
         Response((b"email jane@example.com",), headers=(("Content-Type", "text/plain; charset=utf-16"),)),
         Refused(502, b'{"error":"veil_redaction_failed","reason":"bad_encoding","direction":"response"}'),
         per_adapter={"httpx": Raised("bad_encoding")}),
    Case("content-type-charset-twice-request", "request",  # the email package reads the first, others the last
         Request(b"email jane@example.com", content_type="text/plain; charset=utf-8; charset=utf-16"),
         Refused(400, b'{"error":"veil_redaction_failed","reason":"unredactable_header","direction":"request"}'),
         per_adapter={"httpx": Raised("unredactable_header")}),
    Case("content-type-parameter-name-request", "request",  # Django's content_params: {'jane@example.com': '1'}
         Request(TEXT, content_type="text/plain; charset=utf-8; jane@example.com=1"),
         Crossed(TEXT_REDACTED, headers=(("content-type", "text/plain; charset=utf-8"),))),
    Case("content-type-continuation-response", "response",  # RFC 2231: receivers join the pieces
         Response((TEXT,), headers=(("Content-Type", 'text/plain; charset=utf-8; name*0=jane; name*1="@example.com"'),)),
         Crossed(TEXT_REDACTED, headers=(("content-type", 'text/plain; charset=utf-8; name="[REDACTED:EMAIL]"'),))),
    Case("content-type-extended-value-response", "response",  # RFC 8187 stays valid RFC 8187
         Response((TEXT,), headers=(("Content-Type", "text/plain; charset=utf-8; name*=UTF-8''jane%40example.com"),)),
         Crossed(TEXT_REDACTED, headers=(("content-type", "text/plain; charset=utf-8; name*=UTF-8''%5BREDACTED%3AEMAIL%5D"),))),
    Case("multipart-continued-filename-request", "request",  # werkzeug joined it: jane@example.com.txt
         Request(b'--XyZ\r\nContent-Disposition: form-data; name="f"; filename*0="jane"; filename*1="@example.com.txt"'
                 b"\r\nContent-Type: image/png\r\n\r\n\x89PNG\r\n\x1a\n\x00\r\n--XyZ--\r\n",
                 content_type="multipart/form-data; boundary=XyZ"),
         Crossed(b'--XyZ\r\nContent-Disposition: form-data; name="f"; filename="[REDACTED:EMAIL]"'
                 b"\r\nContent-Type: image/png\r\n\r\n\x89PNG\r\n\x1a\n\x00\r\n--XyZ--\r\n")),
    Case("location-header-response", "response",
         Response((b"",), status=302,
                  headers=(("Location", "/users/jane@example.com"), ("Content-Type", "text/plain"))),
         # Inside a URL the marker is percent-encoded, so the Location stays a valid URL.
         Crossed(b"", status=302, headers=(("location", "/users/%5BREDACTED%3AEMAIL%5D"),))),
    # Referer and Content-Location are URLs too: path segments, query and fragment as a request's own.
    Case("referer-header-request", "request",
         Request(method="GET", content_type="", headers=(
             ("Referer", "https://app.example.org/users/jane@example.com/orders?access_token=s3cr3t&page=2"),)),
         Crossed(b"", headers=(
             ("referer", ("https://app.example.org/users/%5BREDACTED%3AEMAIL%5D/orders"
                          "?access_token=[REDACTED:SECRET]&page=2")),))),
    # OAuth's implicit flow writes its token in the fragment. Envoy drops a Referer with a fragment itself
    # (RFC 9110 forbids one) before its filters run, so no Envoy run: nothing of it reaches the upstream there.
    Case("referer-fragment-token-request", "request",
         Request(method="GET", content_type="",
                 headers=(("Referer", "https://app.example.org/callback#access_token=s3cr3t&state=xyz"),)),
         Crossed(b"", headers=(("referer", "https://app.example.org/callback#access_token=[REDACTED:SECRET]&state=xyz"),)),
         adapters=("asgi", "wsgi", "django", "proxy", "httpx")),
    Case("plain-referer-request", "request",  # near-miss: ids and a page number stay as sent
         Request(method="GET", content_type="", headers=(("Referer", "https://app.example.org/orders/A-17?page=2"),)),
         Crossed(b"", headers=(("referer", "https://app.example.org/orders/A-17?page=2"),))),
    Case("content-location-header-request", "request",
         Request(b'{"n": 1}', method="PUT", headers=(("Content-Location", "/v1/users/jane@example.com?api_key=k-123"),)),
         Crossed(b'{"n": 1}', headers=(("content-location", "/v1/users/%5BREDACTED%3AEMAIL%5D?api_key=[REDACTED:SECRET]"),))),
    Case("content-location-header-response", "response",
         Response((b'{"n": 1}',), headers=(*JSON, ("Content-Location", "/v1/search?email=jane%40example.com&q=hello+world"))),
         Crossed(b'{"n": 1}', headers=(("content-location", "/v1/search?email=[REDACTED:EMAIL]&q=hello+world"),))),
    Case("plain-content-location-response", "response",  # near-miss: an id in the path is no personal data
         Response((b'{"n": 1}',), headers=(*JSON, ("Content-Location", "/v1/items/A-17"))),
         Crossed(b'{"n": 1}', headers=(("content-location", "/v1/items/A-17"),))),
    # -- other body types ---------------------------------------------------------------------------
    Case("form-request", "request",
         Request(b"email=jane%40example.com&password=hunter2&q=hello",
                 content_type="application/x-www-form-urlencoded"),
         Crossed(b"email=[REDACTED:EMAIL]&password=[REDACTED:SECRET]&q=hello")),
    Case("text-plain-request", "request", Request(TEXT, content_type="text/plain; charset=utf-8"),
         Crossed(TEXT_REDACTED)),
    Case("text-plain-response", "response",
         Response((TEXT,), headers=(("Content-Type", "text/plain; charset=utf-8"),)), Crossed(TEXT_REDACTED)),
    Case("json-password-as-text-plain-request", "request",
         Request(b'{"password": "hunter2", "n": 1}', content_type="text/plain"),
         Crossed(b'{"password": "[REDACTED:SECRET]", "n": 1}')),  # sniffed as JSON (issue 15)
    Case("json-as-octet-stream-request", "request",
         Request(b'{"email": "jane@example.com"}', content_type="application/octet-stream"),
         Crossed(b'{"email": "[REDACTED:EMAIL]"}')),
    Case("json-as-octet-stream-response", "response",
         Response((b'{"email": "jane@example.com"}',), headers=(("Content-Type", "application/octet-stream"),)),
         Crossed(b'{"email": "[REDACTED:EMAIL]"}')),
    Case("binary-as-octet-stream-response", "response",  # near-miss: binary by its head, passed byte for byte
         Response((b'\x00\x01PK\x03 {"n": 1} \xff\xfe',), headers=(("Content-Type", "application/octet-stream"),)),
         Crossed(b'\x00\x01PK\x03 {"n": 1} \xff\xfe')),
    # Issue 15, a lying binary label: a JSON document labelled image/png crossed every adapter unread.
    Case("json-as-image-png-request", "request", Request(PII_FIELDS, content_type="image/png"),
         Crossed(PII_FIELDS_REDACTED)),
    Case("json-as-image-png-response", "response", Response((PII_FIELDS,), headers=(("Content-Type", "image/png"),)),
         Crossed(PII_FIELDS_REDACTED)),
    Case("padded-json-as-image-png-response", "response",  # a NUL past the 512-byte head: refused, not passed
         Response((b'{"email": "jane@example.com", "pad": "' + b"x" * 600 + b'"}\x00',),
                  headers=(("Content-Type", "image/png"),)),
         Refused(502, b'{"error":"veil_redaction_failed","reason":"invalid_json","direction":"response"}'),
         per_adapter={"httpx": Raised("invalid_json")}),
    # What Python's json.loads(bytes) reads as JSON under a binary or vague label (review of the sniffing).
    Case("bom-json-as-image-png-request", "request",  # a UTF-8 byte order mark: redacted, the mark kept
         Request(b'\xef\xbb\xbf{"email": "jane@example.com"}', content_type="image/png"),
         Crossed(b'\xef\xbb\xbf{"email": "[REDACTED:EMAIL]"}')),
    Case("json-string-as-octet-stream-response", "response",  # a lone JSON string, its '@' escaped
         Response((b'"jane\\u0040example.com"',), headers=(("Content-Type", "application/octet-stream"),)),
         Crossed(b'"[REDACTED:EMAIL]"')),
    Case("utf16-json-as-text-plain-request", "request",  # UTF-16-LE without a mark: json.detect_encoding's NULs
         Request(b'{\x00"\x00e\x00"\x00:\x00"\x00j\x00@\x00e\x00x\x00.\x00i\x00o\x00"\x00}\x00',
                 content_type="text/plain"),
         Crossed(b'{\x00"\x00e\x00"\x00:\x00"\x00[\x00R\x00E\x00D\x00A\x00C\x00T\x00E\x00D\x00:\x00'
                 b'E\x00M\x00A\x00I\x00L\x00]\x00"\x00}\x00')),
    Case("json-then-nul-as-image-png-response", "response",  # a whole document, then a NUL inside the head
         Response((b'{"email": "jane@example.com"}\x00',), headers=(("Content-Type", "image/png"),)),
         Refused(502, b'{"error":"veil_redaction_failed","reason":"invalid_json","direction":"response"}'),
         per_adapter={"httpx": Raised("invalid_json")}),
    Case("json-seq-response", "response",  # RFC 7464: RS opens each record (a control byte: read as binary before)
         Response((b'\x1e{"email": "jane@example.com"}\n', b'\x1e{"n": 2}\n'),
                  headers=(("Content-Type", "application/json-seq"),)),
         Crossed(b'\x1e{"email": "[REDACTED:EMAIL]"}\n\x1e{"n": 2}\n')),
    Case("json-seq-as-octet-stream-request", "request",
         Request(b'\x1e{"email": "jane@example.com"}\n', content_type="application/octet-stream"),
         Crossed(b'\x1e{"email": "[REDACTED:EMAIL]"}\n')),
    # A UTF-8 byte order mark on a body declared JSON (.NET, PowerShell): refused as invalid JSON before.
    Case("bom-json-request", "request", Request(b'\xef\xbb\xbf{"email": "jane@example.com"}'),
         Crossed(b'\xef\xbb\xbf{"email": "[REDACTED:EMAIL]"}')),
    Case("bom-ndjson-response", "response",  # streamed line by line: the mark opens the first line
         Response((b'\xef\xbb\xbf{"email": "jane@example.com"}\n', b'{"n": 2}\n'), headers=NDJSON),
         Crossed(b'\xef\xbb\xbf{"email": "[REDACTED:EMAIL]"}\n{"n": 2}\n')),
    Case("bom-sse-response", "response",  # EventSource skips the mark: the first event's field rules crossed
         Response((b'\xef\xbb\xbfdata: {"password": "hunter2"}\n\n', b'data: {"n": 2}\n\n'), headers=SSE),
         Crossed(b'\xef\xbb\xbfdata: {"password": "[REDACTED:SECRET]"}\n\ndata: {"n": 2}\n\n')),
    # Text in a charset that is not ASCII-compatible: decoded by it, redacted, written back in it (refused before).
    Case("gbk-text-request", "request",  # \xd3\xca\xbc\xfe is GBK's 邮件 (mail)
         Request(b"\xd3\xca\xbc\xfe jane@example.com", content_type="text/plain; charset=GBK"),
         Crossed(b"\xd3\xca\xbc\xfe [REDACTED:EMAIL]")),
    Case("shift-jis-text-response", "response",  # \x95\x5c is Shift_JIS's 表: its trail byte is ASCII '\\'
         Response((b"\x95\x5c jane@example.com",), headers=(("Content-Type", "text/plain; charset=Shift_JIS"),)),
         Crossed(b"\x95\x5c [REDACTED:EMAIL]")),
    Case("unknown-charset-request", "request",  # near-miss: a charset Python does not know is still refused
         Request(b"mail jane@example.com", content_type="text/plain; charset=x-foo"),
         Refused(400, b'{"error":"veil_redaction_failed","reason":"bad_encoding","direction":"request"}'),
         per_adapter={"httpx": Raised("bad_encoding")}),
    Case("playlist-as-audio-response", "response",  # near-miss: '[' opens it, not as JSON: passed byte for byte
         Response((b"[playlist]\nNumberOfEntries=1\nFile1=http://example.com/a.mp3\n",),
                  headers=(("Content-Type", "audio/x-scpls"),)),
         Crossed(b"[playlist]\nNumberOfEntries=1\nFile1=http://example.com/a.mp3\n")),
    # A binary label with a coding veil cannot decode passes as it came (a vague type is refused).
    Case("png-unknown-coding-request", "request",
         Request(b'\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR', content_type="image/png",
                 headers=(("Content-Encoding", "aes128gcm"),)),
         Crossed(b'\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR')),
    Case("png-unknown-coding-response", "response",
         Response((b'\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR',),
                  headers=(("Content-Type", "image/png"), ("Content-Encoding", "x-custom"))),
         Crossed(b'\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR')),
    Case("png-as-image-png-response", "response",  # near-miss: binary by its head, passed byte for byte
         Response((b'\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR{"n": 1}',),
                  headers=(("Content-Type", "image/png"),)),
         Crossed(b'\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR{"n": 1}')),
    Case("multipart-text-part-request", "request",
         Request(b'--XyZ\r\nContent-Disposition: form-data; name="note"\r\n\r\nmail jane@example.com\r\n--XyZ--\r\n',
                 content_type="multipart/form-data; boundary=XyZ"),
         Crossed(b'--XyZ\r\nContent-Disposition: form-data; name="note"\r\n\r\nmail [REDACTED:EMAIL]\r\n--XyZ--\r\n')),
    # -- streams ------------------------------------------------------------------------------------
    Case("ndjson-request", "request", Request(b"".join(NDJSON_LINES), content_type="application/x-ndjson"),
         Crossed(NDJSON_REDACTED)),
    Case("ndjson-response", "response", Response(NDJSON_LINES, headers=NDJSON), Crossed(NDJSON_REDACTED)),
    Case("ndjson-split-value-response", "response",
         Response((b'{"email": "jane@exa', b'mple.com"}\n{"n": 2}\n'), headers=NDJSON),
         Crossed(b'{"email": "[REDACTED:EMAIL]"}\n{"n": 2}\n')),
    # An LLM-style reply: the e-mail starts in one text delta and ends in the next. The stream redactor
    # rewrites the deltas it changes (compact JSON) and holds the value back to the delta that completes it.
    Case("sse-split-delta-response", "response",
         Response((b'data: {"choices": [{"index": 0, "delta": {"content": "write to ja"}}]}\n\n',
                   b'data: {"choices": [{"index": 0, "delta": {"content": "ne@example.com today"}}]}\n\n',
                   b"data: [DONE]\n\n"), headers=SSE),
         Crossed(b'data: {"choices":[{"index":0,"delta":{"content":"write to [REDACTED:EMAIL]"}}]}\n\n'
                 b'data: {"choices":[{"index":0,"delta":{"content":" today"}}]}\n\n'
                 b"data: [DONE]\n\n")),  # httpx read the reply whole and leaked 'ja' before issue 15
    # Issue 15, SSE fields other than data: id: and comments passed unscanned (ASGI, WSGI, Django, proxy).
    Case("sse-id-and-comment-response", "response",
         Response((b'id: jane@example.com\nevent: update\ndata: {"n": 1}\n\n',
                   b': comment for jane@example.com\ndata: {"n": 2}\n\n'), headers=SSE),
         Crossed(b'id: [REDACTED:EMAIL]\nevent: update\ndata: {"n": 1}\n\n'
                 b': comment for [REDACTED:EMAIL]\ndata: {"n": 2}\n\n')),
    Case("sse-multiline-data-response", "response",
         Response((b'data: {"password":\ndata: "hunter2", "n": 1}\n\n',), headers=SSE),
         Crossed(b'data: {"password":\ndata: "[REDACTED:SECRET]", "n": 1}\n\n')),
    # -- fail closed --------------------------------------------------------------------------------
    Case("invalid-json-request", "request", Request(b'{"email": "jane@example.com"'),
         Refused(400, b'{"error":"veil_redaction_failed","reason":"invalid_json","direction":"request"}'),
         per_adapter={"httpx": Raised("invalid_json")}),
    Case("invalid-json-response", "response", Response((b'{"email": "jane@example.com", ',)),
         Refused(502, b'{"error":"veil_redaction_failed","reason":"invalid_json","direction":"response"}'),
         per_adapter={"httpx": Raised("invalid_json")}),
    Case("at-limit-request", "request", Request(AT_LIMIT), Crossed(AT_LIMIT)),
    Case("oversize-request", "request", Request(OVER_LIMIT),
         Refused(413, b'{"error":"veil_redaction_failed","reason":"body_too_large","direction":"request"}'),
         per_adapter={"httpx": Raised("body_too_large")}),
    Case("oversize-response", "response", Response((OVER_LIMIT,)),
         Refused(502, b'{"error":"veil_redaction_failed","reason":"body_too_large","direction":"response"}'),
         per_adapter={"httpx": Raised("body_too_large")}),
    # -- content codings and repeated headers (issue 16: zstd, SSE line endings, header_value) ---------------
    # Expected bodies are as the client decodes them (httpx decodes zstd and lists of codings).
    Case("zstd-json-response", "response",
         Response((zstandard.ZstdCompressor().compress(b'{"email": "jane@example.com"}'),),
                  headers=(*JSON, ("Content-Encoding", "zstd"))),
         Crossed(b'{"email": "[REDACTED:EMAIL]"}')),
    Case("zstd-sse-response", "response", Response(ZSTD_SSE_CHUNKS, headers=(*SSE, ("Content-Encoding", "zstd"))),
         Crossed(b"data: mail [REDACTED:EMAIL]\n\ndata: [DONE]\n\n")),
    # Two Content-Encoding lines are one list, applied in order: deflate, then gzip (only "deflate" was read,
    # and the gzip body refused as bad deflate). Django keeps one value a name.
    Case("deflate-then-gzip-lines-response", "response",
         Response((gzip.compress(zlib.compress(b'{"email": "jane@example.com"}'), mtime=0),),
                  headers=(*JSON, ("Content-Encoding", "deflate"), ("Content-Encoding", "gzip"))),
         Crossed(b'{"email": "[REDACTED:EMAIL]"}'), adapters=("asgi", "wsgi", "proxy", "httpx", "envoy")),
    # Only the first line ("identity") was read: the gzip body was taken as plain text and crossed unread.
    Case("identity-then-gzip-lines-response", "response",
         Response((gzip.compress(TEXT, mtime=0),),
                  headers=(("Content-Type", "text/plain; charset=utf-8"), ("Content-Encoding", "identity"),
                           ("Content-Encoding", "gzip"))),
         Crossed(TEXT_REDACTED), adapters=("asgi", "wsgi", "proxy", "httpx", "envoy")),
    # Two Content-Types that disagree: the client may act on either, so the body is sniffed, never passed
    # unread because one label says binary.
    Case("conflicting-content-types-response", "response",
         Response((PII_FIELDS,), headers=(("Content-Type", "image/png"), ("Content-Type", "application/json"))),
         Crossed(PII_FIELDS_REDACTED), adapters=("asgi", "wsgi", "proxy", "httpx", "envoy")),
    # The same on a request, where uvicorn hands ASGI apps both lines (gunicorn answers 400 itself: no WSGI row).
    Case("conflicting-content-types-request", "request",
         Request(PII_FIELDS, content_type="image/png", headers=(("Content-Type", "application/json"),)),
         Crossed(PII_FIELDS_REDACTED), adapters=("asgi", "proxy", "httpx", "envoy")),
    # SSE lines end in CRLF, LF or a lone CR; a CR at the end of one chunk and the LF at the start of the next
    # are one line end (a blank line here, so the event ends once). Lines were cut at LF only: a CR-only stream
    # was one growing line, refused past max_body_bytes (4096), and no event went out before an LF came.
    Case("sse-cr-line-endings-response", "response",
         Response((b'id: jane@example.com\rdata: {"password":\r', b'data: "hunter2", "n": 1}\r\r', CR_COMMENTS,
                   b"data: mail jane@example.com\r", b"\n\r", b"\n: end\r\n\r\n"), headers=SSE),
         Crossed(b'id: [REDACTED:EMAIL]\rdata: {"password":\rdata: "[REDACTED:SECRET]", "n": 1}\r\r' + CR_COMMENTS
                 + b"data: mail [REDACTED:EMAIL]\r\n\r\n: end\r\n\r\n")),
    # Review of issue #15 (F3): a JSON document under a text label other than UTF-8 text/plain was scanned as
    # text, so its field-name rules were lost ($.password crossed); a Latin-1 byte outside them is kept.
    Case("json-under-latin1-html-response", "response",
         Response((b'{"password": "hunter2", "city": "S\xe3o Paulo"}',),
                  headers=(("Content-Type", "text/html; charset=iso-8859-1"),)),
         Crossed(b'{"password": "[REDACTED:SECRET]", "city": "S\xe3o Paulo"}')),
    Case("json-under-xml-request", "request", Request(FIELD_NAMES, content_type="application/xml"),
         Crossed(FIELD_NAMES_REDACTED)),
    Case("json-in-html-text-request", "request",  # near-miss: not a whole document, so text, scanned as text
         Request(b'<p>{"password": "x1"}</p> jane@example.com', content_type="text/html"),
         Crossed(b'<p>{"password": "x1"}</p> [REDACTED:EMAIL]')),
    # (F4) a part named password typed other than text/plain went to its type's reader, never its name's rules.
    Case("multipart-typed-named-parts-request", "request",
         Request(b'--XyZ\r\nContent-Disposition: form-data; name="password"\r\nContent-Type: application/octet-stream'
                 b'\r\n\r\nhunter2\r\n--XyZ\r\nContent-Disposition: form-data; name="password"\r\n'
                 b'Content-Type: application/json\r\n\r\n{"old": "s3cr3t"}\r\n--XyZ--\r\n',
                 content_type="multipart/form-data; boundary=XyZ"),
         Crossed(b'--XyZ\r\nContent-Disposition: form-data; name="password"\r\nContent-Type: application/octet-stream'
                 b'\r\n\r\n[REDACTED:SECRET]\r\n--XyZ\r\nContent-Disposition: form-data; name="password"\r\n'
                 b'Content-Type: application/json\r\n\r\n{"old": "[REDACTED:SECRET]"}\r\n--XyZ--\r\n')),
    # (F5) the preamble and epilogue were kept byte for byte; byteranges were binary; x-mixed-replace never ends.
    Case("multipart-preamble-request", "request",
         Request(b'mail jane@example.com\r\n--XyZ\r\nContent-Disposition: form-data; name="a"\r\n\r\nx\r\n--XyZ--\r\n'
                 b'call +1 415 555 0100', content_type="multipart/form-data; boundary=XyZ"),
         Crossed(b'mail [REDACTED:EMAIL]\r\n--XyZ\r\nContent-Disposition: form-data; name="a"\r\n\r\nx\r\n--XyZ--\r\n'
                 b'call [REDACTED:PHONE]')),
    Case("byteranges-response", "response",
         Response((b"--XyZ\r\nContent-Type: text/plain\r\nContent-Range: bytes 0-20/90\r\n\r\nmail jane@example.com"
                   b"\r\n--XyZ--\r\n",), headers=(("Content-Type", "multipart/byteranges; boundary=XyZ"),), status=206),
         Crossed(b"--XyZ\r\nContent-Type: text/plain\r\nContent-Range: bytes 0-20/90\r\n\r\nmail [REDACTED:EMAIL]"
                 b"\r\n--XyZ--\r\n", status=206)),
    Case("x-mixed-replace-response", "response",
         Response((b"--XyZ\r\nContent-Type: text/plain\r\n\r\nmail jane@example.com\r\n--XyZ--\r\n",),
                  headers=(("Content-Type", "multipart/x-mixed-replace; boundary=XyZ"),)),
         Refused(502, b'{"error":"veil_redaction_failed","reason":"unsupported_multipart","direction":"response"}'),
         per_adapter={"httpx": Raised("unsupported_multipart")}),
]

RESPONSES = {case.id: case.sent for case in CASES if isinstance(case.sent, Response)}
"""What the case apps answer to ``GET /respond/<case id>``."""
