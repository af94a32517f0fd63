"""The Redis vault: for a fleet of replicas sharing one vault.

Keys (``veil:{vault}:`` prefix): ``t:{token}`` a hash (lookup, subject, kid,
sealed, exp, scope, rule, forgotten); ``l:{lookup}`` the token issued for a
lookup; ``s:{subject}`` the set of a subject's tokens. Issuing and forgetting
are Lua scripts, so each is atomic on the server: concurrent issuers of one
value all get the first token. A token with a TTL keeps its record one day past
its expiry (to answer ``expired``), its lookup key exactly until it.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

from veil.rules.actions.vault_token import Resolved, VaultRecord, VaultUnavailable

_GRACE_SECONDS = 86400

_ISSUE = """
local existing = redis.call('GET', KEYS[1])
if existing then
  -- Still live unless its own expiry has passed (the key's PEXPIRE may lag a clock step).
  local exp = redis.call('HGET', ARGV[11] .. 't:' .. existing, 'exp')
  if not exp or exp == '' or tonumber(exp) > tonumber(ARGV[12]) then return existing end
end
redis.call('HSET', KEYS[2], 'lookup', ARGV[2], 'subject', ARGV[3], 'kid', ARGV[4], 'sealed', ARGV[5],
           'exp', ARGV[6], 'scope', ARGV[7], 'rule', ARGV[8], 'forgotten', '0')
redis.call('SET', KEYS[1], ARGV[1])
local ttl = tonumber(ARGV[9])
if ttl > 0 then
  redis.call('PEXPIRE', KEYS[1], ttl)
  redis.call('PEXPIRE', KEYS[2], ttl + tonumber(ARGV[10]))
end
if ARGV[3] ~= '' then redis.call('SADD', KEYS[3], ARGV[1]) end
return ARGV[1]
"""

_FORGET = """
local tokens = redis.call('SMEMBERS', KEYS[1])
local n = 0
for _, token in ipairs(tokens) do
  local key = ARGV[1] .. 't:' .. token
  if redis.call('HGET', key, 'forgotten') == '0' then
    local lookup = redis.call('HGET', key, 'lookup')
    if lookup then redis.call('DEL', ARGV[1] .. 'l:' .. lookup) end
    redis.call('HDEL', key, 'sealed', 'lookup')
    redis.call('HSET', key, 'forgotten', '1')
    n = n + 1
  end
end
redis.call('DEL', KEYS[1])
return n
"""

_REWRAP = """
if redis.call('HGET', KEYS[1], 'forgotten') ~= '0' then return 0 end
local ttl = redis.call('PTTL', KEYS[2])
redis.call('DEL', KEYS[2])
redis.call('HSET', KEYS[1], 'kid', ARGV[2], 'sealed', ARGV[3], 'lookup', ARGV[4], 'subject', ARGV[5])
redis.call('SET', KEYS[3], ARGV[1])
if ttl > 0 then redis.call('PEXPIRE', KEYS[3], ttl) end
if KEYS[4] ~= KEYS[5] then
  redis.call('SREM', KEYS[4], ARGV[1])
  if ARGV[5] ~= '' then redis.call('SADD', KEYS[5], ARGV[1]) end
end
return 1
"""


class RedisVault:
    """A :class:`veil.rules.actions.vault_token.VaultBackend` on a Redis server."""

    def __init__(self, name: str, url: str, *, timeout: float = 0.5) -> None:
        import redis  # veil[vault]: only a redis vault needs it

        self.name = name
        self.url = url
        self._errors: tuple[type[BaseException], ...] = (redis.RedisError, OSError)
        self._client = redis.Redis.from_url(url, socket_timeout=timeout, socket_connect_timeout=timeout)
        self._prefix = f"veil:{name}:"
        self._issue = self._client.register_script(_ISSUE)
        self._forget = self._client.register_script(_FORGET)
        self._rewrap = self._client.register_script(_REWRAP)

    def __repr__(self) -> str:
        return f"RedisVault({self.name!r})"

    def _call(self, fn: Any, *args: Any, **kwargs: Any) -> Any:
        try:
            return fn(*args, **kwargs)
        except self._errors as exc:
            raise VaultUnavailable(f"redis vault '{self.name}': {exc.__class__.__name__}") from None

    def issue(self, record: VaultRecord) -> str:
        p = self._prefix
        ttl_ms = 0 if record.expires_at is None else max(1, int((record.expires_at - time.time()) * 1000))
        token = self._call(
            self._issue,
            keys=[p + "l:" + record.lookup, p + "t:" + record.token, p + "s:" + record.subject],
            args=[record.token, record.lookup, record.subject, record.key_id, record.sealed,
                  "" if record.expires_at is None else repr(record.expires_at), record.scope, record.rule,
                  ttl_ms, _GRACE_SECONDS * 1000, p, repr(time.time())],
        )
        return token.decode("ascii") if isinstance(token, bytes) else str(token)

    def resolve(self, token: str) -> Resolved:
        fields = self._call(self._client.hgetall, self._prefix + "t:" + token)
        if not fields:
            return Resolved("unknown")
        if fields.get(b"forgotten") == b"1":
            return Resolved("forgotten")
        exp = fields.get(b"exp") or b""
        if (exp and float(exp) <= time.time()) or b"sealed" not in fields:
            return Resolved("expired")
        return Resolved("ok", _record(token, fields))

    def forget(self, subject: str) -> int:
        if not subject:
            raise ValueError("forget needs a subject digest")
        return int(self._call(self._forget, keys=[self._prefix + "s:" + subject], args=[self._prefix]))

    def records(self) -> Iterator[VaultRecord]:
        start = len(self._prefix) + 2
        for key in self._call(lambda: list(self._client.scan_iter(match=self._prefix + "t:*", count=500))):
            token = key.decode("ascii")[start:]
            resolved = self.resolve(token)
            if resolved.record is not None:
                yield resolved.record

    def rewrap(self, old: VaultRecord, new: VaultRecord) -> None:
        p = self._prefix
        self._call(self._rewrap, keys=[p + "t:" + old.token, p + "l:" + old.lookup, p + "l:" + new.lookup,
                                       p + "s:" + old.subject, p + "s:" + new.subject],
                   args=[old.token, new.key_id, new.sealed, new.lookup, new.subject])

    def close(self) -> None:
        self._client.close()


def _record(token: str, fields: dict[bytes, bytes]) -> VaultRecord:
    def text(name: bytes) -> str:
        return (fields.get(name) or b"").decode("utf-8")

    exp = text(b"exp")
    return VaultRecord(
        token=token, lookup=text(b"lookup"), subject=text(b"subject"), key_id=text(b"kid"),
        sealed=fields.get(b"sealed") or b"", expires_at=float(exp) if exp else None,
        scope=text(b"scope"), rule=text(b"rule"),
    )
