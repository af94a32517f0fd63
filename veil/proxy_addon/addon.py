"""The redaction addon: every flow through the proxy is rewritten by the plan.

One of veil's three mitmproxy addons, each with its own hooks (:func:`veil.proxy_addon.make_addons`
wires them): this one redacts; :class:`veil.proxy_addon.admin.AdminAddon` serves /healthz,
/readyz and /metrics; :class:`veil.proxy_addon.reload.PolicyReloader` swaps in a policy file
that changed.

    mitmdump -s "$(python -m veil.proxy_addon)" --mode reverse:http://127.0.0.1:8000 \\
        --set veil_policy=policy.yaml --set veil_metrics_port=9811

or ``veil proxy --upstream http://127.0.0.1:8000`` (see :mod:`veil.proxy_addon.run`).

What happens to a flow, in hook order. Every decision is the shared layer's
(:mod:`veil.http.exchange`, as in the in-app middlewares); the hooks convert its
answers to mitmproxy's messages and stream settings.

1. ``requestheaders``: the flow takes the current plan (a hot reload never
   changes a flow half way); headers, cookies, the query and the path are
   rewritten; the body's way is chosen at its head (``Exchange.body_at_head``):
   binary uploads stream through unread; a body declared over the limit is
   refused (``passthrough``: streamed on unread). A body whose type says nothing
   is buffered when its length fits the limit; larger or chunked, it streams
   through a :class:`veil.http.SniffedStream` (binary unread, text held and
   redacted, over the limit aborted).
2. ``request``: the buffered request body is rewritten, or refused (400/413)
   (``Exchange.redact_request_body``).
3. ``responseheaders``: the head is redacted and the body's way chosen
   (``ResponseBody.begin_at_head``): SSE and NDJSON get a :class:`ResponseStream`
   that rewrites them line by line as they stream; binary ones, and vague ones
   too large to buffer first, stream on as above; everything else is buffered.
4. ``response``: the buffered response is rewritten (tokens the request's
   rules asked for restored), or replaced by a 502 (``ResponseBody.push``).
5. ``websocket_message``: after an upgrade, each message is rewritten, or
   dropped and the connection closed (:mod:`veil.proxy_addon.websocket`).

A direction no rule of the policy may apply to on the flow's route (``builtin:app`` has
no rule for requests) passes untouched and unread, as in the in-app middlewares
(:mod:`veil.http.coverage`); a reply is still read when it may hold tokens to restore.

With a vault plan (``plan.does_io``: a round trip to the vault per new value) each hook
asks the plan in a worker thread and mitmproxy awaits it, so a slow vault stalls that flow and
not the proxy; a vaultless plan runs inline and the hooks stay synchronous
(:mod:`veil.proxy_addon.steps`). SSE and NDJSON lines are redacted in mitmproxy's stream
function, which cannot be awaited: on the loop either way.

A hook that finds no state for its flow (the script was reloaded mid-flow,
another addon answered or created the flow) rebuilds it from the request
with the current plan; without a plan the flow is refused, never passed.

mitmproxy logs an exception raised in a hook and lets the flow continue
(``addonmanager.safecall``), which would forward the unredacted message. So
every hook here catches everything and fails closed itself. Failure semantics
are those of the in-app middleware (:mod:`veil.http.failures`).

Logs name the hook or direction, a reason code, the method and the ids of the
policy rules that apply; never the path, a header or body text, nor an
exception's message (third-party messages can quote their input): an internal
error logs its type and stack frames only.
"""

from __future__ import annotations

import functools
import logging
import os
import weakref
from collections.abc import Awaitable, Callable
from dataclasses import replace
from typing import Any

from mitmproxy import ctx, exceptions, http
from mitmproxy.net.http import url
from mitmproxy.websocket import WebSocketMessage

from veil.errors import RedactionError, VeilError
from veil.http import (
    Options,
    SniffedStream,
    error_response,
    frames_of,
    header_value,
    quiet_server_tracebacks,
    raw_headers,  # case kept: mitmproxy sends names as they are
)
from veil.http.exchange import Chunk, Exchanges, Send, Start
from veil.http.warming import warm_for_serving
from veil.observe import NullObserver, Observer
from veil.proxy_addon.exchange import Exchange, Head, head_of
from veil.proxy_addon.options import add_options
from veil.proxy_addon.steps import Steps, Work, drive
from veil.proxy_addon.stream import ResponseStream
from veil.proxy_addon.websocket import close_connection, direction_of, redact_message
from veil.rules.plan import Plan
from veil.settings import load_policy, resolve_plan

