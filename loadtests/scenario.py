"""What the Locust users send: request mix, bodies, and the values each response must not carry.

The built-in scenario targets the apps in :mod:`loadtests.apps`. A user's own app
gets its scenario from ``--payloads DIR`` (see :func:`load_user_scenario` and
loadtests/README.md). The runner writes the scenario to a JSON file whose path
it hands to the locustfile in ``$VEIL_LOADTEST_SCENARIO``.
"""

from __future__ import annotations

import base64
import json
from dataclasses import dataclass
from pathlib import Path

from loadtests.yamlfile import ConfigFileError, parse_root

JSON = "application/json"


@dataclass(frozen=True)
class RequestSpec:
    """One kind of request in the mix; ``name`` is its row in Locust's stats and in the tables."""

    name: str
    method: str
    path: str
    weight: int
    body: bytes = b""
    content_type: str = ""
    leak_substrings: tuple[str, ...] = ()  # raw substrings (free text)
    leak_values: tuple[str, ...] = ()  # whole values under sensitive keys (JSON string literals)
    payload: str = ""  # the bundled apps' body it carries ("10KB/realistic", "ndjson", "sse"): what --fresh varies

    def __repr__(self) -> str:  # never the seeded values
        return f"RequestSpec({self.name!r}, weight={self.weight}, {len(self.body)} B body)"


@dataclass(frozen=True)
class Scenario:
    requests: tuple[RequestSpec, ...]
    ready_path: str = "/health"
    budgeted: tuple[str, ...] = ()  # request names the budgets apply to (empty: the budgets file decides)

    def names(self) -> list[str]:
        return [r.name for r in self.requests]

    def to_json(self) -> str:
        return json.dumps({
            "ready_path": self.ready_path,
            "budgeted": list(self.budgeted),
            "requests": [{
                "name": r.name, "method": r.method, "path": r.path, "weight": r.weight,
                "body": base64.b64encode(r.body).decode(), "content_type": r.content_type,
                "leak_substrings": list(r.leak_substrings), "leak_values": list(r.leak_values),
                "payload": r.payload,
            } for r in self.requests],
        })

    @classmethod
    def from_json(cls, text: str) -> Scenario:
        data = json.loads(text)
        return cls(
            requests=tuple(RequestSpec(
                name=r["name"], method=r["method"], path=r["path"], weight=int(r["weight"]),
                body=base64.b64decode(r["body"]), content_type=r["content_type"],
                leak_substrings=tuple(r["leak_substrings"]), leak_values=tuple(r["leak_values"]),
                payload=r.get("payload", ""),
            ) for r in data["requests"]),
            ready_path=data["ready_path"],
            budgeted=tuple(data["budgeted"]),
        )


# (method, size, variant, weight): the 10 KB realistic rows are the budgeted ones.
BUILTIN_MIX: tuple[tuple[str, str, str, int], ...] = (
    ("GET", "10KB", "realistic", 8),
    ("POST", "10KB", "realistic", 4),
    ("GET", "10KB", "pii_free", 2),
    ("GET", "1KB", "realistic", 2),
    ("GET", "1KB", "pii_free", 1),
    ("POST", "1KB", "pii_free", 1),
    ("GET", "100KB", "realistic", 1),
    ("GET", "100KB", "pii_free", 1),
)
STREAM_WEIGHT = 1  # each of GET /ndjson and GET /sse


def builtin_scenario(seed: int) -> Scenario:
    """The mix for the bundled apps: mostly 10 KB JSON, some 1 KB and 100 KB, PII-dense and PII-free, streams."""
    from loadtests.payloads import json_payloads, ndjson_payload, sse_payload

    payloads = json_payloads(seed)
    requests: list[RequestSpec] = []
    for method, size, variant, weight in BUILTIN_MIX:
        p = payloads[(size, variant)]
        if method == "GET":
            name, path, body, ctype = f"GET /json/{size}/{variant}", f"/json/{size}/{variant}", b"", ""
        else:
            name, path, body, ctype = f"POST /echo {size} {variant}", "/echo", p.body, JSON
        requests.append(RequestSpec(name, method, path, weight, body, ctype,
                                    tuple(p.pii_substrings), tuple(p.pii_values), f"{size}/{variant}"))
    for p, path in ((ndjson_payload(seed), "/ndjson"), (sse_payload(seed), "/sse")):
        requests.append(RequestSpec(f"GET {path}", "GET", path, STREAM_WEIGHT, b"", "",
                                    tuple(p.pii_substrings), tuple(p.pii_values), path.lstrip("/")))
    return Scenario(tuple(requests), ready_path="/health")


