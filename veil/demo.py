"""``veil demo``: the proxy with the built-in default policy, in front of a tiny upstream.

Starts a demo upstream (standard library, on a free loopback port) that
records what reaches it, starts ``veil proxy`` in front of it, sends a few
requests carrying personal data through the proxy, and prints, for each, what
the client sent, what arrived upstream and what came back. Everything runs on
127.0.0.1 and stops by itself.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from veil.server_settings import DEFAULT_ADMIN_PORT

PROFILE = {
    "id": "u_1029",
    "name": "Jane Doe",
    "email": "jane.doe@example.com",
    "phone": "+44 20 7946 0958",
    "note": "card on file 4111 1111 1111 1111, login from 203.0.113.7",
    "plan": "pro",
}

REQUESTS: list[dict[str, Any]] = [
    {
        "title": "A signup posted to the app (request body and Authorization header)",
        "method": "POST",
        "path": "/signup",
        "headers": {"Content-Type": "application/json", "Authorization": "Bearer sk_live_51Habcdefghijklmnopqrstuv"},
        "body": {"email": "jane.doe@example.com", "password": "hunter2", "card": "4111-1111-1111-1111", "plan": "pro"},
    },
    {
        "title": "A lookup with credentials in the query string",
        "method": "GET",
        "path": "/profile?id=u_1029&api_key=AKIAIOSFODNN7EXAMPLE",
        "headers": {},
        "body": None,
    },
]


class _Upstream(BaseHTTPRequestHandler):
    """Records each request it receives and answers with a profile full of personal data."""

    seen: list[dict[str, Any]] = []

    def _answer(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length).decode("utf-8", "replace") if length else ""
        self.seen.append({
            "line": f"{self.command} {self.path}",
            "authorization": self.headers.get("Authorization"),
            "body": json.loads(body) if body.startswith("{") else body,
        })
        reply = json.dumps({"ok": True, "profile": PROFILE}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(reply)))
        self.end_headers()
        self.wfile.write(reply)

    do_GET = do_POST = _answer

    def log_message(self, format: str, *args: Any) -> None:
        return None


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _wait_ready(url: str, proc: subprocess.Popen[bytes], timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"veil proxy exited with {proc.returncode}")
        try:
            with urllib.request.urlopen(url, timeout=1) as reply:
                if reply.status == 200:
                    return
        except (urllib.error.URLError, OSError):
            pass
        time.sleep(0.1)
    raise RuntimeError(f"veil proxy was not ready within {timeout} s")


def _send(base: str, spec: dict[str, Any]) -> tuple[int, Any]:
    data = json.dumps(spec["body"]).encode() if spec["body"] is not None else None
    request = urllib.request.Request(base + spec["path"], data=data, headers=spec["headers"], method=spec["method"])
    with urllib.request.urlopen(request, timeout=10) as reply:
        return reply.status, json.loads(reply.read())


def _show(label: str, value: Any) -> None:
    text = json.dumps(value, indent=2, ensure_ascii=False) if not isinstance(value, str) else value
    print(f"--- {label}")
    print(text)


def run() -> int:
    """Run the demo; 0 when every request went through the proxy."""
    upstream = ThreadingHTTPServer(("127.0.0.1", _free_port()), _Upstream)
    threading.Thread(target=upstream.serve_forever, daemon=True).start()
    listen, admin = _free_port(), _free_port()
    upstream_url = f"http://127.0.0.1:{upstream.server_port}"
    command = [sys.executable, "-m", "veil.cli", "proxy", "--upstream", upstream_url,
               "--listen", f"127.0.0.1:{listen}", "--metrics-port", str(admin)]
    env = {k: v for k, v in os.environ.items() if k != "VEIL_POLICY"}  # the built-in default policy
    proc = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        _wait_ready(f"http://127.0.0.1:{admin}/readyz", proc)
        print(f"veil proxy (built-in default policy) on 127.0.0.1:{listen} -> demo upstream {upstream_url}\n")
        for spec in REQUESTS:
            print(f"=== {spec['title']}")
            _show("client sent", {"request": f"{spec['method']} {spec['path']}", "headers": spec["headers"],
                                  "body": spec["body"]})
            status, reply = _send(f"http://127.0.0.1:{listen}", spec)
            _show("arrived upstream", _Upstream.seen[-1])
            _show(f"came back to the client ({status})", reply)
            print()
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
        upstream.shutdown()
    print("Upstream response, before veil:")
    print(json.dumps({"ok": True, "profile": PROFILE}, indent=2))
    print(
        "\nPoint it at your own app:\n"
        "  veil proxy --upstream http://127.0.0.1:8000 --listen 127.0.0.1:8080 [--policy policy.yaml]\n"
        f"then send your traffic to 127.0.0.1:8080 (health and metrics on 127.0.0.1:{DEFAULT_ADMIN_PORT})."
    )
    return 0
