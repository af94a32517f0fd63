"""The configurations under load: how each is started (or reached), started all together, and probed.

Built-in: the bundled apps bare and with veil's middleware, plain mitmdump and
``veil proxy`` in front of the bare FastAPI app, and, when the ``veil[envoy]`` extra
is installed, Envoy alone and ``veil envoy`` in front of it too. A user's own app: ``baseline``
(without veil) and ``target`` (with it), from a command or a URL, optionally with
the two proxies in front of the baseline. The table is in :mod:`loadtests.runner`.
"""

from __future__ import annotations

import argparse
import os
import shlex
import shutil
import sys
from dataclasses import dataclass, field
from pathlib import Path

import httpx

from loadtests.leaks import LeakChecker
from loadtests.processes import RunError, Server, free_ports, start, wait_ready
from loadtests.scenario import Scenario

ROOT = Path(__file__).resolve().parents[1]

ENVOY_CONFIGS = ("envoy", "veil-envoy")
BUILTIN_CONFIGS = ("fastapi", "fastapi+veil", "flask", "flask+veil", "mitmdump", "veil-proxy", *ENVOY_CONFIGS)
SMOKE_LEFT_OUT = ("envoy",)
"""Left out of ``--smoke`` unless named in ``--only``: the smoke run has one Envoy configuration, veil's."""
OWN_CONFIGS = ("baseline", "target", "mitmdump", "veil-proxy")
KNOWN_CONFIGS = frozenset(BUILTIN_CONFIGS + OWN_CONFIGS)


@dataclass
class Target:
    """A configuration: how to start it (or its URL), and whether veil redacts its traffic."""

    name: str
    veil: bool
    cmd: list[str] = field(default_factory=list)  # {port} and {upstream} filled in at start
    env: dict[str, str] = field(default_factory=dict)
    cwd: Path = ROOT
    upstream: str | None = None  # the configuration a proxy sits in front of
    url: str = ""  # set when started (or given, for a service the runner does not start)
    external: bool = False
    own_command: bool = False  # a user's command: environment passed through, readiness = any answer


# -- configurations ---------------------------------------------------------------------


def _mitmdump() -> str:
    beside = Path(sys.executable).parent / "mitmdump"
    if beside.exists():
        return str(beside)
    found = shutil.which("mitmdump")
    if found is None:
        raise RunError("mitmdump not found next to this python nor on PATH (pip install 'veil[loadtest]')")
    return found


def _proxies(upstream: str, policy: str | None) -> list[Target]:
    veil_cmd = [sys.executable, "-m", "veil.cli", "proxy", "--upstream", "{upstream}", "--listen", "127.0.0.1:{port}",
                "--metrics-port", "0", "--confdir", "{confdir}"]
    if policy:
        veil_cmd += ["--policy", policy]
    return [
        Target("mitmdump", False, [_mitmdump(), "--mode", "reverse:{upstream}", "--listen-host", "127.0.0.1",
                                   "--listen-port", "{port}", "--set", "flow_detail=0", "--set", "confdir={confdir}",
                                   "-q"], upstream=upstream),
        Target("veil-proxy", True, veil_cmd, upstream=upstream),
    ]


def _envoys(upstream: str, policy: str | None) -> list[Target]:
    """Envoy alone (``loadtests/envoy.py``) and ``veil envoy`` (1 ext_proc worker), in front of ``upstream``.

    ``veil-envoy`` comes last: the sidecar picks its ext_proc port itself, after every
    port the runner handed out is bound.
    """
    alone = [sys.executable, "-m", "loadtests.envoy", "--listen-port", "{port}", "--upstream", "{upstream}",
             "--confdir", "{confdir}"]
    sidecar = [sys.executable, "-m", "veil.cli", "envoy", "--upstream", "{upstream}", "--listen", "127.0.0.1:{port}",
               "--workers", "1", "--metrics-port", "0"]
    if policy:
        alone += ["--policy", policy]
        sidecar += ["--policy", policy]
    return [Target("envoy", False, alone, upstream=upstream), Target("veil-envoy", True, sidecar, upstream=upstream)]


def builtin_targets(policy: str | None, with_envoy: bool = True) -> list[Target]:
    uvicorn = [sys.executable, "-m", "uvicorn", "--factory", "loadtests.apps:create_asgi_app", "--host", "127.0.0.1",
               "--port", "{port}", "--no-access-log", "--log-level", "warning", "--lifespan", "off",
               "--timeout-keep-alive", "120"]
    gunicorn = [sys.executable, "-m", "gunicorn", "--workers", "1", "--worker-class", "gthread", "--threads", "4",
                "--bind", "127.0.0.1:{port}", "--keep-alive", "120", "--log-level", "warning",
                "loadtests.apps:create_wsgi_app()"]
    veil_env = {"VEIL_LOADTEST_MIDDLEWARE": "1", **({"VEIL_POLICY": policy} if policy else {})}
    return [
        Target("fastapi", False, uvicorn),
        Target("fastapi+veil", True, uvicorn, env=veil_env),
        Target("flask", False, gunicorn),
        Target("flask+veil", True, gunicorn, env=veil_env),
        *_proxies("fastapi", policy),
        *(_envoys("fastapi", policy) if with_envoy else []),
    ]


