"""The only place veil reads files and the environment.

``load_policy(path)`` reads a policy file, resolves its ``keys:`` references
(environment variables or secret files) into key bytes, and compiles it; a
``builtin:NAME`` argument names a built-in profile (:mod:`veil.rules.profiles`)
instead of a file. Key material never appears in the policy text, in errors or in reprs.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path

from veil.errors import PolicyError
from veil.rules.actions.keys import parse_key
from veil.rules.compiler import compile_policy
from veil.rules.plan import Plan
from veil.rules.profiles import PREFIX as BUILTIN_PREFIX
from veil.rules.profiles import profile_plan
from veil.rules.source import PolicySource, parse_policy_text
from veil.rules.validation import policy_from_source

ENV_POLICY = "VEIL_POLICY"
"""Path of the policy file (or ``builtin:NAME``) used when none is given; unset means the built-in default."""


def read_policy_text(path: str | os.PathLike[str]) -> str:
    """The policy file's text, exactly as stored (no newline translation: its digest is that of the file)."""
    p = Path(path)
    try:
        return p.read_bytes().decode("utf-8")
    except FileNotFoundError:
        raise PolicyError("policy file not found", source=str(path)) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise PolicyError(f"cannot read policy file: {exc.__class__.__name__}", source=str(path)) from None


def load_policy(path: str | os.PathLike[str], *, environ: Mapping[str, str] | None = None) -> Plan:
    """Read, validate and compile the policy at ``path``; raise PolicyError on any problem.

    ``builtin:NAME`` (a ``str``) is the built-in profile NAME (``strict``, ``app``,
    ``egress``, ``logs``), compiled once per process and shared; an unknown NAME is a
    PolicyError listing the known ones. A file whose name starts with ``builtin:``
    is reached as ``./builtin:...``.
    """
    if isinstance(path, str) and path.startswith(BUILTIN_PREFIX):
        return profile_plan(path[len(BUILTIN_PREFIX):])
    text = read_policy_text(path)
    src = parse_policy_text(text, str(path))
    # The text goes along so plan.digest is that of the file (what `sha256sum` prints), not of its data.
    return _compile_with_keys(src, os.environ if environ is None else environ, source_text=text)


def load_policy_data(
    data: Mapping[str, object], *, source: str = "<policy dict>", environ: Mapping[str, str] | None = None
) -> Plan:
    """Like :func:`load_policy` for policy data already in memory (keys still come from env or files)."""
    src = PolicySource(source, dict(data), {})
    return _compile_with_keys(src, os.environ if environ is None else environ)


def _compile_with_keys(src: PolicySource, environ: Mapping[str, str], *, source_text: str | None = None) -> Plan:
    policy = policy_from_source(src)
    material: dict[str, dict[str, bytes]] = {}
    for key_name, ref in policy.keys.items():
        ring: dict[str, bytes] = {}
        for index, item in enumerate([ref, *ref.previous]):
            where: tuple[str | int, ...] = ("keys", key_name) if index == 0 else ("keys", key_name, "previous", index - 1)
            text = _read_key_text(src.error, where, item.env, item.file, environ)
            try:
                ring[item.id] = parse_key(text)
            except ValueError as exc:
                raise src.error(where, str(exc)) from None
        material[key_name] = ring
    return compile_policy(src, key_material=material, source_text=source_text)


def _read_key_text(error, where, env: str | None, file: str | None, environ: Mapping[str, str]) -> str:  # type: ignore[no-untyped-def]
    if env is not None:
        value = environ.get(env)
        if not value:
            raise error(where, f"environment variable {env} is not set")
        return value
    assert file is not None
    try:
        return Path(file).read_text(encoding="utf-8")
    except OSError as exc:
        raise error(where, f"cannot read key file {file}: {exc.strerror or exc.__class__.__name__}") from None


def plan_from_env(environ: Mapping[str, str] | None = None, default: str | None = None) -> Plan:
    """The plan named by ``VEIL_POLICY``; when it is unset, ``default`` (``builtin:NAME``, for an
    adapter whose safe default differs) or else the built-in default (``strict``)."""
    environ = os.environ if environ is None else environ
    path = environ.get(ENV_POLICY) or default
    if path:
        return load_policy(path, environ=environ)
    from veil import default_plan

    return default_plan()





PolicyArg = str | os.PathLike[str] | Mapping[str, object] | Plan | None
"""What adapters accept as ``policy``: a file path, policy data, a compiled Plan, or None."""


def resolve_plan(policy: PolicyArg = None, *, default: str | None = None) -> Plan:
    """The Plan an adapter should use for its ``policy`` argument.

    ``None``: the policy named by ``VEIL_POLICY``, else ``default`` (a ``builtin:NAME``), else the
    built-in default.
    ``"builtin:NAME"``: that built-in profile (:mod:`veil.rules.profiles`).
    A path: that policy file (keys resolved from the environment).
    A mapping: policy data as it would be written in YAML (no key files).
    A Plan: used as is (compile once, share between adapters).
    """
    if isinstance(policy, Plan):
        return policy
    if policy is None:
        return plan_from_env(default=default)
    if isinstance(policy, (str, os.PathLike)):
        return load_policy(policy)
    return load_policy_data(policy)
