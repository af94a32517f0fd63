"""The redaction addon's mitmproxy options (the admin addon declares ``veil_metrics_*``), each with the one-paragraph help ``mitmdump --options`` shows."""

from __future__ import annotations

from typing import Any

from veil.http import DEFAULT_MAX_DECOMPRESSED


def add_options(loader: Any) -> None:
    """Declare ``veil_*`` options on mitmproxy's loader (the addon's ``load`` hook)."""
    loader.add_option(
        "veil_policy", str, "",
        "veil policy file. Empty: the file named by $VEIL_POLICY, else veil's built-in default policy. "
        "The file is reloaded when it changes; an invalid edit keeps the current plan.",
    )
    loader.add_option(
        "veil_on_error", str, "",
        "What to do with a body veil cannot process: block (answer 400/413 for a request, 502 for a "
        "response) or passthrough (forward it unchanged, logged and counted). Empty: the policy's on_error.",
        choices=["", "block", "passthrough"],
    )
    loader.add_option(
        "veil_max_body_bytes", int, 0,
        "Largest body veil buffers and rewrites; larger ones fail (see veil_on_error). "
        "0: the policy's limits.max_body_bytes.",
    )
    loader.add_option(
        "veil_max_decompressed_bytes", int, DEFAULT_MAX_DECOMPRESSED,
        "Largest decoded size of a gzip, deflate or br body; a larger one is a decompression bomb and fails.",
    )
    loader.add_option(
        "veil_policy_header", bool, False,
        "Add veil-policy: sha256:<16 hex> (the digest of the policy in use) to every response veil "
        "processes, so a client or log can tell which policy version handled it.",
    )
    loader.add_option(
        "veil_warm_ms", int, 0,
        "Before a policy serves (when loaded, and on each reload), run synthetic traffic through it for up to "
        "this many milliseconds, so that its first requests do not pay for compiling and for RE2 building its "
        "automata. 0: off (veil proxy sets it from --warm-seconds, 1 s by default).",
    )
    loader.add_option(
        "veil_websocket_binary", str, "drop",
        "Binary WebSocket messages, which veil cannot read: drop (the default: the message is dropped and "
        "the connection closed) or pass (forwarded unread, e.g. audio frames known to carry no text). "
        "Text messages are always redacted; one that cannot be is dropped and its connection closed, "
        "whatever veil_on_error says.",
        choices=["drop", "pass"],
    )
