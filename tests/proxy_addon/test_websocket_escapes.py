"""WebSocket text through the proxy that only looks like JSON (issue #15 review, L8): orjson
rejects it, Python's ``json`` reads it, string escapes decoded. A value hidden behind an escape
must not cross; the same decision as the ASGI middleware's (``veil.http.websocket``)."""

from __future__ import annotations

import pytest

from tests.proxy_addon.test_fail_closed import addon, deliver, ws_flow  # noqa: F401 - the fixture
from veil.proxy_addon import VeilAddon


@pytest.mark.parametrize("from_client", [True, False], ids=["client-to-server", "server-to-client"])
@pytest.mark.parametrize(("content", "out"), [
    (rb'{"email":"jane\u0040example.com","x":NaN}', None),  # dropped, the connection closed
    (rb'["\ud800","jane\u0040example.com"]', None),
    (rb'"jane\u0040example.com"', b'"[REDACTED:EMAIL]"'),  # a top-level JSON string
    (rb'{"note":"a\nb","x":NaN}', rb'{"note":"a\nb","x":NaN}'),  # near miss: nothing behind the escape
    (rb'{"e":"jane\\u0040example.com","x":NaN}', rb'{"e":"jane\\u0040example.com","x":NaN}'),  # escaped backslash
], ids=["nan", "lone-surrogate", "top-level-string", "escape-hides-nothing", "escaped-backslash"])
def test_json_like_text_cannot_hide_a_value_behind_escapes(
    addon: VeilAddon, content: bytes, out: bytes | None, from_client: bool  # noqa: F811
) -> None:
    message = deliver(addon, ws_flow(addon), content, from_client=from_client)
    if out is None:
        assert message.dropped
    else:
        assert not message.dropped and message.content == out
