"""The compiled Plan: the one object every adapter hands payloads to.

A Plan is immutable and safe to share between threads and tasks; it does no
I/O. To change policy, compile a new Plan and swap the reference.

    >>> from veil import compile_policy, Route
    >>> plan = compile_policy(open("policy.yaml").read(), source="policy.yaml")  # doctest: +SKIP
    >>> result = plan.redact_body(body, "application/json", Route("response"))  # doctest: +SKIP
    >>> result.output, result.report.findings                                   # doctest: +SKIP
"""

from __future__ import annotations

import json
import threading
from codecs import BOM_UTF8
from dataclasses import dataclass
from typing import Any, Iterable
from urllib.parse import unquote_plus

import orjson

from veil.errors import RedactionError, charset_named
from veil.rules import charsets
from veil.rules.actions.keys import Keyring
from veil.rules.classify import Classifier
from veil.rules.compiled import AllowConfig, CompiledRule
from veil.rules.detectors.matching import CompiledDetector
from veil.rules.detectors.verdicts import digest, store
from veil.rules.json_splice import splice_json
from veil.rules.json_walk import redact_document
from veil.rules.lineage import Lineage
from veil.rules.media import (
    ENDLESS_MULTIPART,
    SNIFFED_MEDIA,
    body_kind,
    is_vague,
    media_type,
    opens_as_json,
    sniff_body,
    sniff_document,
    sniff_labelled,
    unicode_form,
)
from veil.rules.multipart import redact_multipart
from veil.rules.plan_types import EMPTY_REPORT, Finding, Report, Result, Route
from veil.rules.protected import Protected
from veil.rules.protocol_headers import (
    TOKEN_LISTS,
    UNSCANNED,
    redact_content_type,
    well_known,
)
from veil.rules.raw_json import scan_json_body
from veil.rules.restore import Restorer
from veil.rules.schema import Limits
from veil.rules.text_ops import (
    apply_name_target,
    redact_cookie_header,
    redact_pairs,
    redact_set_cookie,
    scan_strings,
)
from veil.rules.urls import URL_HEADERS, redact_url_header, redact_url_path
from veil.rules.view import View

PROTOCOL_HEADERS = UNSCANNED
"""Headers detectors never rewrite (a named header target still can): redacting an IP address
in ``Host`` would break routing. ``Content-Type`` is scanned by its parts and the token lists
(``Connection``, ``Content-Encoding``...) as any value: :mod:`veil.rules.protocol_headers`."""


@dataclass(frozen=True, slots=True)
class TextResult:
    text: str
    report: Report


_NO_ROUTE = Route()  # immutable: one for every call without a route


