"""A streamed response body rewritten line by line: mitmproxy's ``flow.response.stream``.

mitmproxy calls the stream function with each chunk as it arrives from the upstream and
with ``b""`` at the end. Each chunk goes through veil's one line-stream driver
(:class:`veil.http.LineStream`: decode, redact complete lines, restore tokens, re-encode);
nothing is ever passed through unread.

On failure with ``on_error: block`` the stream stops: nothing after the failure is
forwarded, a last error event (SSE) or line (NDJSON) tells the client why, and the addon
aborts the connection when the upstream ends, so the client can never take the cut stream
for a complete one. With ``passthrough`` the rest of the stream is forwarded unredacted.
Either way the failure is logged once and counted (``veil_errors_total``).
"""

from __future__ import annotations

from veil.http import LineStream


class ResponseStream:
    """The callable set as ``flow.response.stream`` for an SSE or NDJSON response.

    ``lines``: the response's line driver (:meth:`veil.http.exchange.ResponseBody.begin_at_head`).
    The head is already out when mitmproxy streams, and a stream function cannot abort the
    connection itself: ``lines`` is made with ``error_event``, so a failure ends the body with an
    error event; the addon then kills the flow.
    """

    def __init__(self, lines: LineStream) -> None:
        self.lines = lines

    @property
    def failed(self) -> str:
        """The reason, once the stream has failed."""
        return self.lines.failed

    @property
    def blocks(self) -> bool:
        return self.lines.blocks

    def __call__(self, chunk: bytes) -> list[bytes]:
        """The bytes to send for ``chunk``: none (``[]``) while a line or a token is incomplete.

        Never ``[b""]``: mitmproxy sends each item as a chunk, and an empty one on a chunked
        HTTP/1.1 response is ``0\\r\\n\\r\\n``, which ends the body for the client.
        """
        out = self.lines.step(chunk, last=not chunk)
        return [out] if out else []
