"""veil: redact personal and secret data from API traffic with one compiled policy.

    >>> import veil
    >>> plan = veil.default_plan()
    >>> plan.redact_text("call +44 20 7946 0958").text
    'call [REDACTED:PHONE]'
"""

from __future__ import annotations

from functools import lru_cache

from veil.errors import KeyMaterialError, PolicyError, PolicyErrors, RedactionError, VeilError
from veil.rules.compiler import compile_policy
from veil.rules.default_policy import DEFAULT_POLICY_YAML
from veil.rules.plan import Plan, TextResult
from veil.rules.plan_types import Finding, Report, Result, Route
from veil.rules.profiles import PREFIX as _BUILTIN_PREFIX
from veil.rules.profiles import profile_yaml
from veil.settings import load_policy

__version__ = "0.1.0"  # the only place the version is written: pyproject.toml reads it (dynamic)


@lru_cache(maxsize=1)
def default_plan() -> Plan:
    """The built-in default policy, compiled once per process."""
    return compile_policy(DEFAULT_POLICY_YAML, source="<default policy>")


def builtin_policy(name: str) -> str:
    """The policy YAML of built-in profile ``name`` (``app`` or ``builtin:app``).

    Profiles: ``strict`` (the default), ``app``, ``egress``, ``logs``; each text says
    what it protects and keeps. Select one with ``load_policy("builtin:NAME")`` or
    ``policy="builtin:NAME"`` in any adapter. An unknown name is a PolicyError
    listing the known ones.
    """
    return profile_yaml(name.removeprefix(_BUILTIN_PREFIX))


__all__ = [
    "DEFAULT_POLICY_YAML",
    "Finding",
    "KeyMaterialError",
    "Plan",
    "PolicyError",
    "PolicyErrors",
    "RedactionError",
    "Report",
    "Result",
    "Route",
    "TextResult",
    "VeilError",
    "__version__",
    "builtin_policy",
    "compile_policy",
    "default_plan",
    "load_policy",
]
