"""Stream memory benchmark: `veil apply` on NDJSON keeps a flat peak RSS however long the stream.

    python bench/stream_memory.py [--mb N] [--short-mb N] [--seed N] [--tolerance F]

Standalone script, not a test: ~4.5 min by default on a busy 2-CPU machine
(~30 s generating, the rest redacting at ~2-2.5 MB/s). It writes realistic NDJSON
(orders, chat messages, auth logs: e-mails, phones, cards, SSNs, IPs and IBANs
under sensitive keys and in free text; half the lines PII-free page events;
escapes such as \\" and \\n; non-ASCII as \\u00e9 on a quarter of the lines, raw
UTF-8 on the rest) line by line to a temporary file, a short stream (default
50 MB) then a long one
(default 500 MB; the same seed, so the short one is its beginning), and runs
`python -m veil.cli apply -t application/x-ndjson FILE` (the `veil apply`
command, this checkout's veil, built-in default policy) on each.
The output is read from a pipe as it streams and checked on the way: no line may
keep an ``@`` (every seeded e-mail must be gone) and every seeded value of every
500th line must be gone.

Prints, per stream: lines, MB/s (input bytes / the veil process's wall time,
start-up included), the peak RSS of the veil process (ru_maxrss from wait4) and
its RSS at 25/50/75% of the output; then the growth of the peak from the short
stream to the long one. Exits 1 if a seeded value appears in the output ("LEAK"
lines) or if the long stream's peak RSS exceeds the short one's by more than the
tolerance (default 20%); exits 2 if veil fails or loses lines.

The RSS rises over the first ~50 MB while the plan's caches fill (bounded by
entry count, 8192 each, then emptied): a short stream under ~50 MB measures
that warm-up, not growth with length (10 MB vs 100 MB read +27% here).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import random
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

import orjson  # noqa: E402
from payloads import _CITIES, _EVENTS, _LAST, _PRODUCTS, _STREETS, _WORDS, _FIRST  # noqa: E402
from payloads import card_number, email, iban, ipv4, phone, ssn  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
SAMPLE_EVERY = 500
"""Every 500th line's seeded values are kept (a few thousand at most) and looked for in its output line."""
POOL = 20_000
"""Distinct values per PII kind: drawn once, then picked at random (more than the verdict caches hold)."""
_NAMES = _FIRST + ("Zoë", "Mélanie", "Søren", "José", "Łukasz", "Björn")
_NOTES = ("please \"handle with care\"", "leave with neighbour\nif out", "café au lait — no sugar", "tab\there",
          "naïve question 🙂", "résumé attached", "déjà vu", "✓ confirmed")


@dataclass
class Stream:
    """One generated file and what its output is checked against."""

    path: Path
    size: int = 0
    lines: int = 0
    sampled: dict[int, tuple[str, ...]] = field(default_factory=dict)


class Pools:
    """Seeded PII values, generated once (making a Luhn-valid card per line would dominate the run)."""

    def __init__(self, rng: random.Random) -> None:
        self.emails = [email(rng) for _ in range(POOL)]
        self.phones = [phone(rng) for _ in range(POOL)]
        self.cards = [card_number(rng) for _ in range(POOL)]
        self.ssns = [ssn(rng) for _ in range(POOL)]
        self.ips = [ipv4(rng) for _ in range(POOL)]
        self.ibans = [iban(rng) for _ in range(POOL)]


def _order(rng: random.Random, pools: Pools, seq: int) -> tuple[dict[str, Any], tuple[str, ...]]:
    mail, tel, card = rng.choice(pools.emails), rng.choice(pools.phones), rng.choice(pools.cards)
    items = [{"sku": f"SKU-{rng.randrange(10_000):04d}", "name": rng.choice(_PRODUCTS), "qty": rng.randint(1, 4),
              "price": round(rng.uniform(2, 90), 2)} for _ in range(rng.randint(1, 3))]
    doc = {
        "seq": seq, "ts": f"2024-06-{rng.randint(1, 28):02d}T{rng.randrange(24):02d}:{rng.randrange(60):02d}:00Z",
        "type": "order.created", "id": f"ord_{rng.getrandbits(48):012x}",
        "customer": {"first_name": rng.choice(_NAMES), "last_name": rng.choice(_LAST), "email": mail, "phone": tel,
                     "address": f"{rng.randint(1, 220)} {rng.choice(_STREETS)}, {rng.choice(_CITIES)}"},
        "items": items, "payment": {"method": "card", "currency": "GBP", "total": round(rng.uniform(5, 300), 2)},
        "note": f"{rng.choice(_NOTES)} card on file {card}, call {tel}",
    }
    return doc, (mail, tel, card)


