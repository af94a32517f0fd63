"""Examples that run as scripts must keep running (server examples are run by their own tests)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).parent.parent


def test_httpx_egress_example_hides_the_value_from_the_vendor_only() -> None:
    env = {**os.environ, "VEIL_TOKEN_KEY": "ab" * 32}
    out = subprocess.run([sys.executable, "examples/httpx_egress.py"], cwd=ROOT, env=env,
                         capture_output=True, text=True, timeout=60, check=True).stdout
    vendor_line = next(line for line in out.splitlines() if line.startswith("vendor received:"))
    caller_line = next(line for line in out.splitlines() if line.startswith("caller sees:"))
    assert "jane.roe@example.com" not in vendor_line and "tok_EMAIL_k1_" in vendor_line
    assert "jane.roe@example.com" in caller_line
