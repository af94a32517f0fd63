"""One HTTP exchange, as one ext_proc gRPC stream: each ProcessingRequest answered with its ProcessingResponse.

What happens, in message order:

1. ``request_headers``: the exchange takes the current plan (a hot reload never changes an
   exchange half way); headers, cookies, the query and the path segments are rewritten (``:path``
   is set when they changed: rules match the original); the body's mode is asked for
   (:mod:`veil.extproc.bodies`, as :meth:`veil.http.Exchange.body_at_head` answers); a body
   declared over the limit is refused at once. A direction no rule of the policy may apply to on
   the route (:meth:`veil.http.Exchange.covers`: ``builtin:app``'s requests) passes untouched and
   unread, as in every other adapter; a reply is still read when it may hold tokens to restore.
2. ``request_body``: the whole body (buffered) is rewritten with a Content-Length that counts it,
   or each chunk (streamed) is answered with the bytes that may go out for it.
3. ``response_headers``, ``response_body``: the same for the response; tokens the request's rules
   asked for are restored.
4. ``request_trailers``, ``response_trailers``: rewritten like headers.

A body veil asked for (``mode_override``) that never comes is a gateway that ignored the override
(``allow_mode_override`` not set: the static mode, ``NONE``, let the body cross unread). Envoy tells
nothing up front: its ``protocol_config`` carries the static body modes, not the permission to
override them. So it is seen late, as ``body_mode_refused`` (one warning naming the fix, counted
as an error): a request body is refused at the next message (the response's headers, or the
request's trailers), so the reply never reaches the client; a response body at the response's
trailers (veil's 502 while Envoy still holds the head, else Envoy resets the stream), or, with no
trailers, only logged and counted when the stream ends.

Every failure fails closed as in the other adapters (:mod:`veil.http.failures`): an
ImmediateResponse with veil's JSON error and status (400/413 for a request, 502 for a response);
after a response's head went out, Envoy resets the stream instead, so a cut body never looks
complete. With ``on_error: passthrough`` the message goes on unchanged. An unexpected exception
is an ``internal_error`` refusal, logged by type and frames only. Logs never carry the path, a
header or a body: a reason code, the method and rule ids.
"""

from __future__ import annotations

import logging

from envoy.config.core.v3.base_pb2 import HeaderMap
from envoy.service.ext_proc.v3.external_processor_pb2 import (
    HttpBody,
    HttpHeaders,
    ProcessingRequest,
    ProcessingResponse,
)

from veil.errors import RedactionError
from veil.extproc.bodies import Body, Document, HeadDecides, Streamed, Unread
from veil.extproc.messages import (
    BUFFERED,
    BUFFERED_PARTIAL,
    NONE,
    STREAMED,
    Head,
    body_reply,
    head_of,
    header_mutation,
    refusal,
    reply_to_headers,
    rewritten_body_reply,
    set_header,
    trailers_reply,
    unchanged_body,
    unchanged_trailers,
)
from veil.http import (
    Headers,
    LineStream,
    Options,
    frames_of,
    log_failure,
    redact_head,
    redact_request_path,
    replace_length,
    with_policy_header,
)
from veil.http.exchange import Exchange as HttpExchange
from veil.http.exchange import Exchanges
from veil.rules.plan import Plan
from veil.rules.plan_types import EMPTY_REPORT, Route
from veil.rules.restore import Restorer

log = logging.getLogger(__name__)

ADAPTER = "extproc"
"""The ``adapter`` label of this server's metrics."""

MODE_REFUSED = "body_mode_refused"
"""The reason code of a body veil asked for that the gateway never sent."""
MODE_REFUSED_FIX = "the gateway ignored veil's mode_override: set allow_mode_override: true in the ext_proc filter"


def host_of(authority: str) -> str:
    """The host of an ``:authority`` (``[::1]:8080`` -> ``::1``), as rules name hosts."""
    if authority.startswith("["):
        return authority[1:].partition("]")[0]
    return authority.rpartition(":")[0] if authority.count(":") == 1 else authority