log = logging.getLogger(__name__)
ANSWERED = "veil_answered"
"""``flow.metadata`` key set on a response veil made itself (a refusal): it is not redacted again."""
MINTED = "veil_minted_tokens"
"""``flow.metadata`` key of the tokens veil made in the request: the only ones its reply may restore
(kept on the flow, so that an addon reloaded between the hooks still knows them)."""


def _pretty_host(request: http.Request, headers: list[tuple[str, str]]) -> str:
    """``request.pretty_host``, read from the headers veil already decoded, with the Host
    header's parse remembered: it is the same on every request."""
    if request.data.http_version in (b"HTTP/2.0", b"HTTP/3"):
        return request.pretty_host  # :authority first
    hosts = [value for name, value in headers if name.lower() == "host"]
    if not hosts:
        return request.host
    authority = ", ".join(hosts)  # as mitmproxy's Headers.get joins repeated headers
    if not authority.isascii():
        return request.pretty_host
    # The parse is remembered for a plain host[:port] only: an authority with userinfo holds a credential.
    return _authority_host(authority) if "@" not in authority else url.parse_authority(authority, check=False)[0]


def _unsized(headers: list[tuple[str, str]], message: http.Message) -> bool:
    """A body of unknown size, which cannot be weighed against the limit before it is read: chunked; a
    response without Content-Length (read to the close, or HTTP/2 frames); an HTTP/2 or 3 request
    without one (an HTTP/1 request without either header has no body)."""
    if "chunked" in header_value(headers, "transfer-encoding").lower():
        return True
    if header_value(headers, "content-length"):
        return False
    return isinstance(message, http.Response) or message.data.http_version in (b"HTTP/2.0", b"HTTP/3")


def _response_size(request: http.Request, response: http.Response, head: Head) -> int | None:
    """The response body's size as its head declares it; None when unknown (:func:`_unsized`); 0 when it
    cannot have one whatever its Content-Length says: a reply to HEAD, a 1xx, 204 or 304 (RFC 9112 6.3)."""
    if request.method.upper() == "HEAD" or response.status_code < 200 or response.status_code in (204, 304):
        return 0
    return None if _unsized(head.headers, response) else head.content_length


def _reads_response(exchange: Exchange) -> bool:
    """Whether veil reads the response at all: some rule may apply to it on its route, or it may hold
    tokens the request's rules asked to restore."""
    return exchange.restorer is not None or exchange.covers("response")


def _refused(sends: list[Send]) -> bool:
    """Whether the exchange answered with veil's error response."""
    return bool(sends) and isinstance(sends[0], Start) and sends[0].status is not None


@functools.lru_cache(maxsize=256)
def _authority_host(authority: str) -> str:
    return url.parse_authority(authority, check=False)[0]


StepsHook = Callable[["VeilAddon", http.HTTPFlow], Steps]
Hook = Callable[["VeilAddon", http.HTTPFlow], Awaitable[None] | None]


def _fail_closed(direction: str) -> Callable[[StepsHook], Hook]:
    """Make a hook of ``steps`` (run by :func:`veil.proxy_addon.steps.drive`: inline, or off the
    loop when the plan does I/O), and turn any unexpected exception in it into a blocked flow,
    never a forwarded one."""

    def wrap(steps_of: StepsHook) -> Hook:
        @functools.wraps(steps_of)
        def hook(self: VeilAddon, flow: http.HTTPFlow) -> Awaitable[None] | None:
            def failed(exc: Exception) -> None:
                log.error("veil: internal error in %s (%s %s); the flow is blocked\n%s", steps_of.__name__,
                          direction, self._context(flow, direction), frames_of(exc))
                self._block(flow, "internal_error", direction)

            return drive(steps_of(self, flow), failed)

        return hook

    return wrap