def own_targets(args: argparse.Namespace) -> list[Target]:
    targets: list[Target] = []
    for name, veil, cmd, url in (("baseline", False, args.baseline_command, args.baseline_url),
                                 ("target", True, args.target_command, args.target_url)):
        if cmd and url:
            raise ValueError(f"give --{name}-command or --{name}-url, not both")
        if cmd:
            if "{port}" not in cmd:
                raise ValueError(f"--{name}-command must contain {{port}} (the runner picks a free port)")
            targets.append(Target(name, veil, shlex.split(cmd), cwd=Path.cwd(), own_command=True))
        elif url:
            targets.append(Target(name, veil, url=url.rstrip("/"), external=True))
    if args.proxy:
        if not any(t.name == "baseline" for t in targets):
            raise ValueError("--proxy puts the proxies in front of the baseline: give --baseline-command or --baseline-url")
        targets += _proxies("baseline", args.policy)
    if not targets:
        raise ValueError("give --baseline-command/--baseline-url and/or --target-command/--target-url")
    return targets


def select(targets: list[Target], only: str | None) -> tuple[list[Target], list[Target]]:
    """(configurations to load, processes to start: those plus the upstreams their proxies need)."""
    if not only:
        return targets, targets
    wanted = [w.strip() for w in only.split(",") if w.strip()]
    by_name = {t.name: t for t in targets}
    unknown = [w for w in wanted if w not in by_name]
    if unknown:
        raise ValueError(f"--only: unknown configuration {unknown[0]!r} (expected some of {', '.join(by_name)})")
    needed = set(wanted) | {by_name[w].upstream for w in wanted if by_name[w].upstream}
    return [by_name[w] for w in wanted], [t for t in targets if t.name in needed]


# -- start and probe ----------------------------------------------------------------------


def base_env(drop_policy: bool) -> dict[str, str]:
    """A child's environment: no LOCUST_* settings, the repo root importable, VEIL_POLICY dropped if asked."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("LOCUST_")}
    if drop_policy:
        env.pop("VEIL_POLICY", None)
    env["PYTHONUNBUFFERED"] = "1"
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(ROOT), os.environ.get("PYTHONPATH", "")) if p)
    return env


def start_all(targets: list[Target], servers: list[Server], workdir: Path, scenario: Scenario, seed: int,
              policy: str | None, lenient: bool) -> None:
    """Start every non-external target, apps before proxies, into ``servers``; wait until each answers.

    Each process is added to ``servers`` as soon as it is started, so the caller's
    ``finally: stop(servers)`` reaches it even when a later one fails to start.
    ``lenient`` (a user's app): ready once the ready path answers anything below 500, not only 200.
    """
    ports = dict(zip([t.name for t in targets], free_ports(len(targets)), strict=True))
    by_name = {t.name: t for t in targets}
    for t in targets:
        if not t.external:
            t.url = f"http://127.0.0.1:{ports[t.name]}"
    for t in sorted(targets, key=lambda t: t.upstream is not None):  # apps first
        if t.external:
            continue
        confdir = workdir / f"{t.name}-conf"
        if any("{confdir}" in part for part in t.cmd):
            confdir.mkdir(exist_ok=True)  # each proxy's own CA, never ~/.mitmproxy
        upstream = by_name[t.upstream].url if t.upstream else ""
        cmd = [part.format(port=ports[t.name], upstream=upstream, confdir=confdir) if "{" in part else part
               for part in t.cmd]
        env = {**base_env(drop_policy=not t.own_command), **t.env, "VEIL_LOADTEST_SEED": str(seed)}
        if t.own_command:
            # `python`, `uvicorn`, `gunicorn` in a user's command: those of the runner's environment first.
            env["PATH"] = os.pathsep.join((str(Path(sys.executable).parent), env.get("PATH", "")))
            if policy:
                env["VEIL_POLICY"] = policy
        servers.append(start(t.name, cmd, env, workdir, t.cwd))
    started = {s.name: s for s in servers}
    for t in sorted(targets, key=lambda t: t.upstream is not None):
        took = wait_ready(started.get(t.name), t.url + scenario.ready_path, any_status=lenient)
        print(f"  {t.name} ready on {t.url} after {took:.1f} s", file=sys.stderr)


def probe(targets: list[Target], scenario: Scenario) -> tuple[list[str], list[str]]:
    """Each request once per configuration before the load: (problems, notes).

    Problems: a non-200 answer, or a seeded value in a veil configuration's
    response. Notes: a baseline whose response does *not* carry the values of its
    request, which would mean the leak check cannot see anything there.
    """
    problems: list[str] = []
    notes: list[str] = []
    for t in targets:
        with httpx.Client(base_url=t.url, timeout=30.0, trust_env=False) as client:
            for spec in scenario.requests:
                headers = {"content-type": spec.content_type} if spec.content_type else {}
                resp = client.request(spec.method, spec.path, content=spec.body or None, headers=headers)
                if resp.status_code != 200:
                    problems.append(f"{t.name} {spec.name}: HTTP {resp.status_code}")
                    continue
                checker = LeakChecker(spec.leak_substrings, spec.leak_values)
                found = checker.count(resp.content)
                if t.veil and found:
                    problems.append(f"{t.name} {spec.name}: {found} of {len(checker)} seeded PII values leaked")
                elif not t.veil and len(checker) and not found:
                    notes.append(f"{t.name} {spec.name}: the baseline response carries none of the "
                                 f"{len(checker)} values the leak check looks for")
    return problems, notes