def shared_by(plan: Plan, options: Options) -> Exchanges:
    """What every exchange on ``plan`` and ``options`` shares (the plan's coverage of each direction):
    the server makes it once per plan, not once per stream."""
    return Exchanges(plan, options, ADAPTER, log)


class Exchange:
    """What one gRPC stream keeps between messages: the plan it started with, the route, each body."""

    def __init__(self, plan: Plan, options: Options, max_body: int = 0, shared: Exchanges | None = None,
                 buffer_limit: int = 0) -> None:
        self.plan, self.options = plan, options
        self.limit = min(plan.limits.max_body_bytes, max_body) if max_body > 0 else plan.limits.max_body_bytes
        self.buffer_limit = buffer_limit
        """Envoy's buffer limit as the gateway declares it (``veil-buffer-limit-bytes``); 0: not declared."""
        self.static: dict[str, int] = {}
        """Each direction's body mode in the filter's own configuration (``protocol_config``, on the
        stream's first message): what arrives if the gateway ignores ``mode_override``."""
        self.blocks = options.blocks(plan)
        self.shared = shared if shared is not None else shared_by(plan, options)
        self.http: HttpExchange | None = None
        """The shared layer's view of this exchange, opened at the request's headers."""
        self.method = self.host = self.path = ""
        self.restorer: Restorer | None = None
        self.bodies: dict[str, Body] = {}
        self.modes = {"request": NONE, "response": NONE}
        self.sent: dict[str, Headers] = {}
        """Each direction's headers as veil let them go: a buffered body's reply fixes their length."""
        self.done = False
        """An ImmediateResponse was sent: Envoy asks nothing more."""
        self.awaited: set[str] = set()
        """Directions whose body veil asked for and has not received a message of yet."""

    def route(self, direction: str, content_type: str = "") -> Route:
        return Route(direction, self.method, self.host, self.path, content_type)

    def handle(self, message: ProcessingRequest) -> ProcessingResponse:
        """The answer to one message; never raises (an unexpected error is an ``internal_error`` refusal)."""
        which = message.WhichOneof("request") or ""
        direction = "request" if which.startswith("request") else "response"
        if message.HasField("protocol_config"):
            config = message.protocol_config
            self.static = {"request": config.request_body_mode, "response": config.response_body_mode}
        try:
            if "request" in self.awaited and which in ("response_headers", "request_trailers"):
                refused = self._body_never_came("request", which)
                if refused is not None:
                    return refused
            if "response" in self.awaited and which == "response_trailers":
                refused = self._body_never_came("response", which)
                if refused is not None:
                    return refused
            if which.endswith("_headers"):
                return self._headers(direction, getattr(message, which))
            if which.endswith("_body"):
                return self._body(direction, getattr(message, which))
            if which.endswith("_trailers"):
                return self._trailers(direction, getattr(message, which).trailers)
            raise RedactionError("unexpected_message", "an ext_proc message veil does not know")
        except RedactionError as exc:
            log_failure(log, self.plan, self.route(direction), exc.reason)
            return self._refuse(exc.reason, direction, which)
        except Exception as exc:  # noqa: BLE001 - fail closed: never let an exchange through on a bug
            log.error("veil: internal error in ext_proc %s (%s %s); refused\n%s", which or "message", direction,
                      self.method or "-", frames_of(exc))
            self.done = True
            return refusal("internal_error", direction)

    # -- headers -------------------------------------------------------------------------

    def _headers(self, direction: str, message: HttpHeaders) -> ProcessingResponse:
        head = head_of(message.headers)
        target = query = ""
        if direction == "request":
            self.method = head.pseudo.get(":method", "")
            target = head.pseudo.get(":path", "")
            self.path, _, query = target.partition("?")
            self.host = host_of(head.pseudo.get(":authority", ""))
            self.http = self.shared.open(self.method, self.host, self.path, self.limit)
        ctype = head.content_type  # read once: it splits what Envoy joined
        route = self.route(direction, ctype)
        if direction == "request":
            self.restorer = self.plan.restorer(route)
        if not self._reads(direction):  # no rule may apply here: untouched, and its body never sent to veil
            self.modes[direction] = NONE
            return reply_to_headers(direction, None, self.modes["request"], self.modes["response"])
        new_path = self.path
        try:
            headers, new_query, _ = redact_head(self.plan, route, head.headers, query)
            if direction == "request":
                new_path = redact_request_path(self.plan, route, self.path)[0]
        except RedactionError as exc:
            if self.blocks:
                raise
            log_failure(log, self.plan, route, exc.reason)
            headers, new_query = head.headers, query  # passthrough: the head goes on as it came
        if direction == "response":
            headers = with_policy_header(self.plan, self.options, headers)  # opt-in lineage
        if not message.end_of_stream:
            headers = self._choose_body(direction, route, head, ctype, headers)
            if self.modes[direction] != NONE:
                self.awaited.add(direction)
        self.sent[direction] = headers
        mutation = header_mutation(head.headers, headers)
        if (new_path, new_query) != (self.path, query):
            mutation = set_header(mutation, ":path", new_path + (f"?{new_query}" if "?" in target else ""))
        return reply_to_headers(direction, mutation, self.modes["request"], self.modes["response"])

    def _reads(self, direction: str) -> bool:
        """Whether veil reads this direction: some rule may apply on the route (the shared layer's
        coverage), or a reply may hold tokens to restore. Without the request's headers (a gateway
        set to skip them) there is no route to judge: everything is read."""
        if self.http is None:
            return True
        return (direction == "response" and self.restorer is not None) or self.http.covers(direction)

    def _choose_body(self, direction: str, route: Route, head: Head, ctype: str, headers: Headers) -> Headers:
        """Set up the body's handling and the mode Envoy sends it in; the headers to send with it."""
        cenc, length = head.content_encoding, head.content_length
        restorer = self.restorer if direction == "response" else None
        http = self.http or self.shared.open(self.method, self.host, self.path, self.limit)
        how, kind = http.body_at_head(ctype, cenc, length, partial=True)
        body: Body
        if how == "pass":
            body, self.modes[direction] = Unread(), NONE
        elif how == "stream" and kind is not None:
            stream = LineStream(self.plan, route, kind, self.options, ADAPTER, encoding=cenc, restorer=restorer,
                                headers_out=direction == "response")
            body, self.modes[direction], headers = Streamed(stream), STREAMED, replace_length(headers, None)
        elif how == "partial":  # its head decides: never more than Envoy's buffer held, a large image included
            self.modes[direction] = BUFFERED_PARTIAL
            body = HeadDecides(http, direction, ctype, cenc, restorer, self._whole_within(direction))
        elif how == "too_large":
            if self.blocks:
                raise RedactionError("body_too_large", f"{direction} body is declared over the limit")
            log_failure(log, self.plan, route, "body_too_large")  # passthrough: the body goes on unread,
            self.bodies[direction], self.modes[direction] = Unread(), NONE  # its head still redacted
            return headers
        else:
            self.modes[direction] = BUFFERED if length is not None else BUFFERED_PARTIAL
            body = Document(self.plan, route, ctype, cenc, self.options, self.limit, restorer, partial=length is None,
                            whole_within=self._whole_within(direction))
        self.bodies[direction] = body
        return headers

    def _whole_within(self, direction: str) -> int:
        """Up to how many bytes a body message that is not the last is the whole body, its trailers next
        (Envoy sends a body that ends in trailers without end_of_stream); 0: never.

        BUFFERED: up to the limit (Envoy answers 413 itself rather than cut a body). BUFFERED_PARTIAL: a
        body Envoy cut looks the same, but always holds more than its buffer limit: only within the limit
        the gateway declares. Neither under a filter whose own mode streams: if it ignored the override
        (Envoy does not tell), a first chunk looks the same too."""
        if self.static.get(direction) not in (NONE, BUFFERED, BUFFERED_PARTIAL):
            return 0
        if self.modes[direction] == BUFFERED:
            return self.limit
        return min(self.limit, self.buffer_limit)

    # -- bodies and trailers ---------------------------------------------------------------

    def _body(self, direction: str, message: HttpBody) -> ProcessingResponse:
        self.awaited.discard(direction)
        body = self.bodies.get(direction)
        if body is None:  # veil never saw this body's headers (a gateway set to skip them): it cannot judge it
            raise RedactionError("unexpected_body", f"a {direction} body whose headers veil did not see")
        try:
            out = body.step(message.body, message.end_of_stream)
        except RedactionError as exc:
            if self.blocks:
                raise
            log_failure(log, self.plan, self.route(direction), exc.reason)
            return body_reply(direction, body.release() or None)  # passthrough: as it came
        if body.failed:  # a stream blocked (logged and observed by the stream)
            return self._refuse(body.failed, direction, "body")
        if body.rewritten and self.modes[direction] in (BUFFERED, BUFFERED_PARTIAL) and out is not None:
            # BUFFERED: Envoy answers 500 when a changed body keeps its old Content-Length, so veil sets
            # the new one. BUFFERED_PARTIAL: Envoy skips a Content-Length set then (it would not hold for
            # a body cut at its buffer) and would send the old one: it is removed, the body goes chunked.
            length = len(out) if self.modes[direction] == BUFFERED else None
            return rewritten_body_reply(direction, out, self.sent.get(direction, []), length)
        return body_reply(direction, out) if out is not None else unchanged_body(direction)

    def _trailers(self, direction: str, trailers: HeaderMap) -> ProcessingResponse:
        body = self.bodies.get(direction)
        if body is not None:  # a body without end_of_stream ends at its trailers
            held = body.step(b"", True)
            if body.failed:
                return self._refuse(body.failed, direction, "_trailers")
            if held:  # what veil still held can no longer be sent: the body would arrive cut
                raise RedactionError("body_before_trailers", f"{direction} body ended in trailers with bytes held")
        head = head_of(trailers)
        new, _, _ = redact_head(self.plan, self.route(direction), head.headers, "")
        mutation = header_mutation(head.headers, new)
        return trailers_reply(direction, mutation) if mutation is not None else unchanged_trailers(direction)

    def _body_never_came(self, direction: str, where: str) -> ProcessingResponse | None:
        """A body veil asked for did not come before ``where``: logged once and counted; with
        ``block`` the refusal to answer (None: passthrough, ``where`` is handled as usual)."""
        self._missing(direction, MODE_REFUSED_FIX)
        self.bodies.pop(direction, None)  # passthrough: nothing of it to finish at its trailers
        if not self.blocks:
            return None
        self.done = True
        # A request's refusal answers in its response's place (the request body already crossed: its
        # reply never reaches the client). A response's comes after its head went out: Envoy resets.
        return refusal(MODE_REFUSED, direction)

    def finish(self) -> None:
        """The gRPC stream ended: a body veil asked for that never came is logged and counted (nothing
        can be answered any more). Also what a client's abort mid-body looks like; said in the log line."""
        if self.done:  # veil's refusal ended it: nothing more was due
            return
        for direction in sorted(self.awaited):
            self._missing(direction, f"the stream ended first: {MODE_REFUSED_FIX} (or the exchange was cut)")

    def _missing(self, direction: str, what: str) -> None:
        """One warning line and one ``veil_errors_total`` sample for a body that never came."""
        self.awaited.discard(direction)
        self.options.observer.observe(adapter=ADAPTER, direction=direction, outcome="error", report=EMPTY_REPORT,
                                      seconds=0.0, size=0, reason=MODE_REFUSED)
        log_failure(log, self.plan, self.route(direction), MODE_REFUSED, what)

    def _refuse(self, reason: str, direction: str, where: str) -> ProcessingResponse:
        if not self.blocks:  # passthrough: the message goes on unchanged
            if where.endswith("_headers"):
                return reply_to_headers(direction, None, self.modes["request"], self.modes["response"])
            if where.endswith("_trailers"):
                return unchanged_trailers(direction)
            return unchanged_body(direction)
        self.done = True
        return refusal(reason, direction)