class VeilAddon:
    """Redacts requests and responses passing through mitmproxy with a veil plan."""

    def __init__(self, observer: Observer | None = None) -> None:
        self.plan: Plan | None = None
        self.options = Options(observer=observer or NullObserver())
        self.serving = False
        self.policy_path = ""
        """The policy file in use (the option, else $VEIL_POLICY); "" for the built-in policy."""
        self._max_body = 0  # veil_max_body_bytes; 0: the plan's own limit
        self._flows: weakref.WeakKeyDictionary[http.HTTPFlow, Exchange] = weakref.WeakKeyDictionary()
        self._sockets: weakref.WeakKeyDictionary[http.HTTPFlow, Exchange] = weakref.WeakKeyDictionary()
        """WebSocket flows after their upgrade; ``failed`` set once the connection must close."""
        self._binary_passes = False  # veil_websocket_binary=pass
        self._exchanges: Exchanges | None = None

    # -- options and lifecycle ---------------------------------------------------------

    def load(self, loader: Any) -> None:
        add_options(loader)
        quiet_server_tracebacks()

    def configure(self, updated: set[str]) -> None:
        opts = ctx.options
        if getattr(opts, "stream_large_bodies", None):  # the option belongs to the proxyserver addon
            raise exceptions.OptionsError(
                "veil: stream_large_bodies would forward large bodies unread; unset it "
                "(veil streams SSE and NDJSON itself and limits buffered bodies with veil_max_body_bytes)"
            )
        if getattr(opts, "flow_detail", 0):  # the option belongs to mitmdump's dumper addon
            # The dumper prints a flow in its own response hook, before veil's has run: the raw path from 1,
            # unredacted response headers from 2 and bodies from 3. Refusing would not help: a script whose
            # configure fails stays loaded (answering 503), and the dumper would print those flows.
            log.warning("veil: flow_detail=%s would make mitmdump print flows before veil has rewritten them; "
                        "set to 0 (run mitmdump with -q or --set flow_detail=0 to silence this)", opts.flow_detail)
            opts.update(flow_detail=0)
        if "veil_policy" in updated or self.plan is None:
            self._load_plan(opts.veil_policy)
            if self.plan is not None:
                self.warm(self.plan)
        if updated & {"veil_on_error", "veil_max_decompressed_bytes", "veil_policy_header"}:
            self.options = replace(
                self.options, on_error=opts.veil_on_error or None,
                max_decompressed_bytes=opts.veil_max_decompressed_bytes,
                policy_header=opts.veil_policy_header,
            )
        if "veil_max_body_bytes" in updated:
            self._max_body = opts.veil_max_body_bytes  # read here, not on every request
        if "veil_websocket_binary" in updated:
            self._binary_passes = opts.veil_websocket_binary == "pass"

    def _load_plan(self, policy: str) -> None:
        path = policy or os.environ.get("VEIL_POLICY", "")
        try:
            plan = load_policy(path) if path else resolve_plan(None)
        except VeilError as exc:
            raise exceptions.OptionsError(f"veil_policy: {exc}") from None
        self.plan, self.policy_path = plan, path

    def warm(self, plan: Plan) -> None:
        """Warm ``plan`` before it serves (``veil_warm_ms``; see :mod:`veil.rules.warmup`)."""
        warm_for_serving(plan, ctx.options.veil_warm_ms / 1000, log)

    def running(self) -> None:
        self.serving = True
        if self.plan is None:
            log.error("veil: no policy loaded; every flow is answered 503 until one is")
            return
        log.info("veil: proxying with %r (%s)", self.plan, "from " + self.policy_path if self.policy_path else "built-in policy")
        if not self.policy_path:
            log.warning("veil: no policy given, so this runs builtin:strict: it also redacts Authorization and "
                        "cookies on requests, which breaks the app's own login; in front of an app, choose "
                        "--policy builtin:app (it protects responses and keeps the app's auth working)")

    def done(self) -> None:
        self.serving = False

    def ready(self) -> bool:
        """What /readyz answers: serving with a plan."""
        return self.serving and self.plan is not None

    def use_plan(self, plan: Plan) -> None:
        """Swap in a new plan (a hot reload): one reference assignment, so flows already
        running keep the plan they started with."""
        self.plan = plan

    def observe_with(self, observer: Observer) -> None:
        """Report every body and stream from now on to ``observer`` (the admin addon's metrics)."""
        self.options = replace(self.options, observer=observer)

    # -- per-flow state ------------------------------------------------------------------

    def _exchange(self, flow: http.HTTPFlow, head: Head | None = None) -> Exchange | None:
        """The flow's state; rebuilt from its request with the current plan when veil holds none
        (a script reload between hooks, a flow another addon made or answered). None without a plan."""
        exchange = self._flows.get(flow)
        if exchange is not None or self.plan is None:
            return exchange
        request = flow.request
        head = head or head_of(request)
        limit = self.plan.limits.max_body_bytes
        if self._max_body > 0:
            limit = min(limit, self._max_body)
        path = request.path.partition("?")[0]
        exchange = Exchange(self._shared(), request.method, _pretty_host(request, head.headers), path, limit)
        exchange.request_head = head
        exchange.restore_with(exchange.plan.restorer(exchange.route("request", head.content_type)),
                              flow.metadata.setdefault(MINTED, {}))
        self._flows[flow] = exchange
        return exchange

    def _shared(self) -> Exchanges:
        """What the flows starting now share: the current plan and options (rebuilt when either changes)."""
        assert self.plan is not None
        shared = self._exchanges
        if shared is None or shared.plan is not self.plan or shared.options is not self.options:
            shared = self._exchanges = Exchanges(self.plan, self.options, "proxy", log)
        return shared

    def _context(self, flow: http.HTTPFlow, direction: str, exchange: Exchange | None = None) -> str:
        """What a log line may say about a flow: its method and the ids of the rules on its route."""
        exchange = exchange or self._flows.get(flow) or self._sockets.get(flow)
        if exchange is None:
            return flow.request.method
        return exchange.describe(direction)

    # -- requests ------------------------------------------------------------------------

    @_fail_closed("request")
    def requestheaders(self, flow: http.HTTPFlow) -> Steps:
        flow.metadata.pop(ANSWERED, None)  # a replayed flow: its new response is not veil's
        if flow.response or flow.error or not flow.live:
            return
        if self.plan is None:
            # Loaded as a script whose configure failed: mitmproxy keeps running, veil must not forward.
            self._answer(flow, http.Response.make(
                503, b'{"error":"veil_not_ready","reason":"policy_not_loaded"}', {"content-type": "application/json"}
            ), "policy_not_loaded")
            return
        request = flow.request
        self._flows.pop(flow, None)  # a replayed flow starts again with the current plan
        flow.metadata.pop(MINTED, None)
        head = head_of(request)
        exchange = self._exchange(flow, head)
        assert exchange is not None  # a plan is loaded
        if not exchange.covers("request"):  # no rule may apply on this route (builtin:app): untouched, unread
            request.stream = True
            exchange.unread.add("request")
            return
        headers, ctype = head.headers, head.content_type
        query = request.path.partition("?")[2]
        try:
            # The upstream gets the redacted path; the route (rule matching, logs) keeps the original.
            new_headers, new_query, new_path = yield Work(exchange.plan, exchange.redact_request_head, headers, query,
                                                          exchange.path)
        except RedactionError as exc:
            if exchange.refuse(exc.reason, "request") is not None:
                self._block(flow, exc.reason, "request")
                return
            new_headers, new_query, new_path = headers, query, exchange.path  # passthrough: the body is still judged
        if new_headers != headers:
            request.headers = http.Headers(raw_headers(new_headers))
            exchange.record_sent(repr(headers), repr(new_headers))
        if new_query != query or new_path != exchange.path:
            exchange.record_sent(f"{exchange.path}?{query}", f"{new_path}?{new_query}")
            request.path = new_path + (f"?{new_query}" if "?" in request.path else "")
        length = None if _unsized(new_headers, request) else head.content_length
        mode, _ = exchange.body_at_head(ctype, head.content_encoding, length, streams=False)
        if mode == "too_large" and exchange.refuse("body_too_large", "request") is not None:
            self._block(flow, "body_too_large", "request")
        elif mode == "sniff":  # too large (or of unknown size) to buffer before knowing what it is: its head decides
            request.stream = exchange.sniffer("request", ctype, head.content_encoding)
        elif mode in ("pass", "too_large"):  # never rewritten, so never buffered: uploads stream on
            request.stream = True
            exchange.unread.add("request")
        else:
            request.stream = False  # veil must see the whole body (another addon may have asked to stream)

    @_fail_closed("request")
    def request(self, flow: http.HTTPFlow) -> Steps:
        if flow.response or flow.error or not flow.live:
            return
        exchange = self._exchange(flow)
        if exchange is None:
            self._block(flow, "policy_not_loaded", "request")
            return
        request = flow.request
        if not exchange.covers("request"):
            return
        head = head_of(request, exchange.request_head)
        headers, ctype = head.headers, head.content_type
        if isinstance(request.stream, SniffedStream):
            if request.stream.failed and request.stream.blocks:
                self._block(flow, request.stream.failed, "request")  # bytes may have left: aborted
            return
        if request.stream:
            if "request" not in exchange.unread and exchange.request_mode(ctype) != "pass":
                self._block(flow, "streamed_unread", "request")  # another addon streamed it: abort
            return
        body = request.raw_content or b""
        if not body:
            return
        start, chunk = yield Work(exchange.plan, exchange.redact_request_body, headers, body, ledger=exchange.ledger)
        assert isinstance(start, Start) and isinstance(chunk, Chunk)
        if start.status is not None:
            self._answer_refusal(flow, start.status, start, chunk)
            return
        if start.headers is not headers:
            request.headers = http.Headers(raw_headers(start.headers))
        if chunk.data is not body:
            request.raw_content = chunk.data

    # -- responses -----------------------------------------------------------------------

    @_fail_closed("response")
    def responseheaders(self, flow: http.HTTPFlow) -> Steps:
        if flow.response is None or flow.error or not flow.live:
            return
        response = flow.response
        exchange = self._exchange(flow)
        if exchange is None:
            response.stream = False  # buffered, so that the response hook can refuse it whole
            return
        if not _reads_response(exchange):
            response.stream = True  # untouched and unread, as in the in-app middlewares
            return
        head = exchange.response_head = head_of(response)
        body = exchange.body = exchange.response(head.headers, head_first=True, restorer=exchange.restorer)
        sends = yield Work(exchange.plan, body.begin_at_head, _response_size(flow.request, response, head),
                           error_event=True)
        if not sends or _refused(sends):
            exchange.failed = body.failed if sends else ""  # refused: the response hook answers
            response.stream = False  # veil must see the whole body (another addon may have asked to stream)
            return
        # Streamed headers leave now, so they are rewritten now.
        if body.headers is not head.headers:
            response.headers = http.Headers(raw_headers(body.headers))
        if body.lines is not None:
            response.stream = exchange.stream = ResponseStream(body.lines)
        elif body.sniffer is not None:  # too large (or of unknown size) to buffer before knowing what it is
            response.stream = exchange.stream = body.sniffer
        else:
            response.stream = True  # binary, or over the limit under passthrough: streams through unread

    @_fail_closed("response")
    def response(self, flow: http.HTTPFlow) -> Steps:
        if flow.response is None or flow.error or ANSWERED in flow.metadata:
            return  # veil's own refusals carry nothing to redact
        exchange = self._exchange(flow)
        self._flows.pop(flow, None)
        if exchange is None:
            self._block(flow, "policy_not_loaded", "response")
            return
        response = flow.response
        if exchange.failed:
            self._block(flow, exchange.failed, "response")
            return
        if flow.websocket is not None:
            self._sockets[flow] = exchange  # its messages are redacted with the same plan and route
        if not _reads_response(exchange):
            return
        stream = exchange.stream or response.stream
        if isinstance(stream, (ResponseStream, SniffedStream)):
            if stream.failed and stream.blocks:
                flow.kill()  # abort the connection: the cut stream must not look complete
            return
        head = head_of(response, exchange.response_head)
        if stream:
            passed = exchange.body is not None and exchange.body.mode == "pass"
            if not passed and exchange.request_mode(head.content_type) != "pass":
                self._block(flow, "streamed_unread", "response")  # another addon streamed it: abort
            return  # binary, streamed through unread
        body, sends = exchange.body, []
        if body is None or body.mode != "buffer" or head is not exchange.response_head:
            # No head read in responseheaders (another addon answered, a script reload), or changed since:
            # the body is in memory, so it is redacted whole whatever its type, the limit still applies.
            body = exchange.response(head.headers, head_first=False, whole=True, bounded=True,
                                     restorer=exchange.restorer)
            sends = yield Work(exchange.plan, body.begin)
        raw = response.raw_content or b""
        start, chunk = sends if _refused(sends) else (yield Work(exchange.plan, body.push, raw, False))
        assert isinstance(start, Start) and isinstance(chunk, Chunk)
        if start.status is not None:
            self._answer_refusal(flow, start.status, start, chunk)
            return
        if start.headers is not head.headers:
            response.headers = http.Headers(raw_headers(start.headers))
        if chunk.data is not raw:
            response.raw_content = chunk.data

    def error(self, flow: http.HTTPFlow) -> None:
        self._flows.pop(flow, None)
        self._sockets.pop(flow, None)

    # -- WebSocket messages --------------------------------------------------------------

    def websocket_message(self, flow: http.HTTPFlow) -> Awaitable[None] | None:
        assert flow.websocket is not None
        message = flow.websocket.messages[-1]
        direction = direction_of(message)

        def failed(exc: Exception) -> None:
            reason = exc.reason if isinstance(exc, RedactionError) else "internal_error"
            if not isinstance(exc, RedactionError):
                log.error("veil: internal error in websocket_message (%s); the message is dropped\n%s",
                          self._context(flow, direction), frames_of(exc))
            self._close_socket(flow, self._sockets.get(flow), reason, direction)

        return drive(self._websocket_message(flow, message, direction), failed)

    def _websocket_message(self, flow: http.HTTPFlow, message: WebSocketMessage, direction: str) -> Steps:
        exchange = self._sockets.get(flow)
        if exchange is None:
            exchange = self._exchange(flow)  # e.g. the upgrade went through before a script reload
            self._flows.pop(flow, None)
            if exchange is None:
                raise RedactionError("policy_not_loaded", "no policy loaded")
            self._sockets[flow] = exchange
        if exchange.failed:
            message.drop()  # the connection is closing: nothing more crosses
            return
        if direction == "request" and not exchange.covers("request") or (
                direction == "response" and not _reads_response(exchange)):
            return  # no rule may apply to it on this route: untouched, as in the ASGI middleware
        yield from redact_message(exchange, message, binary_passes=self._binary_passes)

    def websocket_end(self, flow: http.HTTPFlow) -> None:
        self._sockets.pop(flow, None)

    def _close_socket(self, flow: http.HTTPFlow, exchange: Exchange | None, reason: str, direction: str) -> None:
        """Drop the message, and every later one on the flow; close the connection."""
        flow.websocket.messages[-1].drop()  # type: ignore[union-attr]
        if exchange is not None:
            exchange.failed = reason
        closed = close_connection(flow)
        log.warning("veil: websocket %s message dropped: %s (%s); %s", direction, reason,
                    self._context(flow, direction, exchange), "connection closed" if closed else "later messages dropped")

    # -- failures ------------------------------------------------------------------------

    def _block(self, flow: http.HTTPFlow, reason: str, direction: str) -> None:
        """Answer with the documented error instead of the message; kill what can't be answered."""
        exchange = self._flows.get(flow)
        if exchange is not None and flow.response is not None and flow.response.data.content is None:
            exchange.failed = reason  # in responseheaders: the response hook answers
            return
        self._flows.pop(flow, None)
        status, headers, body = error_response(reason, direction)
        if flow.request.stream and direction == "request" or flow.response is not None and flow.response.stream:
            if flow.killable:
                flow.kill()  # bytes already left: the connection is aborted instead
            return
        self._answer(flow, http.Response.make(status, body, dict(headers)), reason)

    def _answer_refusal(self, flow: http.HTTPFlow, status: int, start: Start, chunk: Chunk) -> None:
        """Answer with the refusal the exchange made (logged there) instead of the message."""
        self._flows.pop(flow, None)
        self._answer(flow, http.Response.make(status, chunk.data, dict(start.headers)), start.reason)

    def _answer(self, flow: http.HTTPFlow, response: http.Response, reason: str) -> None:
        flow.response = response
        flow.metadata[ANSWERED] = reason
