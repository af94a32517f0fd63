"""ASGIMiddleware at start-up (a bad policy, the default policy's notice) and its pathsend file reads
(issue #16)."""

from __future__ import annotations

import asyncio
import io
import logging
import threading
from pathlib import Path
from typing import Any

import pytest

import veil
import veil.middleware.asgi as asgi_module
from tests.middleware.test_asgi import NO_BODY, drive, http_scope
from veil.middleware import ASGIMiddleware, VeilASGIMiddleware
from veil.observe.startup import STRICT_NOTICE, forget_announcement
from veil.settings import resolve_plan

pytestmark = pytest.mark.anyio

BAD_POLICY = {"version": 1, "rules": [{"id": "r", "scan": {"action": "mask_everything"}}]}


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


async def untouched_app(scope: Any, receive: Any, send: Any) -> None:
    raise AssertionError("the app must not be called")


def bad_policy_message() -> str:
    with pytest.raises(veil.PolicyError) as info:
        resolve_plan(BAD_POLICY)
    return str(info.value)


# -- a bad policy -------------------------------------------------------------------------


def test_outside_an_event_loop_a_bad_policy_raises_at_construction() -> None:
    """A module wrapping its app at import: the import fails, with the message."""
    with pytest.raises(veil.PolicyError):
        ASGIMiddleware(untouched_app, policy=BAD_POLICY)


async def test_built_inside_the_event_loop_a_bad_policy_fails_the_lifespan_startup_with_its_message() -> None:
    """Starlette builds add_middleware middlewares in its first ASGI call (the lifespan one): the
    server must hear lifespan.startup.failed, not an exception it reads as 'lifespan unsupported'."""
    middleware = ASGIMiddleware(untouched_app, policy=BAD_POLICY)
    sent = await drive(middleware, {"type": "lifespan", "asgi": {"version": "3.0"}}, [{"type": "lifespan.startup"}])
    assert sent == [{"type": "lifespan.startup.failed", "message": f"veil: {bad_policy_message()}"}]


async def test_built_inside_the_event_loop_a_bad_policy_raises_on_every_request_and_never_calls_the_app() -> None:
    middleware = ASGIMiddleware(untouched_app, policy=BAD_POLICY)
    for _ in range(2):
        with pytest.raises(veil.PolicyError) as info:
            await drive(middleware, http_scope(), NO_BODY)
        assert str(info.value) == bad_policy_message()


async def test_a_good_policy_passes_the_lifespan_on_to_the_app() -> None:
    seen: list[str] = []

    async def app(scope: Any, receive: Any, send: Any) -> None:
        seen.append((await receive())["type"])
        await send({"type": "lifespan.startup.complete"})

    sent = await drive(ASGIMiddleware(app, policy="builtin:app"), {"type": "lifespan"}, [{"type": "lifespan.startup"}])
    assert seen == ["lifespan.startup"] and sent == [{"type": "lifespan.startup.complete"}]


# -- the default policy's notice ------------------------------------------------------------


@pytest.mark.parametrize(
    ("policy", "announced"),
    [
        (None, True),                       # nobody chose: builtin:strict, said once
        ("builtin:strict", False),          # chosen by name: nothing to say
        ("builtin:app", False),
        ({"version": 1, "rules": [{"scan": True}]}, False),  # a policy of one's own
    ],
)
def test_the_strict_default_is_announced_in_one_line_only_when_nobody_chose_a_policy(
    policy: Any, announced: bool, caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("VEIL_POLICY", raising=False)
    forget_announcement()
    with caplog.at_level(logging.INFO, logger="veil"):
        VeilASGIMiddleware(untouched_app, policy=policy)
        VeilASGIMiddleware(untouched_app, policy=policy)  # a second middleware in the process: still one line
    lines = [r for r in caplog.records if r.getMessage() == STRICT_NOTICE]
    assert len(lines) == (1 if announced else 0)
    if announced:
        assert lines[0].levelno == logging.WARNING and lines[0].name.startswith("veil.")
        assert "builtin:app" in STRICT_NOTICE and "request bodies" in STRICT_NOTICE and "\n" not in STRICT_NOTICE
    forget_announcement()


# -- pathsend -----------------------------------------------------------------------------


class ThreadRecordingFile(io.BytesIO):
    """A file whose opening and reads remember the thread they ran on."""

    threads: list[int]

    def read(self, size: int | None = -1) -> bytes:
        self.threads.append(threading.get_ident())
        return super().read(size)


@pytest.mark.parametrize("content_type", [b"application/json", b"application/octet-stream"])  # buffered; sniffed
async def test_pathsend_files_are_opened_and_read_off_the_event_loop(
    content_type: bytes, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
) -> None:
    path = tmp_path / "customer.json"
    path.write_bytes(b'{"email": "jane@example.com"}')
    threads: list[int] = []

    def recording_open(name: str, mode: str) -> ThreadRecordingFile:
        threads.append(threading.get_ident())
        file = ThreadRecordingFile(Path(name).read_bytes())
        file.threads = threads
        return file

    monkeypatch.setattr(asgi_module, "open", recording_open, raising=False)

    async def app(scope: Any, receive: Any, send: Any) -> None:
        await send({"type": "http.response.start", "status": 200, "headers": [(b"content-type", content_type)]})
        await send({"type": "http.response.pathsend", "path": str(path)})

    loop_thread = threading.get_ident()
    assert asyncio.get_running_loop() is not None
    sent = await drive(ASGIMiddleware(app, policy=veil.default_plan()), http_scope(method="GET"), NO_BODY)
    assert b"".join(m.get("body", b"") for m in sent) == b'{"email": "[REDACTED:EMAIL]"}'
    assert len(threads) >= 2  # the open, then reads
    assert loop_thread not in threads