def _chat(rng: random.Random, pools: Pools, seq: int) -> tuple[dict[str, Any], tuple[str, ...]]:
    mail, tel, number = rng.choice(pools.emails), rng.choice(pools.phones), rng.choice(pools.ssns)
    words = " ".join(rng.choice(_WORDS) for _ in range(rng.randint(6, 16)))
    text = (f"Hi, {words}. My SSN is {number}, write to {mail} or ring {tel}.\n"
            f"{rng.choice(_NOTES)} — {rng.choice(_NAMES)}")
    doc = {"seq": seq, "type": "chat.message", "conversation": f"c_{rng.getrandbits(32):08x}", "role": "user",
           "content": text, "tokens": rng.randint(20, 400)}
    return doc, (mail, tel, number)


def _auth(rng: random.Random, pools: Pools, seq: int) -> tuple[dict[str, Any], tuple[str, ...]]:
    mail, addr, account = rng.choice(pools.emails), rng.choice(pools.ips), rng.choice(pools.ibans)
    doc = {"seq": seq, "level": rng.choice(("info", "warn")), "logger": "auth",
           "msg": f"login from {addr} for {mail}: \"ok\"", "payout": {"iban": account, "holder": rng.choice(_NAMES)},
           "latency_ms": rng.randint(3, 900)}
    return doc, (mail, addr, account)


def _event(rng: random.Random, pools: Pools, seq: int) -> tuple[dict[str, Any], tuple[str, ...]]:
    doc = {"seq": seq, "type": rng.choice(_EVENTS), "session": f"s_{rng.getrandbits(40):010x}",
           "page": f"/products/{rng.randrange(5000)}", "query": " ".join(rng.choice(_WORDS) for _ in range(3)),
           "product": rng.choice(_PRODUCTS), "label": rng.choice(_NOTES), "ms": rng.randint(5, 2000)}
    return doc, ()


def ndjson_lines(seed: int, pools: Pools) -> Iterator[tuple[bytes, tuple[str, ...]]]:
    """Endless seeded NDJSON lines and their PII values; a quarter ASCII-escaped (\\u00e9, \\ud83d\\ude42).

    Half the lines are PII-free page events: a stream is not all personal data."""
    rng = random.Random(seed)
    makers = (_order, _chat, _auth, _event, _event, _event)
    seq = 0
    while True:
        doc, values = rng.choice(makers)(rng, pools, seq)
        line = json.dumps(doc).encode() if seq % 4 == 0 else orjson.dumps(doc)
        yield line + b"\n", values
        seq += 1


def write_stream(path: Path, target: int, seed: int, pools: Pools) -> Stream:
    """``target`` bytes of NDJSON to ``path``, written a batch of lines at a time."""
    stream = Stream(path)
    batch: list[bytes] = []
    with open(path, "wb") as out:
        for line, values in ndjson_lines(seed, pools):
            if stream.lines % SAMPLE_EVERY == 0:
                stream.sampled[stream.lines] = values
            batch.append(line)
            stream.size += len(line)
            stream.lines += 1
            if len(batch) == 2048 or stream.size >= target:
                out.write(b"".join(batch))
                batch.clear()
            if stream.size >= target:
                return stream
    raise AssertionError("unreachable: the generator is endless")


def rss_kb(pid: int) -> int:
    try:
        with open(f"/proc/{pid}/status") as status:
            for row in status:
                if row.startswith("VmRSS:"):
                    return int(row.split()[1])
    except OSError:
        pass
    return 0


@dataclass
class Run:
    seconds: float = 0.0
    peak_kb: int = 0
    rss_kb: list[int] = field(default_factory=list)
    lines: int = 0
    leaks: list[str] = field(default_factory=list)
    code: int = 0
    stderr: str = ""


