"""A policy's test cases, read from YAML with the position of every field.

    cases:
      - name: signup hides the e-mail
        direction: request            # request (default) or response
        method: POST                  # optional, for rules whose match names methods
        path: /signup                 # optional (default: /)
        host: api.example.com         # optional
        content_type: application/json  # default: JSON for a mapping or list input, else text/plain
        input: {email: jane@example.com, plan: pro}
        output: {email: "[REDACTED:EMAIL]", plan: pro}   # the whole expected output, and/or
        findings:                                         # the expected findings (each names some of
          - {type: EMAIL, path: $.email, rule: users}     # type, path, rule, action, location, mode)

A mapping or list ``input`` is sent as JSON and its ``output`` compared as data; a
string is sent as is and compared as text. Text in, never a path: the file is read
by the caller.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from veil.rules.source import Path, PolicySource, parse_policy_text

CASE_KEYS = frozenset({"name", "direction", "method", "path", "host", "content_type", "input", "output", "findings"})
FINDING_KEYS = frozenset({"type", "path", "rule", "action", "location", "mode"})
_MISSING = object()


@dataclass(frozen=True, slots=True)
class Case:
    """One case; ``output`` is ``None`` when only findings are expected (and ``findings`` the reverse)."""

    name: str
    index: int
    input: Any
    direction: str = "request"
    method: str = ""
    path: str = "/"
    host: str = ""
    content_type: str = ""
    output: Any = _MISSING
    findings: tuple[dict[str, str], ...] | None = None

    @property
    def structured(self) -> bool:
        """Whether the input is JSON data (compared as data) rather than text."""
        return not isinstance(self.input, str)

    @property
    def expects_output(self) -> bool:
        return self.output is not _MISSING


def parse_cases(text: str, name: str) -> tuple[PolicySource, list[Case]]:
    """The cases in ``text``; raise PolicyError (``file:line:col: field: what``) for a malformed file."""
    src = parse_policy_text(text, name)
    data = src.data
    if not isinstance(data, dict) or not isinstance(data.get("cases"), list) or not data["cases"]:
        raise src.error(("cases",) if isinstance(data, dict) else (), "expected 'cases:' with a list of cases")
    unknown = set(data) - {"cases"}
    if unknown:
        raise src.error((min(unknown),), "unknown field; a cases file has only 'cases:'")
    cases: list[Case] = []
    names: dict[str, int] = {}
    for index, item in enumerate(data["cases"]):
        case = _case(src, index, item)
        if case.name in names:
            raise src.error(("cases", index, "name"), f"duplicate case name (first used by cases[{names[case.name]}])")
        names[case.name] = index
        cases.append(case)
    return src, cases


def _case(src: PolicySource, index: int, item: Any) -> Case:
    at: Path = ("cases", index)
    if not isinstance(item, dict):
        raise src.error(at, "expected a mapping with name, input and output or findings")
    for key in item:
        if key not in CASE_KEYS:
            raise src.error(at + (key,), f"unknown field; expected one of {', '.join(sorted(CASE_KEYS))}")
    for key in ("name", "input"):
        if key not in item:
            raise src.error(at, f"missing '{key}'")
    if "output" not in item and "findings" not in item:
        raise src.error(at, "give 'output', 'findings' or both: what the policy should make of the input")
    strings = {}
    for key in ("name", "method", "path", "host", "content_type", "direction"):
        if key in item and not isinstance(item[key], str):
            raise src.error(at + (key,), f"expected a string, got {type(item[key]).__name__}")
        strings[key] = item.get(key)
    if strings["direction"] not in (None, "request", "response"):
        raise src.error(at + ("direction",), f"expected request or response, got {strings['direction']!r}")
    if not isinstance(item["input"], (str, dict, list)):
        raise src.error(at + ("input",), "expected a string (a text body) or a mapping or list (a JSON body)")
    findings = None
    if "findings" in item:
        findings = tuple(_finding(src, at + ("findings",), i, f) for i, f in enumerate(_list(src, at, item)))
    return Case(
        name=strings["name"] or "", index=index, input=item["input"], direction=strings["direction"] or "request",
        method=strings["method"] or "", path=strings["path"] or "/", host=strings["host"] or "",
        content_type=strings["content_type"] or "", output=item.get("output", _MISSING), findings=findings,
    )


def _list(src: PolicySource, at: Path, item: dict[str, Any]) -> list[Any]:
    value = item["findings"]
    if not isinstance(value, list):
        raise src.error(at + ("findings",), "expected a list of findings ([] for none)")
    return value


def _finding(src: PolicySource, at: Path, index: int, item: Any) -> dict[str, str]:
    if not isinstance(item, dict) or not item:
        raise src.error(at + (index,), f"expected a mapping with some of {', '.join(sorted(FINDING_KEYS))}")
    for key, value in item.items():
        if key not in FINDING_KEYS:
            raise src.error(at + (index, key), f"unknown field; expected one of {', '.join(sorted(FINDING_KEYS))}")
        if not isinstance(value, str):
            raise src.error(at + (index, key), f"expected a string, got {type(value).__name__}")
    return dict(item)
