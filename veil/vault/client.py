"""A Python client of ``veil serve detokenize``.

    from veil.vault.client import DetokenizeClient
    client = DetokenizeClient("https://veil-detokenize:8700", api_key=os.environ["VEIL_CLIENT_SUPPORT_KEY"])
    restored = client.detokenize(b'{"email": "vtok_EMAIL_k1_..."}', "application/json")

Tokens outside the client's grant come back as they were. Raises
:class:`DetokenizeError` (with the HTTP status) on 401, 429 and other failures.
"""

from __future__ import annotations

import ssl

import httpx


class DetokenizeError(Exception):
    def __init__(self, status: int, message: str) -> None:
        self.status = status
        super().__init__(f"detokenize service answered {status}: {message}")


class DetokenizeClient:
    """Posts bodies to ``{url}/v1/detokenize`` with ``Authorization: Bearer {api_key}``."""

    def __init__(self, url: str, api_key: str, *, timeout: float = 10.0,
                 verify: bool | ssl.SSLContext = True) -> None:
        """``verify``: False, or an SSL context trusting the service's CA
        (``ssl.create_default_context(cafile=...)``); default: the system's CAs."""
        self._http = httpx.Client(base_url=url.rstrip("/"), timeout=timeout, verify=verify,
                                  headers={"authorization": f"Bearer {api_key}"})

    def detokenize(self, body: bytes | str, content_type: str = "text/plain; charset=utf-8") -> bytes:
        data = body.encode("utf-8") if isinstance(body, str) else body
        reply = self._http.post("/v1/detokenize", content=data, headers={"content-type": content_type})
        if reply.status_code != 200:
            raise DetokenizeError(reply.status_code, reply.text[:200])
        return reply.content

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> DetokenizeClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