class Plan:
    """A compiled policy. Build one with :func:`veil.compile_policy`."""

    does_io = False
    """Whether redacting may wait on I/O (a vault): async adapters then run the plan's work in a worker thread."""

    def __init__(
        self,
        *,
        rules: tuple[CompiledRule, ...],
        catalog: dict[str, CompiledDetector],
        classifier: Classifier,
        global_allow: AllowConfig,
        protected: tuple[Protected, ...],
        limits: Limits,
        on_error: str,
        source: str,
        keyrings: tuple[Keyring, ...] = (),
        lineage: Lineage | None = None,
    ) -> None:
        self.rules = rules
        self.lineage = lineage if lineage is not None else Lineage("", None, source)
        """Digest, revision, source and compile time of the policy (``veil.rules.lineage``)."""
        self.catalog = catalog
        self.classifier = classifier
        self.limits = limits
        self.on_error = on_error
        self.source = source
        self._keyrings = keyrings
        self._global_allow = global_allow
        self._protected = protected
        self._views: dict[tuple[int, ...], View] = {}
        self._routes: dict[bytes, View] = {}
        self._lock = threading.Lock()

    def __repr__(self) -> str:
        return f"<Plan {self.source}: {len(self.rules)} rules, {len(self.catalog)} detectors>"

    @property
    def digest(self) -> str:
        """``sha256:<16 hex>`` of the policy source: what the ``veil-policy`` header and finding records carry."""
        return self.lineage.digest

    @property
    def revision(self) -> str | None:
        """The policy's top-level ``revision:``, None when it has none."""
        return self.lineage.revision

    # -- route dispatch -------------------------------------------------------

    def view(self, route: Route | None = None, media: str | None = None, also: str = "") -> View:
        """The merged rules for ``route``; cached per (direction, method, host, path, type). ``also``: a
        second media type whose rules apply too (an event stream's, for the JSON or text of its lines)."""
        route = route or _NO_ROUTE
        mtype = media if media is not None else media_type(route.content_type)[0]
        # A path or a host carries payload as often as not (``/users/jane@example.com``), and the memo
        # outlives the request: it is keyed by their digest.
        fields = (route.direction, route.method.upper(), route.host.lower(), route.path, mtype, also)
        key = digest("".join(f"{len(f)}:{f}" for f in fields).encode("utf-8", "surrogatepass"))  # length-prefixed: no two alike
        view = self._routes.get(key)
        if view is not None:
            return view
        active = tuple(i for i, r in enumerate(self.rules)
                       if r.match.applies(route, mtype) or (also and r.match.applies(route, also)))
        with self._lock:
            view = self._views.get(active)
            if view is None:
                view = View(
                    tuple(self.rules[i] for i in active),
                    catalog=self.catalog,
                    classifier=self.classifier,
                    global_allow=self._global_allow,
                    protected=self._protected,
                    limits=self.limits,
                )
                self._views[active] = view
            if len(self._routes) >= 4096:  # paths carry ids: keep the memo bounded
                self._routes.clear()
            self._routes[key] = view
        return view

    # -- bodies ----------------------------------------------------------------

    def redact_body(self, body: bytes, content_type: str = "", route: Route | None = None, *,
                    rules_for: str = "", rules_also: str = "") -> Result:
        """Redact an HTTP body of the given Content-Type.

        JSON (and ``+json``), NDJSON, urlencoded forms, text and the text parts of
        ``multipart/form-data`` (:mod:`veil.rules.multipart`) are rewritten; other
        types pass through untouched (``kind == "binary"``). A body whose type says
        nothing (none, ``application/octet-stream``) or may be wrong (UTF-8
        ``text/plain``) is sniffed (:func:`veil.rules.media.sniff_body`) and redacted
        as what it is, its rules matched with that type; a body labelled binary
        (``image/png``...) is redacted only if it is a JSON, NDJSON or form document
        (:func:`veil.rules.media.sniff_labelled`); so is one under any other text label
        (``text/html``, XML, text in Latin-1...) that is, whole, such a document, in its charset
        (``_redact_text_document``). ``multipart/x-mixed-replace``, an endless stream, is refused
        (``unsupported_multipart``). Raises
        :class:`RedactionError` for invalid JSON, bad encoding, an unreadable
        multipart body and limits; nothing partial is ever returned.

        ``rules_for``: the media type the rules are matched with, when it is not the one the body
        is read as (a line of an NDJSON stream is read as JSON under the stream's type's rules);
        ``rules_also``: a media type whose rules apply as well (an event stream's, to a data line
        read as JSON or text).
        """
        if len(body) > self.limits.max_body_bytes:
            raise RedactionError("body_too_large", f"body of {len(body)} bytes is over the limit of {self.limits.max_body_bytes}")
        declared = content_type or (route.content_type if route else "")
        mtype, charset = media_type(declared)
        kind = declared_kind = body_kind(mtype)
        if not body:
            # A GET or 204 labelled JSON carries nothing: not an error, nothing to redact.
            return Result(body, EMPTY_REPORT, kind)
        sniffs = is_vague(mtype) or (mtype == "text/plain" and charset in ("utf-8", "us-ascii")) or kind == "binary"
        # Declared JSON too: .NET, PowerShell and Windows tools write a UTF-8 BOM, which Python's and
        # Newtonsoft's readers skip; the sniffed bodies' path reads it, and writes the mark back.
        declared_json = kind in ("json", "ndjson")
        if (sniffs or declared_json) and (wide := self._redact_unicode(body, content_type, route, declared_json)) is not None:
            return wide  # a BOM, or UTF-16/32 JSON readers detect: redacted as its text
        if is_vague(mtype) or (mtype == "text/plain" and charset in ("utf-8", "us-ascii")):
            sniffed = sniff_body(body)
            if sniffed != "binary" or kind != "text":  # declared text stays text (or bad_encoding)
                kind, mtype = sniffed, SNIFFED_MEDIA.get(sniffed, mtype)
        elif kind == "binary" and (sniffed := sniff_labelled(body)) != "binary":
            if sniffed == "broken_json":
                raise RedactionError("invalid_json", "a body labelled binary opens like a JSON document but is none "
                                                     "(invalid, or control bytes past its head)")
            kind, mtype = sniffed, SNIFFED_MEDIA[sniffed]  # a document labelled binary (image/png...)
        elif kind == "text" and mtype != "text/event-stream":
            document = self._redact_text_document(body, mtype, charset, route)
            if document is not None:
                return document  # a JSON, NDJSON or form document labelled text/html, XML, text in Latin-1...
        if mtype in ENDLESS_MULTIPART:
            raise RedactionError("unsupported_multipart", f"{mtype} is an endless stream of parts, and veil reads a "
                                                          "multipart body whole: refused rather than passed unread")
        view = self.view(route, rules_for or mtype, rules_also)
        if kind == "multipart":
            out, report = redact_multipart(
                body, declared, view, lambda part, ctype: self.redact_body(part, ctype, route))
        elif kind == "json":
            # UTF-8 whatever the charset says: RFC 8259 (8.1, 11) defines no charset for JSON and
            # readers (orjson, json.loads, Jackson's detection) ignore one. A body in another charset
            # is no UTF-8, and is refused as invalid JSON rather than read as what no reader reads.
            out, report = _redact_json_bytes(view, body)
        elif kind == "ndjson":
            out, report = _redact_ndjson(view, body)
        elif kind == "form":
            text = _decode(body, "utf-8")  # percent-encoded: the charset is that of the decoded bytes
            if declared_kind != "form":
                charset = "utf-8"  # a sniffed form: a vague label's charset says nothing of it
            findings: list[Finding] = []
            try:
                new = redact_pairs(view, text, view.form, "form", findings, plus=True,
                                   encoding=charsets.known(charset, "form"))
            except UnicodeEncodeError:  # a value that did not decode, rewritten: no form in its charset
                raise RedactionError("bad_encoding", f"a redacted form value has no form in {charset_named(charset)}") from None
            if not charsets.is_fast(charset) and _redact_text(view, unquote_plus(new)).report.changed:
                raise _reads_otherwise("form", charset)  # its values read as UTF-8, as most frameworks do
            out, report = (new.encode("utf-8") if new != text else body), Report(tuple(findings), new != text)
        elif kind == "text" and mtype == "text/event-stream":
            # A whole event stream (a buffered reply): its events read as a streamed one's are.
            from veil.rules.stream_redact import (
                StreamRedactor,  # it imports this module
            )

            redactor = StreamRedactor(self, route or _NO_ROUTE, "sse")
            out = redactor.feed(body) + redactor.close()
            report = redactor.report()
        elif kind == "text" and charsets.is_fast(charset):
            text = _decode(body, charset)
            result = _redact_text(view, text)
            out = result.text.encode(charset) if result.report.changed else body
            report = result.report
        elif kind == "text":  # Shift_JIS, GBK, UTF-16...: decoded, and its bytes read as ASCII checked
            mark, text = charsets.decode(body, charset)
            result = _redact_text(view, text)
            out = _written_back(view, body, mark, result.text, charset, result.report.changed)
            report = result.report
        else:
            return Result(body, EMPTY_REPORT, "binary")
        return Result(out, report, kind)

    def _redact_text_document(self, body: bytes, mtype: str, charset: str, route: Route | None) -> Result | None:
        """A body labelled text (``text/html``, ``application/xml``, ``text/plain`` in Latin-1...) that is,
        whole, a JSON, NDJSON or form document (:func:`veil.rules.media.sniff_document`, the sniffer
        bodies labelled binary go through), redacted as that document and written back in its charset:
        its field-name rules apply, as they would under its own type. None when it is no such document
        (then it is text, scanned as text). A UTF-8 byte order mark is kept apart and written back;
        text in a charset that is not ASCII-compatible is checked as that charset's text is
        (:mod:`veil.rules.charsets`)."""
        if charset in ("utf-8", "us-ascii"):
            mark = BOM_UTF8 if body.startswith(BOM_UTF8) else b""
            utf8 = body[len(mark):]
        else:
            mark, text = charsets.decode(body, charset)  # bad_encoding as the text path would raise it
            try:
                utf8 = text.encode("utf-8")
            except UnicodeEncodeError:  # a lone surrogate: no JSON reader's text
                return None
        kind = sniff_document(utf8)
        if kind is None:
            return None
        result = self.redact_body(utf8, SNIFFED_MEDIA[kind], route)
        if charset in ("utf-8", "us-ascii"):
            out = mark + result.output if result.report.changed else body
        else:
            out = _written_back(self.view(route, mtype), body, mark, result.output.decode("utf-8"), charset,
                                result.report.changed)
        return Result(out, result.report, result.kind)

    def _redact_unicode(self, body: bytes, content_type: str, route: Route | None, declared_json: bool = False) -> Result | None:
        """A sniffed body (or one declared JSON) in another Unicode form than plain UTF-8
        (:func:`veil.rules.media.unicode_form`: a byte order mark, or UTF-16/32 a JSON reader detects
        from its NULs) redacted as its UTF-8 text and written back in its form, mark included; None
        when it has none or does not decode (then read as bytes). A decoded text in yet another form
        is no text veil reads: binary when sniffed, refused as invalid JSON when declared JSON."""
        form = unicode_form(body)
        if form is None:
            return None
        mark, codec = form
        try:
            text = body[len(mark):].decode(codec)
        except UnicodeDecodeError:
            return None
        if not (mark or opens_as_json(text)):
            return None  # NULs, then no JSON: binary opening with a NUL, sniffed as bytes
        utf8 = text.encode("utf-8")
        if unicode_form(utf8) is not None:
            if declared_json:  # json.loads refuses a second mark too; read on, a body of marks would recurse deep
                raise RedactionError("invalid_json", "body is not valid JSON (a byte order mark after the first)")
            return Result(body, EMPTY_REPORT, "binary")
        result = self.redact_body(utf8, content_type, route)
        if result.kind == "binary" or not result.report.changed:
            return Result(body, result.report, result.kind)
        return Result(mark + result.output.decode("utf-8").encode(codec), result.report, result.kind)

    def redact_json(self, value: Any, route: Route | None = None) -> tuple[Any, Report]:
        """Redact a JSON-like Python value (dicts, lists, strings, numbers). Returns a new value."""
        view = self.view(route, "application/json")
        doc = orjson.loads(orjson.dumps(value, option=orjson.OPT_NON_STR_KEYS, default=str))
        new, findings, changed = redact_document(view, doc)
        return new, Report(tuple(findings), changed)

    def redact_text(self, text: str, route: Route | None = None) -> TextResult:
        """Run the detectors over free text (log lines, prompts, messages)."""
        return _redact_text(self.view(route, "text/plain"), text)

    # -- headers, query, cookies ------------------------------------------------

    def redact_headers(
        self, headers: Iterable[tuple[str, str]], route: Route | None = None
    ) -> tuple[list[tuple[str, str]], Report]:
        """Rewrite header values; drop removed headers. Order and duplicates are kept."""
        view = self.view(route)
        headers = list(headers)
        # The result depends only on the view and the list, and clients send the same
        # list again and again: a list that came out unchanged and without findings is
        # remembered whole, under a keyed digest.
        try:
            whole = digest(orjson.dumps(headers))  # JSON: no two lists encode alike
        except TypeError:  # a lone surrogate: not remembered
            whole = b""
        if whole in view.clean_header_lists:
            return headers, EMPTY_REPORT
        clean = view.clean_headers
        findings: list[Finding] = []
        out: list[tuple[str, str]] = []
        pending: list[int] = []
        digests: list[bytes] = []
        scan = bool(view.everywhere)
        for name, value in headers:
            lname = name.lower()
            handled, new = apply_name_target(view.headers, name, value, "header", findings, view)
            if not handled and (lname in PROTOCOL_HEADERS or (lname in TOKEN_LISTS and well_known(value))):
                out.append((name, value))  # routing and framing, or "gzip", "chunked"...: never scanned
                continue
            if not handled and lname in ("content-type", "content-disposition"):
                # parameters read as receivers read them (RFC 2231 pieces joined, RFC 8187 decoded)
                new, handled = redact_content_type(view, name, value, findings), True
            elif not handled and lname == "cookie":
                new, handled = redact_cookie_header(view, value, findings), True
            elif not handled and lname == "set-cookie":
                new, handled = redact_set_cookie(view, value, findings), True
            elif not handled and (lname in URL_HEADERS or lname == "refresh" or lname == "link"):
                # URLs: path segments and query values as a request's, the rest as header text (``urls``)
                new, handled = redact_url_header(view, name, value, findings), True
            if new is None:
                continue
            if not handled and scan:
                # Most headers repeat on every message (user-agent, accept, server): a value
                # the detectors found nothing in, under this name, is not scanned again.
                key = digest(f"{len(name)}:{name}{new}".encode("utf-8", "surrogatepass"))
                if key not in clean:
                    pending.append(len(out))
                    digests.append(key)
            out.append((name, new))
        if pending:
            found_in: set[int] = set()
            scanned = scan_strings(view, [out[i][1] for i in pending], [out[i][0] for i in pending],
                                   "header", [out[i][0] for i in pending], findings, found_in)
            drop: set[int] = set()
            for n, (i, new) in enumerate(zip(pending, scanned)):
                if n not in found_in:
                    store(clean, digests[n], True)
                if new is None:
                    drop.add(i)
                else:
                    out[i] = (out[i][0], new)
            out = [h for i, h in enumerate(out) if i not in drop]
        if scan:
            out = _without_named_findings(view, out, findings)
        if whole and not findings and out == headers:
            store(view.clean_header_lists, whole, True)
        return out, Report(tuple(findings), any(f.mode == "enforce" for f in findings))

    def redact_path(self, path: str, route: Route | None = None) -> tuple[str, Report]:
        """Rewrite a raw URL path (``/users/jane%40example.com/orders``): each segment, percent-decoded,
        is scanned by the detectors query values are scanned by, with the segment before it as
        its field; a rewritten segment is percent-encoded again, every other byte is kept.

        A query or fragment after the path is redacted as :meth:`redact_query` redacts one.
        Rules are chosen by ``route`` (whose own ``path`` should stay the original, for matching).
        Findings are located ``path`` and named by the path before them (``/users/<segment>``).
        """
        view = self.view(route)
        # A service's paths repeat (its routes); one that came out unchanged and without findings
        # is remembered under a keyed digest, never as text, as header lists are.
        try:
            key = digest(path.encode("utf-8"))
        except UnicodeEncodeError:  # a lone surrogate: not remembered
            key = b""
        if key in view.clean_paths:
            return path, EMPTY_REPORT
        findings: list[Finding] = []
        new = redact_url_path(view, path, findings)
        if key and not findings and new == path:
            store(view.clean_paths, key, True)
        return new, Report(tuple(findings), new != path)

    def redact_query(self, query: str, route: Route | None = None) -> tuple[str, Report]:
        """Rewrite a raw query string (without ``?``); unchanged parameters keep their bytes."""
        view = self.view(route)
        findings: list[Finding] = []
        new = redact_pairs(view, query, view.query, "query", findings, plus=True)
        return new, Report(tuple(findings), new != query)

    # -- introspection -------------------------------------------------------------

    def keyrings(self) -> tuple[Keyring, ...]:
        """Keyrings of the plan's tokenize actions, for detokenizing (``veil detokenize``)."""
        return self._keyrings

    def detokenize(self, text: str, scopes: Iterable[str] = ("",), *, json_escape: bool = False) -> tuple[str, int]:
        """Replace the plan's tokens in ``text`` with the original values; return (text, count).

        Every tokenize key of the policy is tried (rotated-out ``previous`` keys
        too). Tokens no key opens are left as they are. With ``json_escape`` the
        restored values are escaped for the inside of a JSON string.

        >>> restored, count = plan.detokenize(vendor_reply)  # doctest: +SKIP
        """
        scopes = tuple(scopes)
        return Restorer(tuple((ring, scopes) for ring in self._keyrings)).restore_text(text, json_escape=json_escape)

    def restorer(self, route: Route) -> Restorer | None:
        """What may be restored in the reply to a request on ``route``: the keys and scopes
        of the ``tokenize`` actions with ``restore: true`` in the rules that apply to it.

        None when no such rule applies (the common case: nothing to restore).
        """
        return self.view(route).restorer  # the view holds the rules that apply, computed once

    def summary(self) -> dict[str, Any]:
        """What the plan does, without any key material: for ``veil check`` and logs."""
        rules = []
        for r in self.rules:
            targets = []
            for kind in ("headers", "query", "cookies", "form"):
                t = getattr(r, kind)
                if t:
                    targets.append(f"{kind}:{len(t.exact) + len(t.globs)}")
            if r.fields:
                targets.append(f"fields:{len(r.fields)}")
            if r.classify:
                targets.append("classify")
            if r.scan:
                targets.append(f"scan:{len(r.scan.detectors)} detectors")
            rules.append({"id": r.id, "mode": r.mode, "direction": r.match.direction, "targets": targets})
        return {
            "source": self.source,
            "digest": self.digest,
            "revision": self.revision,
            "rules": rules,
            "detectors": list(self.catalog),
            "limits": self.limits.model_dump(),
            "on_error": self.on_error,
        }



