"""A policy veil cannot compile stops the app from starting, under the servers users run (issue #16).

Before: Starlette builds ``add_middleware`` middlewares inside the lifespan call, where uvicorn
logged "ASGI 'lifespan' protocol appears unsupported", then "Application startup complete", and
answered 500 to every request; ``manage.py check`` passed a Django project with a bad policy.
Each server must exit (or, for runserver's reloader, never serve) and print the policy's
``file:line:col`` message, the same text ``veil.load_policy`` raises.
"""

from __future__ import annotations

import os
import re
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

import veil
from tests.servers import ROOT, free_port, running

# One mistake at a known place: the action of a scan (line 6, column 7).
BAD_POLICY = """\
version: 1
rules:
  - id: contact
    scan:
      detectors: [EMAIL]
      action: mask_everything
"""


@pytest.fixture(scope="module")
def bad_policy(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    """(the policy file, the message veil itself gives for it)."""
    path = tmp_path_factory.mktemp("policy") / "policy.yaml"
    path.write_text(BAD_POLICY)
    with pytest.raises(veil.PolicyError) as info:
        veil.load_policy(path)
    message = str(info.value)
    assert re.match(rf"{re.escape(str(path))}:\d+:\d+: ", message), message  # file:line:col, as users see it
    return path, message


def environ(policy: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("VEIL_POLICY", "DJANGO_SETTINGS_MODULE")}
    return {**env, "STARTUP_POLICY": str(policy)}


def run_to_exit(args: list[str], policy: Path, timeout: float = 30) -> tuple[int, str]:
    """``python -m <args>`` from the repo root: (exit status, its output). A server still running
    after ``timeout`` s started although it must not: the test fails with its output."""
    log = policy.parent / f"{'-'.join(args[:2])}.log"
    with running(args[0], [sys.executable, "-m", *args], env=environ(policy), log=log, cwd=ROOT) as server:
        try:
            status = server.proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            pytest.fail(f"{args[0]} was still running after {timeout} s: it started with a bad policy\n"
                        f"{log.read_text()}")
    return status, log.read_text()


def listening(port: int) -> bool:
    with socket.socket() as sock:
        return sock.connect_ex(("127.0.0.1", port)) == 0


ASGI_SERVERS = {
    "uvicorn": ["uvicorn", "tests.integrations.startup_fastapi_app:app", "--host", "127.0.0.1", "--port"],
    "gunicorn-uvicorn-worker": ["gunicorn", "-k", "uvicorn.workers.UvicornWorker",
                                "tests.integrations.startup_fastapi_app:app", "--bind"],
}


@pytest.mark.parametrize("server", ASGI_SERVERS)
def test_asgi_servers_refuse_to_start_a_fastapi_app_whose_add_middleware_policy_is_bad(
    server: str, bad_policy: tuple[Path, str],
) -> None:
    path, message = bad_policy
    port = free_port()
    status, output = run_to_exit(ASGI_SERVERS[server] + [str(port) if server == "uvicorn" else f"127.0.0.1:{port}"],
                                 path)
    assert status != 0, output
    assert message in output, output
    assert "Application startup complete" not in output and "appears unsupported" not in output, output


def test_uvicorn_with_lifespan_off_answers_500_and_never_calls_the_app(bad_policy: tuple[Path, str]) -> None:
    """Without the lifespan protocol nothing can stop the server: every request fails closed, logged."""
    import httpx

    from tests.servers import serve

    path, message = bad_policy
    port = free_port()
    args = ["uvicorn", "tests.integrations.startup_fastapi_app:app", "--lifespan", "off", "--host", "127.0.0.1",
            "--port", str(port)]
    log = path.parent / "uvicorn-lifespan-off.log"
    with serve(args, port=port, ready="/", log=log, env={"STARTUP_POLICY": str(path)}) as base:
        response = httpx.get(base + "/")
    assert response.status_code == 500 and "jane@example.com" not in response.text
    assert message in log.read_text()


def test_gunicorn_refuses_to_start_a_flask_app_whose_policy_is_bad(bad_policy: tuple[Path, str]) -> None:
    path, message = bad_policy
    status, output = run_to_exit(
        ["gunicorn", "--bind", f"127.0.0.1:{free_port()}", "tests.integrations.startup_flask_app:app"], path)
    assert status != 0, output
    assert message in output and "Worker failed to boot" in output, output


def test_manage_py_check_reports_the_policy_error(bad_policy: tuple[Path, str]) -> None:
    path, message = bad_policy
    status, output = run_to_exit(
        ["django", "check", "--settings=tests.integrations.startup_django_settings"], path)
    assert status == 1, output
    assert f"(veil.E002) {message}" in output, output


def test_django_runserver_reports_the_policy_error_in_its_checks_and_never_serves(
    bad_policy: tuple[Path, str],
) -> None:
    """runserver's reloader keeps the process alive to wait for a fix; it must not serve meanwhile."""
    path, message = bad_policy
    port = free_port()
    log = path.parent / "runserver.log"
    cmd = [sys.executable, "-m", "django", "runserver", f"127.0.0.1:{port}",
           "--settings=tests.integrations.startup_django_settings"]
    with running("runserver", cmd, env=environ(path), log=log, cwd=ROOT) as server:  # its reloader's child too
        deadline = time.monotonic() + 30
        while f"(veil.E002) {message}" not in log.read_text() and server.proc.poll() is None:
            if time.monotonic() > deadline:
                pytest.fail(f"runserver did not report the policy error:\n{log.read_text()}")
            time.sleep(0.1)
        assert not listening(port), log.read_text()
        assert "Starting development server" not in log.read_text()


def test_uvicorn_logs_the_strict_default_notice_once(tmp_path: Path) -> None:
    """No policy anywhere: builtin:strict runs, and the log says so in one line naming builtin:app."""
    import httpx

    from tests.servers import serve
    from veil.observe.startup import STRICT_NOTICE

    port = free_port()
    log = tmp_path / "uvicorn.log"
    args = ["uvicorn", "tests.integrations.startup_fastapi_app:app", "--host", "127.0.0.1", "--port", str(port)]
    with serve(args, port=port, ready="/", log=log, drop_env=("VEIL_POLICY", "STARTUP_POLICY")) as base:
        for _ in range(3):
            response = httpx.get(base + "/")
            assert response.status_code == 200 and "jane@example.com" not in response.text
    assert log.read_text().count(STRICT_NOTICE) == 1, log.read_text()


def test_django_runserver_serves_once_the_policy_file_is_fixed(tmp_path: Path) -> None:
    """The reloader watches the policy file: fixing it restarts runserver, which then serves, redacted."""
    import httpx

    policy = tmp_path / "policy.yaml"
    policy.write_text(BAD_POLICY)
    port = free_port()
    log = tmp_path / "runserver.log"
    cmd = [sys.executable, "-m", "django", "runserver", f"127.0.0.1:{port}",
           "--settings=tests.integrations.startup_django_settings"]
    with running("runserver", cmd, env=environ(policy), log=log, cwd=ROOT):
        deadline = time.monotonic() + 30
        while "(veil.E002)" not in log.read_text():
            if time.monotonic() > deadline:
                pytest.fail(f"runserver did not report the policy error:\n{log.read_text()}")
            time.sleep(0.1)
        # The reloader may take its first look at the file after the error is printed: an edit before
        # that look is no change to it. So the fix is written again, newer, until a restart shows.
        fixed, stamp = BAD_POLICY.replace("mask_everything", "redact"), time.time()
        deadline = time.monotonic() + 30
        while log.read_text().count("Performing system checks") < 2:
            if time.monotonic() > deadline:
                pytest.fail(f"runserver did not restart on the fixed policy:\n{log.read_text()}")
            stamp += 2
            policy.write_text(fixed)
            os.utime(policy, (stamp, stamp))
            time.sleep(1)
        while not listening(port):
            if time.monotonic() > deadline:
                pytest.fail(f"runserver did not restart on the fixed policy:\n{log.read_text()}")
            time.sleep(0.2)
        response = httpx.get(f"http://127.0.0.1:{port}/customer", timeout=10, trust_env=False)
    assert response.status_code == 200 and "jane@example.com" not in response.text
