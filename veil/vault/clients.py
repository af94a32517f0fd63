"""The clients file of ``veil serve detokenize``: who may reverse which tokens, how often.

    clients:
      support:
        key_env: VEIL_CLIENT_SUPPORT_KEY   # the API key, read from the environment (never the file)
        types: [EMAIL]                     # token types it may reverse; [] or absent: none; ["*"]: all
        scopes: [tenant-a]                 # optional: only tokens of these rule scopes
        rules: [customers]                 # optional: only tokens issued by these rule ids
        rate_limit: 600                    # requests per minute (a bucket of that many), default 600

Errors name the file, line and column, as policy errors do. Keys are kept only
as SHA-256 digests and compared in constant time.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass, field

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from veil.errors import PolicyError, PolicyErrors
from veil.rules.source import PolicySource, parse_policy_text
from veil.vault.resolve import Grant


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class ClientSpec(_Strict):
    key_env: str = Field(pattern=r"^[A-Za-z_][A-Za-z0-9_]*$")
    types: list[str] = Field(default_factory=list)
    scopes: list[str] | None = None
    rules: list[str] | None = None
    rate_limit: int = Field(default=600, ge=1)


class ClientsFile(_Strict):
    clients: dict[str, ClientSpec] = Field(min_length=1)


@dataclass
class _Bucket:
    capacity: float
    per_second: float
    tokens: float
    at: float
    lock: threading.Lock = field(default_factory=threading.Lock)

    def take(self, now: float) -> bool:
        with self.lock:
            self.tokens = min(self.capacity, self.tokens + (now - self.at) * self.per_second)
            self.at = now
            if self.tokens >= 1:
                self.tokens -= 1
                return True
            return False


@dataclass(frozen=True)
class Client:
    name: str
    grant: Grant
    digest: bytes
    bucket: _Bucket

    def allow_request(self) -> bool:
        """Take one request from the rate limit; False: over it (answer 429)."""
        return self.bucket.take(time.monotonic())


class Clients:
    """The clients of a file, found by their bearer key."""

    def __init__(self, clients: list[Client]) -> None:
        self._clients = clients

    def find(self, key: str) -> Client | None:
        digest = hashlib.sha256(key.encode("utf-8", "surrogatepass")).digest()
        found = None
        for client in self._clients:  # every one compared: the time says nothing about which matched
            if hmac.compare_digest(client.digest, digest):
                found = client
        return found

    @property
    def names(self) -> list[str]:
        return [c.name for c in self._clients]


def load_clients(path: str, environ: Mapping[str, str] | None = None) -> Clients:
    """Read and check the clients file at ``path``; PolicyError (file:line:col) on any problem."""
    env = os.environ if environ is None else environ
    try:
        with open(path, encoding="utf-8") as fh:
            text = fh.read()
    except OSError as exc:
        raise PolicyError(f"cannot read clients file: {exc.strerror or exc.__class__.__name__}", source=path) from None
    src = parse_policy_text(text, path)
    model = _validate(src)
    clients: list[Client] = []
    seen: dict[bytes, str] = {}
    for name, spec in model.clients.items():
        key = env.get(spec.key_env)
        if not key:
            raise src.error(("clients", name, "key_env"), f"environment variable {spec.key_env} is not set")
        digest = hashlib.sha256(key.encode("utf-8", "surrogatepass")).digest()
        if digest in seen:
            raise src.error(("clients", name, "key_env"), f"client '{name}' has the same key as '{seen[digest]}'")
        seen[digest] = name
        grant = Grant(frozenset(spec.types), None if spec.scopes is None else frozenset(spec.scopes),
                      None if spec.rules is None else frozenset(spec.rules))
        bucket = _Bucket(float(spec.rate_limit), spec.rate_limit / 60.0, float(spec.rate_limit), time.monotonic())
        clients.append(Client(name, grant, digest, bucket))
    return Clients(clients)


def _validate(src: PolicySource) -> ClientsFile:
    if not isinstance(src.data, dict):
        raise src.error((), "expected a mapping with 'clients'")
    try:
        return ClientsFile.model_validate(src.data)
    except ValidationError as exc:
        errors = []
        for err in exc.errors(include_url=False):
            loc = tuple(err["loc"])
            message = err["msg"]
            if err["type"] == "extra_forbidden":
                message = f"unknown field '{loc[-1]}'; expected one of: {', '.join(sorted(ClientSpec.model_fields))}"
            errors.append(src.error(loc, message))
        raise (PolicyErrors(errors) if len(errors) > 1 else errors[0]) from None