def _without_named_findings(view: View, headers: list[tuple[str, str]], findings: list[Finding]) -> list[tuple[str, str]]:
    """``headers`` without those whose NAME holds a finding (``X-User-jane@example.com``): a name
    cannot hold a placeholder (``[`` and ``:`` are not allowed in one), so an enforced finding
    drops the header. Findings name it ``<name>``: the name is payload.

    Every name is scanned: one shaped like a protocol's (letters, digits, ``-``) can still be an
    SSN or a card number (``X-4111-1111-1111-1111``). A service sends the same names message after
    message, with fresh values (``x-request-id``, ``traceparent``): a list of names the detectors
    found nothing in is remembered under a keyed digest, never as text, and not scanned again.
    """
    names = [name for name, _ in headers]
    try:
        key = digest(orjson.dumps(names))
    except TypeError:  # a lone surrogate: not remembered
        key = b""
    if key and key in view.clean_header_names:
        return headers
    scope = view.scope(view.everywhere)
    drop: set[int] = set()
    hits = scope.detectors.scan(names, remember=False)
    for hit in hits:
        binding = scope.bindings[hit.detector]
        name = scope.detectors.names[hit.detector]
        findings.append(Finding(name, binding.rule, binding.action_name, "header", "<name>", binding.mode, hit.start, hit.end))
        if binding.enforced:
            drop.add(hit.which)
    if not hits and key:
        store(view.clean_header_names, key, True)
    return [h for i, h in enumerate(headers) if i not in drop]


