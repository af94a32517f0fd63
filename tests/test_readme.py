"""README.md runs as written (issue #16): the quick start, the tutorial, the CLI and every integration section.

A reader follows the README top to bottom in one directory, so the blocks run that way: in order, in
one temporary directory holding this repo's ``.venv`` (``. .venv/bin/activate`` works) and its
Makefile, with what one block leaves (``policy.yaml``, ``export VEIL_TOKEN_KEY=...``) there for the
next. By the fence's language:

- ``sh``: each command runs in bash (``pipefail``) with the environment the previous ones left; it
  must exit 0, print what the comments under it show (``# stdout line``, ``# stderr: line``), and
  never say that no rule of the policy applies (the tutorial's silent failure of issue #16).
  ``veil proxy``, ``veil extproc`` and ``veil envoy`` start servers: each runs until its ``--listen``
  address answers, then stops.
- ``python``: the block runs as a script; what it prints must be the comments under its calls.
- ``yaml``: written to the file the prose names (``policy.yaml``), then checked as a policy
  (a fragment without ``version:`` is checked under ``version: 1``).
- ``Try it:`` paragraphs: each server command (from the repo root, where the examples are) runs
  until it answers, the client commands after ``then`` run against it and must show redacted data.
- no language: console output. The README gives the mistake it shows (```X` mistyped as `Y```) and
  the command; the test makes that mistake and compares what veil prints.

Commands that cannot run here are excluded by name below, each with its reason.
"""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from tests.readme_blocks import Block, Step, TryIt, python_output, read_blocks, read_try_its, shell_steps

ROOT = Path(__file__).resolve().parents[1]
BLOCKS = read_blocks(ROOT / "README.md")

RUN_SECTIONS = ("veil", "Built-in profiles", "A five-minute tutorial", "CLI", "Logging", "Middleware:", "Proxy:",
                "Gateways:", "Metrics", "Outbound calls", "Narrowing the default")
"""Headings (``##``, or ``###`` under an excluded one; a prefix) whose blocks run: the quick start
(the top, ``# veil``), the tutorial, the CLI and the integrations."""

SKIPPED_SECTIONS = {
    "Policy reference": "an outline of every key: its values are placeholders (NAME, VAR, JSONPATH, ACTION)",
}
"""Sections with blocks that do not run, and why; ``Narrowing the default`` under it does run."""

EXCLUDED_COMMANDS = {
    r"make test\b": "multi-minute: type-checks and runs the whole suite, this test included",
    r"make (loadtest|bench)": "multi-minute load tests and benchmarks",
    r"pip install\b": "installs from the package index; this venv already has every extra",
    r"(kubectl|gcloud|docker|helm)\b": "deployment: needs a cluster, a cloud account or a Docker daemon",
    r"veil proxy --upstream URL\b": "URL is the reader's vendor (a placeholder), not an address",
}
"""Commands (a regex matched at the command's start) that the test does not run, with the reason."""

SERVER_COMMANDS = re.compile(r"veil (proxy|extproc|envoy)\b")
"""Commands that start a server: run until their ``--listen`` address accepts a connection, then stopped."""

NO_RULE_WARNING = re.compile(r"no rule of .* applies")

NAMED_FILE_CHECKS = {
    "settings.py": ("import django; django.setup(); from django.core.handlers.wsgi import WSGIHandler; WSGIHandler(); "
                    "from django.core.management import call_command; call_command('check', fail_level='WARNING')"),
}
"""How a Python block that is a named file is checked, once written (with DJANGO_SETTINGS_MODULE set to
its module): Django builds the middleware chain from the settings (veil's middleware compiles its
policy then) and runs ``manage.py check`` (veil's app checks the VEIL setting and the policy). A later
block naming the same file continues it."""

MISTAKE = re.compile(r"`(?P<good>[^`]+)` mistyped as `(?P<bad>[^`]+)`, `(?P<command>veil [^`]+)` prints")


def section_runs(block: Block) -> bool:
    return any(name.startswith(RUN_SECTIONS) for name in (block.section, block.subsection))


def excluded_reason(command: str) -> str | None:
    return next((reason for pattern, reason in EXCLUDED_COMMANDS.items() if re.match(pattern, command)), None)


@dataclass
class Workspace:
    """The reader's directory: files, environment, and what went wrong in each block."""

    path: Path
    env: dict[str, str]
    failures: dict[int, list[str]] = field(default_factory=dict)
    excluded: list[tuple[str, str]] = field(default_factory=list)
    ran: set[str] = field(default_factory=set)  # commands run, so a repeat (make demo) runs once

    def fail(self, block: Block, message: str) -> None:
        self.failures.setdefault(block.line, []).append(message)


