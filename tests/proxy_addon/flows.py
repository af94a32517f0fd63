"""Drive the veil addon through mitmproxy's hooks, in the order the proxy calls them."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any

from mitmproxy import http
from mitmproxy.test import taddons, tflow

from tests.restore_policy import KEY_ENV, KEY_HEX, RESTORE_POLICY
from veil.proxy_addon import VeilAddon

__all__ = ["KEY_ENV", "KEY_HEX", "RESTORE_POLICY", "addon_context", "make_flow", "send_request", "send_response"]


@contextmanager
def addon_context(*addons: Any) -> Iterator[taddons.context]:
    """``taddons.context`` outside a running loop makes its own loop; close it afterwards."""
    tctx = taddons.context(*addons)
    try:
        yield tctx
    finally:
        tctx.master.event_loop.close()


def make_flow(
    body: bytes = b"", content_type: str = "", *, method: str = "POST", path: str = "/echo",
    headers: Sequence[tuple[str, str]] = (), encoding: str = "",
) -> http.HTTPFlow:
    fields = [("host", "127.0.0.1")]
    if content_type:
        fields.append(("content-type", content_type))
    if encoding:
        fields.append(("content-encoding", encoding))
    fields += list(headers)
    fields.append(("content-length", str(len(body))))
    request = http.Request.make(method, f"http://127.0.0.1{path}", body,
                                [(k.encode(), v.encode("utf-8")) for k, v in fields])
    request.raw_content = body  # make() would encode; keep the bytes as sent
    return tflow.tflow(req=request)


def send_request(addon: VeilAddon, flow: http.HTTPFlow) -> None:
    addon.requestheaders(flow)
    if flow.response is None and not flow.request.stream:
        addon.request(flow)


def send_response(
    addon: VeilAddon, flow: http.HTTPFlow, body: bytes, content_type: str = "", *,
    status: int = 200, headers: Sequence[tuple[str, str]] = (), encoding: str = "",
    chunks: Sequence[bytes] | None = None,
) -> bytes:
    """Deliver an upstream response; return the body bytes the client receives.

    ``chunks``: how the upstream's body arrives when the addon streams it.
    """
    fields = [(b"content-type", content_type.encode())] if content_type else []
    if encoding:
        fields.append((b"content-encoding", encoding.encode()))
    fields += [(k.encode(), v.encode("utf-8")) for k, v in headers]
    if chunks is None:
        fields.append((b"content-length", str(len(body)).encode()))
    flow.response = http.Response.make(status, b"", fields)
    flow.response.data.content = None  # as mitmproxy has it between headers and body
    addon.responseheaders(flow)
    assert flow.response is not None
    stream = flow.response.stream
    if callable(stream):
        out = b"".join(_as_bytes(stream(chunk)) for chunk in (chunks or [body]) if chunk)
        out += _as_bytes(stream(b""))
        flow.response.data.content = b""
        addon.response(flow)
        return out
    flow.response.data.content = body
    addon.response(flow)
    return flow.response.raw_content or b""


def _as_bytes(chunks: bytes | Sequence[bytes]) -> bytes:
    pieces = [chunks] if isinstance(chunks, bytes) else list(chunks)
    # mitmproxy writes each piece as an HTTP/1.1 chunk: an empty one would end the body for the client.
    assert all(pieces), f"the stream returned an empty chunk: {pieces!r}"
    return b"".join(pieces)
