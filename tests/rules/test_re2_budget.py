"""The plan's RE2 patterns fit their DFA budget (veil.rules.regex._MAX_MEM).

When a pattern's program outgrows the DFA's share of the budget, RE2 logs "DFA out of memory"
to stderr and runs every search on its NFA, many times slower, whatever the input: a detector
edit that enlarged the combined alternation did exactly that at 64 MiB. Checked in a fresh
process, since RE2 logs once per pattern and pyre2 caches compiled patterns.
"""

from __future__ import annotations

import subprocess
import sys

SCRIPT = """
import orjson, veil
from veil.rules.detectors import PRIORITY
plan = veil.default_plan()
text = "born 1985-03-12, jane@example.com, +44 20 7946 0958, 4111 1111 1111 1111, tok_A_k1_b_00:1a:2b:3c:4d:5e"
plan.redact_text(text)
plan.redact_body(orjson.dumps({"note": text, "email": "jane@example.com", "msg": "line\\nwith \\"escapes\\""}),
                 "application/json")
plan.redact_body(b"a=1&email=jane%40example.com", "application/x-www-form-urlencoded")
everything = veil.compile_policy("version: 1\\nrules:\\n  - scan: {detectors: [%s]}\\n" % ", ".join(PRIORITY))
everything.redact_text(text)
print("ok")
"""


def test_the_plans_patterns_fit_the_dfa_budget() -> None:
    done = subprocess.run([sys.executable, "-c", SCRIPT], capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    assert "DFA out of memory" not in done.stderr, done.stderr
    assert done.stdout.strip() == "ok"
