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
from veil.settings import load_policy

__version__ = "0.1.0"


@lru_cache(maxsize=1)
def default_plan() -> Plan:
    """The built-in default policy, compiled once per process."""
    return compile_policy(DEFAULT_POLICY_YAML, source="<default policy>")


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
    "compile_policy",
    "default_plan",
    "load_policy",
]
