"""Run a command with its stderr on a pseudo-terminal, as a user at a shell would: progress bars show."""

from __future__ import annotations

import os
import pty
import subprocess
from collections.abc import Mapping, Sequence


def run_with_terminal_stderr(
    command: Sequence[str | os.PathLike[str]], env: Mapping[str, str], timeout: float = 120,
) -> tuple[subprocess.CompletedProcess[bytes], bytes]:
    """(the finished process, with its stdout piped; what it drew on the terminal)."""
    controller, terminal = pty.openpty()
    try:
        proc = subprocess.run(list(command), stdout=subprocess.PIPE, stderr=terminal, env=dict(env),
                              timeout=timeout, check=False)
        os.close(terminal)
        drawn = b""
        while True:
            try:
                chunk = os.read(controller, 65536)
            except OSError:  # the terminal's other end is closed: all read
                break
            if not chunk:
                break
            drawn += chunk
    finally:
        os.close(controller)
    return proc, drawn