def _decode(body: bytes, charset: str) -> str:
    """``body`` in UTF-8 or a charset :func:`veil.rules.charsets.is_fast` (so one Python knows)."""
    try:
        return body.decode(charset)
    except UnicodeDecodeError as exc:
        raise RedactionError("bad_encoding", f"body is not valid {charset_named(charset)} at byte {exc.start}") from None


def _written_back(view: View, body: bytes, mark: bytes, text: str, charset: str, changed: bool) -> bytes:
    """``text`` written back in ``charset`` after ``mark`` (``body`` itself when nothing changed); refused
    when those bytes, read byte by byte as ASCII by a receiver ignoring the charset, hold what the plan
    redacts (a charset that is not ASCII-compatible: :mod:`veil.rules.charsets`)."""
    out = charsets.encode(mark, text, charset) if changed else body
    if not charsets.is_fast(charset) and _redact_text(view, charsets.as_bytes_read(out)).report.changed:
        raise _reads_otherwise("body", charset)
    return out


def _reads_otherwise(what: str, charset: str) -> RedactionError:
    """A body in a charset that is not ASCII-compatible whose bytes, read as a receiver ignoring the
    charset reads them, hold what the plan redacts (:mod:`veil.rules.charsets`)."""
    return RedactionError("bad_encoding", f"{what} in {charset_named(charset)} holds, read byte by byte as ASCII, "
                                          "text veil redacts: a receiver ignoring the charset would read it")