def check_output(out: IO[bytes], stream: Stream, run: Run, pid: int) -> None:
    """Read veil's output line by line as it streams; look for seeded values; sample RSS at 25/50/75%."""
    marks = {stream.lines * q // 4 for q in (1, 2, 3)}
    for number, line in enumerate(out):
        if number in marks:
            run.rss_kb.append(rss_kb(pid))
        if b"@" in line and len(run.leaks) < 20:
            run.leaks.append(f"line {number + 1}: an e-mail address ('@') survived")
        values = stream.sampled.get(number)
        if values is not None:
            run.leaks.extend(f"line {number + 1}: a seeded value survived" for v in values if v.encode() in line)
        run.lines = number + 1


def run_veil(stream: Stream) -> Run:
    """``veil apply`` on the stream's file, its output piped back here; peak RSS from wait4."""
    run = Run()
    env = {k: v for k, v in os.environ.items() if k != "VEIL_POLICY"}  # the built-in default policy
    with tempfile.TemporaryFile() as err:
        started = time.perf_counter()
        proc = subprocess.Popen(
            [sys.executable, "-m", "veil.cli", "apply", "-t", "application/x-ndjson", str(stream.path)],
            cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=err, bufsize=1 << 20,
        )
        assert proc.stdout is not None
        check_output(proc.stdout, stream, run, proc.pid)
        proc.stdout.close()
        _, status, usage = os.wait4(proc.pid, 0)  # this child's own rusage, unlike RUSAGE_CHILDREN
        run.seconds = time.perf_counter() - started
        proc.returncode = run.code = os.waitstatus_to_exitcode(status)
        run.peak_kb = usage.ru_maxrss  # KiB on Linux
        err.seek(0)
        run.stderr = err.read(2000).decode(errors="replace")
    return run


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--mb", type=float, default=500, help="the long stream, in MB (10^6 bytes)")
    ap.add_argument("--short-mb", type=float, default=None, help="the short stream (default: 50 or half of --mb)")
    ap.add_argument("--seed", type=int, default=20240601)
    ap.add_argument("--tolerance", type=float, default=0.20, help="allowed growth of the peak RSS (0.20 = 20%%)")
    args = ap.parse_args(argv)
    if sys.platform != "linux":
        print("needs Linux (/proc, wait4)", file=sys.stderr)
        return 2
    started = time.perf_counter()
    print(f"# veil stream memory: `veil apply -t application/x-ndjson FILE`, built-in default policy, seed {args.seed}")
    print(f"- machine: {platform.platform()}; os.cpu_count()={os.cpu_count()}; Python {platform.python_version()}")
    pools = Pools(random.Random(args.seed))
    print(f"\n{'stream':>9} {'lines':>10} {'gen s':>6} {'veil s':>7} {'MB/s':>6} {'peak RSS':>9}  RSS at 25/50/75%")
    runs: list[tuple[float, Run]] = []
    failed = False
    with tempfile.TemporaryDirectory(prefix="veil-stream-") as tmp:
        short_mb = args.short_mb if args.short_mb is not None else min(50.0, args.mb / 2)
        for mb in (short_mb, args.mb):
            gen_started = time.perf_counter()
            stream = write_stream(Path(tmp) / f"{mb:g}mb.ndjson", int(mb * 1e6), args.seed, pools)
            gen_seconds = time.perf_counter() - gen_started
            run = run_veil(stream)
            stream.path.unlink()
            runs.append((mb, run))
            rss = "/".join(f"{kb / 1024:.0f}" for kb in run.rss_kb)
            print(f"{stream.size / 1e6:>6.0f} MB {stream.lines:>10,} {gen_seconds:>6.1f} {run.seconds:>7.1f} "
                  f"{stream.size / 1e6 / run.seconds:>6.1f} {run.peak_kb / 1024:>6.1f} MB  {rss} MB")
            if run.code != 0 or run.lines != stream.lines:
                print(f"FAIL: veil exited {run.code} after {run.lines} of {stream.lines} lines: {run.stderr.strip()}")
                failed = True
            for leak in run.leaks:
                print(f"LEAK: {leak}")
            checked = sum(len(v) for v in stream.sampled.values())
            print(f"{'':>9} leak check: every line for '@', {len(stream.sampled):,} sampled lines "
                  f"({checked:,} seeded values): {'LEAK' if run.leaks else 'nothing found'}")
    if failed:
        return 2
    (short_mb, short), (long_mb, long) = runs
    growth = long.peak_kb / short.peak_kb - 1
    verdict = "OK" if growth <= args.tolerance else "FAIL"
    print(f"\npeak RSS {short.peak_kb / 1024:.1f} MB at {short_mb:g} MB -> {long.peak_kb / 1024:.1f} MB at "
          f"{long_mb:g} MB: {growth:+.1%} (tolerance {args.tolerance:.0%}): {verdict}")
    print(f"total {time.perf_counter() - started:.0f} s")
    return 1 if verdict == "FAIL" or any(run.leaks for _, run in runs) else 0


if __name__ == "__main__":
    sys.exit(main())