def _prepare(path: Path) -> dict[str, str]:
    """The repo's venv, Makefile and pyproject.toml in ``path``; the pyproject dated before the venv's
    install marker, so ``make demo`` finds the venv installed (it is) instead of reinstalling."""
    (path / ".venv").symlink_to(ROOT / ".venv")
    (path / "Makefile").symlink_to(ROOT / "Makefile")
    (path / "pyproject.toml").write_bytes((ROOT / "pyproject.toml").read_bytes())
    installed = (ROOT / ".venv/bin/.installed").stat().st_mtime
    os.utime(path / "pyproject.toml", (installed - 60, installed - 60))
    env = {k: v for k, v in os.environ.items() if not k.startswith(("VEIL_", "PYTHON", "DJANGO_", "VIRTUAL_ENV"))}
    env["PATH"] = f"{ROOT / '.venv/bin'}{os.pathsep}{env.get('PATH', '')}"
    return env


def _run_shell(ws: Workspace, step: Step, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    """``step`` in bash, in the workspace, with its environment; the environment it leaves is kept."""
    after = ws.path / ".env-after"
    script = f"set -o pipefail\n{step.code}\n__status=$?\nenv -0 > {after}\nexit $__status\n"
    proc = subprocess.run(["bash", "-c", script], cwd=ws.path, env=ws.env, capture_output=True, text=True,
                          timeout=timeout)
    if after.exists():
        ws.env = dict(item.split("=", 1) for item in after.read_text().split("\0") if "=" in item)
        after.unlink()
    return proc


def _listen_address(command: str) -> tuple[str, int]:
    match = re.search(r"--listen\s+(\S+):(\d+)", command)
    return (match[1], int(match[2])) if match else ("127.0.0.1", 8080)


def _run_server(ws: Workspace, block: Block, step: Step, timeout: float = 30) -> None:
    """Start ``step`` (a server), wait for its listen address to accept a connection, stop it."""
    host, port = _listen_address(step.code)
    log = ws.path / f".server-{step.line}.log"
    with open(log, "wb") as out:
        proc = subprocess.Popen(["bash", "-c", f"exec {step.code}"], cwd=ws.path, env=ws.env, stdout=out,
                                stderr=subprocess.STDOUT, start_new_session=True)
    try:
        deadline = time.monotonic() + timeout
        while proc.poll() is None and time.monotonic() < deadline:
            try:
                socket.create_connection((host, port), timeout=1).close()
                return
            except OSError:
                time.sleep(0.2)
        state = f"exited with {proc.returncode}" if proc.poll() is not None else f"did not listen within {timeout} s"
        ws.fail(block, f"line {step.line}: `{step.code}` {state}:\n{log.read_text()}")
    finally:
        _stop(proc)


def _check_output(ws: Workspace, block: Block, step: Step, proc: subprocess.CompletedProcess[str]) -> None:
    where = f"line {step.line}: `{step.code}`"
    if proc.returncode != 0:
        ws.fail(block, f"{where} exited {proc.returncode}:\n{proc.stdout}{proc.stderr}")
        return
    if NO_RULE_WARNING.search(proc.stderr):
        ws.fail(block, f"{where} applied no rule: {proc.stderr.strip()}")
    if step.stdout and tuple(proc.stdout.splitlines()) != step.stdout:
        ws.fail(block, f"{where} printed {proc.stdout.splitlines()}, the README shows {list(step.stdout)}")
    if step.stderr and tuple(line.strip() for line in proc.stderr.splitlines()) != step.stderr:
        ws.fail(block, f"{where} wrote {proc.stderr.splitlines()} on stderr, the README shows {list(step.stderr)}")


def _run_sh(ws: Workspace, block: Block) -> None:
    for step in shell_steps(block):
        command = step.code.split("#", 1)[0].strip()
        reason = excluded_reason(command)
        if reason is not None:
            ws.excluded.append((command, reason))
        elif command in ws.ran and not (step.stdout or step.stderr):
            continue  # the same command, promising no output, already ran as written
        elif SERVER_COMMANDS.match(command):
            _run_server(ws, block, step)
        else:
            _check_output(ws, block, step, _run_shell(ws, step))
        ws.ran.add(command)


def _run_python(ws: Workspace, block: Block) -> None:
    python = str(ROOT / ".venv/bin/python")
    named = block.named_file
    script = ws.path / (named or f"readme_{block.line}.py")
    with open(script, "a" if named else "w", encoding="utf-8") as out:  # a named file may come in parts
        out.write(block.text)
    if named is not None:
        check = NAMED_FILE_CHECKS.get(named)
        if check is None:
            ws.fail(block, f"no check for the file {named}: add one to NAMED_FILE_CHECKS")
            return
        proc = subprocess.run([python, "-c", check], cwd=ws.path, capture_output=True, text=True, timeout=120,
                              env={**ws.env, "DJANGO_SETTINGS_MODULE": named.removesuffix(".py"), "PYTHONPATH": "."})
    else:
        proc = subprocess.run([python, script.name], cwd=ws.path, capture_output=True, text=True, timeout=120,
                              env=ws.env)
    if proc.returncode != 0:
        ws.fail(block, f"exited {proc.returncode}:\n{proc.stdout}{proc.stderr}")
        return
    if named is not None:
        return  # a file the reader writes prints nothing itself; its check passed
    shown = python_output(block)
    printed = tuple((proc.stdout + proc.stderr).splitlines())
    if printed != shown:
        ws.fail(block, f"printed {list(printed)}, the README shows {list(shown)}")


def _run_yaml(ws: Workspace, block: Block) -> None:
    """A named file is written for the commands after it (they check it, with the keys they set
    up); a policy shown without a name is checked here."""
    if block.named_file is not None:
        (ws.path / block.named_file).write_text(block.text, encoding="utf-8")
        return
    path = ws.path / f"readme_{block.line}.yaml"
    text = block.text if re.search(r"^version:", block.text, re.M) else "version: 1\n" + block.text
    path.write_text(text, encoding="utf-8")
    env = {"VEIL_TOKEN_KEY": "ab" * 32, **ws.env}  # a sketch's key names a variable the reader would set
    proc = subprocess.run(["veil", "check", path.name], cwd=ws.path, env=env, capture_output=True, text=True,
                          timeout=60)
    path.unlink()
    if proc.returncode != 0:
        ws.fail(block, f"is not a valid policy: {proc.stderr.strip()}")


def _run_console(ws: Workspace, block: Block) -> None:
    """Output shown without a command: make the mistake the prose names and compare."""
    mistake = MISTAKE.search(block.intro)
    if mistake is None:
        ws.fail(block, "console output with no `X` mistyped as `Y`, `veil ...` prints: say how to get it")
        return
    scratch = ws.path / f"mistake-{block.line}"
    scratch.mkdir()
    target = re.findall(r"\S+\.ya?ml", mistake["command"])
    for name in target:
        text = (ws.path / name).read_text(encoding="utf-8")
        if mistake["good"] not in text:
            ws.fail(block, f"{name} holds no {mistake['good']!r} to mistype")
            return
        (scratch / name).write_text(text.replace(mistake["good"], mistake["bad"], 1), encoding="utf-8")
    proc = subprocess.run(["bash", "-c", mistake["command"]], cwd=scratch, env=ws.env, capture_output=True,
                          text=True, timeout=60)
    if proc.returncode != 2 or (proc.stdout + proc.stderr) != block.text:
        ws.fail(block, f"`{mistake['command']}` exited {proc.returncode} printing {proc.stdout + proc.stderr!r}; "
                       f"the README shows {block.text!r} (exit 2)")


RUNNERS = {"sh": _run_sh, "python": _run_python, "yaml": _run_yaml, "": _run_console}


@pytest.fixture(scope="module")
def walkthrough(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Workspace]:
    """Every block of the sections that run, in order, in one directory: run once for this module."""
    path = tmp_path_factory.mktemp("reader")
    ws = Workspace(path, _prepare(path))
    for block in BLOCKS:
        if section_runs(block):
            runner = RUNNERS.get(block.lang)
            if runner is None:
                ws.fail(block, f"no runner for ```{block.lang} blocks: add one to RUNNERS")
            else:
                runner(ws, block)
    yield ws


RUN_BLOCKS = [block for block in BLOCKS if section_runs(block)]


@pytest.mark.parametrize("block", RUN_BLOCKS, ids=[f"{b.line}-{b.lang or 'console'}" for b in RUN_BLOCKS])
def test_readme_block_runs_as_written(walkthrough: Workspace, block: Block) -> None:
    failures = walkthrough.failures.get(block.line)
    if failures:
        pytest.fail(f"{block.where}:\n" + "\n".join(failures), pytrace=False)


def test_every_section_with_blocks_runs_or_says_why_not() -> None:
    unclassified = {b.section for b in BLOCKS if not section_runs(b) and b.section not in SKIPPED_SECTIONS}
    assert not unclassified, f"add these README sections to RUN_SECTIONS or SKIPPED_SECTIONS: {unclassified}"


def test_the_quick_start_tutorial_and_integrations_are_covered() -> None:
    """The extractor finds the blocks it is for: a heading renamed must not silently empty the test."""
    covered = {b.section for b in RUN_BLOCKS}
    for section in ("veil", "A five-minute tutorial", "Logging", "Outbound calls (httpx)", "Metrics"):
        assert section in covered
    assert {b.lang for b in RUN_BLOCKS} >= {"sh", "python", "yaml", ""}


def test_no_tutorial_command_is_left_out() -> None:
    """The exclusions never reach the tutorial: it runs whole."""
    tutorial = [b for b in RUN_BLOCKS if b.section == "A five-minute tutorial" and b.lang == "sh"]
    commands = [step.code.split("#", 1)[0].strip() for block in tutorial for step in shell_steps(block)]
    assert commands and not [c for c in commands if excluded_reason(c)]


def test_what_was_left_out_is_what_the_table_names(walkthrough: Workspace) -> None:
    """Every shell command of the running sections either ran or was excluded by a named pattern."""
    commands = [step.code.split("#", 1)[0].strip() for block in RUN_BLOCKS if block.lang == "sh"
                for step in shell_steps(block)]
    left_out = [command for command, _ in walkthrough.excluded]
    assert left_out == [c for c in commands if excluded_reason(c)]
    assert all(reason == excluded_reason(command) for command, reason in walkthrough.excluded)


@pytest.mark.parametrize(
    ("command", "excluded"),
    [
        ("make test", True),
        ("make demo", False),           # near miss: a quick target runs
        ("make testing", False),
        ("pip install 'veil[proxy]'", True),
        ("kubectl apply -f x.yaml", True),
        ("veil proxy --upstream URL --policy p.yaml", True),
        ("veil proxy --upstream http://127.0.0.1:8000", False),  # a real address runs, bounded
    ],
)
def test_exclusions_match_by_name(command: str, excluded: bool) -> None:
    assert (excluded_reason(command) is not None) is excluded


# -- Try it: paragraphs ---------------------------------------------------------------------

TRY_ITS = read_try_its(ROOT / "README.md")


def _port_of(clients: tuple[str, ...]) -> int:
    ports = {int(port) for client in clients for port in re.findall(r"localhost:(\d+)", client)}
    assert len(ports) == 1, f"one port expected in {clients}"
    return ports.pop()


def _free(port: int) -> bool:
    with socket.socket() as sock:
        return sock.connect_ex(("127.0.0.1", port)) != 0


def _stop(proc: subprocess.Popen[bytes]) -> None:
    """The server and what it started (runserver's reloader child): its whole process group."""
    try:
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(timeout=10)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(timeout=10)
    except ProcessLookupError:
        pass


@pytest.mark.parametrize(
    ("try_it", "server"),
    [(t, server) for t in TRY_ITS for server in t.servers],
    ids=[f"{t.line}-{server.split()[0]}-{i}" for t in TRY_ITS for i, server in enumerate(t.servers)],
)
def test_try_it_commands_answer_with_redacted_data(try_it: TryIt, server: str, tmp_path: Path) -> None:
    port = _port_of(try_it.clients)
    assert _free(port), f"port {port}, which {try_it.where} uses, is taken by another process"
    env = _prepare(tmp_path)
    log = tmp_path / "server.log"
    with open(log, "wb") as out:
        proc = subprocess.Popen(["bash", "-c", f"exec {server}"], cwd=ROOT, env=env, stdout=out,
                                stderr=subprocess.STDOUT, start_new_session=True)
    try:
        deadline = time.monotonic() + 30
        while _free(port):
            assert proc.poll() is None, f"`{server}` exited with {proc.returncode}:\n{log.read_text()}"
            assert time.monotonic() < deadline, f"`{server}` did not listen on {port} within 30 s:\n{log.read_text()}"
            time.sleep(0.2)
        for client in try_it.clients:
            done = subprocess.run(["bash", "-c", client], cwd=tmp_path, env=env, capture_output=True, text=True,
                                  timeout=30)
            assert done.returncode == 0, f"`{client}` exited {done.returncode}: {done.stderr}"
            assert "[REDACTED:" in done.stdout and "veil_redaction_failed" not in done.stdout, (client, done.stdout)
    finally:
        _stop(proc)


def test_try_it_paragraphs_are_found() -> None:
    """A server and a client each: an empty parse would test nothing."""
    assert len(TRY_ITS) >= 3 and all(t.servers and t.clients for t in TRY_ITS)