def _parse_json(body: bytes | str) -> Any:
    try:
        return orjson.loads(body)
    except orjson.JSONDecodeError as exc:
        text = str(exc)
        if "recursion" in text.lower() or "depth limit" in text.lower():
            raise RedactionError("too_deep", "JSON nesting deeper than the parser's limit of 1024") from None
        if "64-bit" in text or "integer" in text.lower():
            # orjson refuses integers beyond 64 bits; the stdlib parser does not.
            try:
                return json.loads(body, parse_constant=_reject_constant)
            except (ValueError, RecursionError):
                pass
        raise RedactionError("invalid_json", f"body is not valid JSON ({_position_only(text)})") from None


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


def _position_only(message: str) -> str:
    """orjson messages name a line and column; keep those, drop any quoted input."""
    head, _, tail = message.partition(": line ")
    reason = head.split(":")[0]
    line, _, rest = tail.partition(" column ")
    column = rest.split(" ")[0]
    if not line.isdigit() or not column.isdigit():
        return reason
    if line == "1":  # single-line bodies (and NDJSON lines): the line number only confuses
        return f"{reason} at column {column}"
    return f"{reason} at line {line}, column {column}"


def _dumps(doc: Any) -> bytes:
    try:
        return orjson.dumps(doc)
    except TypeError:  # integers beyond 64 bits, parsed by the stdlib fallback; nesting past orjson's limit
        try:
            return json.dumps(doc, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
        except RecursionError:  # a max_depth raised past what the stdlib encoder can nest
            raise RedactionError("too_deep", "JSON nesting too deep to write back; lower limits.max_depth") from None


def _redact_json_bytes(view: View, body: bytes) -> tuple[bytes, Report]:
    if view.splice_ready:
        spliced = splice_json(view, body)
        if spliced is not None:
            return spliced[0], spliced[1]
        doc = _parse_json(body)  # the error with its position, integers beyond 64 bits, and the walk
    else:
        prefilter = view.prefilter
        if prefilter is not None and prefilter.search(body) is None:
            _parse_json(body)  # still refuse invalid JSON
            return body, EMPTY_REPORT
        doc = _parse_json(body)
    raw = None
    if view.raw_scannable and b"\\" not in body:
        scope = view.raw_scope(body)
        raw = (scan_json_body(scope.detectors, body), scope)
    new, findings, changed = redact_document(view, doc, raw)
    if not changed:
        return body, Report(tuple(findings), False)
    return _dumps(new), Report(tuple(findings), True)


def _redact_ndjson(view: View, body: bytes) -> tuple[bytes, Report]:
    lines = body.split(b"\n")
    out: list[bytes] = []
    findings: list[Finding] = []
    changed = False
    for number, line in enumerate(lines, 1):
        if not line.strip():
            out.append(line)
            continue
        record = line.rstrip(b"\r").lstrip(b"\x1e")  # RS opens an RFC 7464 record (application/json-seq)
        try:
            new, report = _redact_json_bytes(view, record)
        except RedactionError as exc:
            raise RedactionError(exc.reason, f"line {number}: {exc}") from None
        if report.changed:
            changed = True
            new = line[:len(line) - len(line.lstrip(b"\x1e"))] + new
            if line.endswith(b"\r"):
                new += b"\r"
            out.append(new)
        else:
            out.append(line)
        findings.extend(report.findings)
    return (b"\n".join(out) if changed else body), Report(tuple(findings), changed)


def _redact_text(view: View, text: str) -> TextResult:
    findings: list[Finding] = []
    new = scan_strings(view, [text], [""], "body", ["$"], findings)[0] or ""
    return TextResult(new, Report(tuple(findings), new != text))
