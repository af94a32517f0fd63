"""What an in-app middleware says when it starts: one line, once per process.

A middleware given no policy (no ``policy`` argument, no ``$VEIL_POLICY``) runs the
built-in ``strict`` profile, secure by default: it redacts credentials and personal
data in both directions, request bodies included, so the app's own login (its
``Authorization`` header, session cookie, ``access_token``) reaches it redacted.
That choice is silent unless said once at start-up, with the way out.
"""

from __future__ import annotations

import logging
import threading

from veil.rules.plan import Plan

log = logging.getLogger(__name__)

STRICT_NOTICE = (
    "the veil middleware was given no policy, so it runs builtin:strict: it redacts credentials "
    "(Authorization, cookies, tokens) and personal data in requests and responses, request bodies included, "
    "which breaks the app's own login; to protect responses and logs and keep the app's auth working, "
    "choose policy='builtin:app' (or VEIL_POLICY=builtin:app)"
)

_said = threading.Event()  # once per process: Starlette, Django and gunicorn each build middlewares more than once
_lock = threading.Lock()


def announce_plan(plan: Plan) -> None:
    """Log :data:`STRICT_NOTICE` (a warning, so it shows without logging configured) when ``plan`` is
    the default one nobody chose; once per process. A policy named explicitly, ``builtin:strict``
    included, is a choice and says nothing."""
    from veil import default_plan  # veil/__init__ imports the adapters' dependencies, never the reverse

    if plan is not default_plan():
        return
    with _lock:
        if _said.is_set():
            return
        _said.set()
    log.warning(STRICT_NOTICE)


def forget_announcement() -> None:
    """Let the next default plan be announced again (for tests that start several apps in one process)."""
    _said.clear()