SCENARIO_FILE = "scenario.yaml"
LEAKS_FILE = "must_not_leak.txt"


def _read_leak_file(path: Path) -> tuple[str, ...]:
    """One value per line; blank lines and lines starting with # are ignored."""
    lines = path.read_text(encoding="utf-8").splitlines()
    return tuple(line.strip() for line in lines if line.strip() and not line.lstrip().startswith("#"))


def load_user_scenario(directory: Path, post_path: str | None) -> Scenario:
    """The scenario for a user's own app, from ``--payloads DIR``.

    With ``DIR/scenario.yaml``: its ``requests`` (``method``, ``path``, optional
    ``name``, ``weight``, ``body`` file in DIR, ``content_type``), ``ready_path``,
    ``budgeted`` names and ``must_not_leak`` values. Without it: every
    ``DIR/*.json`` is POSTed to ``post_path``. Either way the values in
    ``DIR/must_not_leak.txt`` (one per line) are added to ``must_not_leak``; every
    response of a veil configuration is checked for every value.
    """
    if not directory.is_dir():
        raise ConfigFileError(str(directory), 1, 1, "", "--payloads: not a directory")
    leak_file = directory / LEAKS_FILE
    leaks = _read_leak_file(leak_file) if leak_file.exists() else ()
    scenario_file = directory / SCENARIO_FILE
    if scenario_file.exists():
        return _parse_user_scenario(scenario_file, leaks)
    samples = sorted(directory.glob("*.json"))
    if not samples:
        raise ConfigFileError(str(directory), 1, 1, "", f"--payloads: no {SCENARIO_FILE} and no *.json samples")
    if not post_path:
        raise ConfigFileError(str(directory), 1, 1, "", f"--payloads without {SCENARIO_FILE} needs --post-path")
    if not leaks:
        raise ConfigFileError(str(directory), 1, 1, "",
                              f"--payloads: no {LEAKS_FILE}; list the values that must not leak, one per line")
    return Scenario(tuple(
        RequestSpec(f"POST {post_path} {p.name}", "POST", post_path, 1, p.read_bytes(), JSON, leaks)
        for p in samples), ready_path="/")


def _parse_user_scenario(path: Path, leaks: tuple[str, ...]) -> Scenario:
    root = parse_root(path.read_text(encoding="utf-8"), str(path))
    top = root.mapping(("requests", "ready_path", "budgeted", "must_not_leak"), required=("requests",))
    values = leaks + (top["must_not_leak"].strings() if "must_not_leak" in top else ())
    if not values:
        raise root.error(f"give the values that must not leak: must_not_leak, or {LEAKS_FILE} next to this file")
    requests: list[RequestSpec] = []
    for item in top["requests"].sequence():
        keys = item.mapping(("name", "method", "path", "weight", "body", "content_type"), required=("path",))
        method = keys["method"].string().upper() if "method" in keys else "GET"
        if method not in ("GET", "POST", "PUT", "PATCH", "DELETE"):
            raise keys["method"].error(f"expected GET, POST, PUT, PATCH or DELETE, got {method!r}")
        route = keys["path"].string()
        if not route.startswith("/"):
            raise keys["path"].error(f"expected a path starting with '/', got {route!r}")
        body = b""
        if "body" in keys:
            body_path = path.parent / keys["body"].string()
            if not body_path.is_file():
                raise keys["body"].error(f"no such file {body_path}")
            body = body_path.read_bytes()
        ctype = keys["content_type"].string() if "content_type" in keys else (JSON if body else "")
        name = keys["name"].string() if "name" in keys else f"{method} {route}"
        if name in {r.name for r in requests}:
            raise item.error(f"duplicate request name {name!r} (give each a distinct name)")
        weight = keys["weight"].integer() if "weight" in keys else 1
        requests.append(RequestSpec(name, method, route, weight, body, ctype, values))
    if not requests:
        raise top["requests"].error("expected at least one request")
    budgeted = top["budgeted"].strings() if "budgeted" in top else ()
    unknown = [b for b in budgeted if b not in {r.name for r in requests}]
    if unknown:
        raise top["budgeted"].error(f"no request named {unknown[0]!r}")
    ready = top["ready_path"].string() if "ready_path" in top else "/"
    return Scenario(tuple(requests), ready_path=ready, budgeted=budgeted)
