"""``veil discover``: the table of what the samples carry, and the ``--patch`` file."""

from __future__ import annotations

import os
import sys
from typing import IO, Any

from veil.discover import table
from veil.discover.patch import patched_text, proposed_rules, rule_ids
from veil.discover.samples import Sample, SampleError, read_samples
from veil.discover.survey import Survey, discovery_plan, survey
from veil.errors import PolicyError
from veil.rules.plan import Plan
from veil.rules.profiles import PREFIX, profile_yaml
from veil.rules.source import parse_policy_text
from veil.settings import ENV_POLICY, load_policy, read_policy_text


def policy_text(policy: str | None) -> tuple[str, str]:
    """(source name, text) of ``policy`` (a file or ``builtin:NAME``), else of ``$VEIL_POLICY``;
    ("", "") when neither names one: then no rule covers anything."""
    name = policy or os.environ.get(ENV_POLICY, "")
    if not name:
        return "", ""
    if name.startswith(PREFIX):
        return name, profile_yaml(name[len(PREFIX):])
    return name, read_policy_text(name)


def run(policy: str | None, files: list[str], patch: str | None, out: IO[str] | None = None) -> int:
    """Survey ``files`` against ``policy``; print the table (on ``out``, default stdout); write the patch.
    Exit code 0, 1 (a sample cannot be read) or 2 (the policy's rules cannot be appended to)."""
    source, text = policy_text(policy)
    data: Any = parse_policy_text(text, source).data if text else None
    plan: Plan | None = load_policy(source) if source else None
    samples: list[Sample] = []
    try:
        for name in files:
            with open(name, "rb") as fh:
                samples.extend(read_samples(name, fh.read()))
    except SampleError as exc:
        print(f"veil discover: {exc}", file=sys.stderr)
        return 1
    result = survey(samples, discovery_plan(data if isinstance(data, dict) else None), plan)
    for skipped in result.skipped:
        print(f"veil discover: skipped {skipped}", file=sys.stderr)
    write_table(result, out or sys.stdout)
    if patch:
        return _write_patch(patch, source, text, data, result)
    return 0


def write_table(result: Survey, out: IO[str]) -> None:
    """One line per (route, location, path): types with counts and whether a rule covers it."""
    header = ("ROUTE", "WHERE", "PATH", "TYPES", "COUNT", "COVERED")
    rows = [
        (row.route, row.location, row.path, ", ".join(f"{t}:{n}" for t, n in sorted(row.types.items())),
         str(row.count), row.coverage + (f" ({', '.join(sorted(row.enforced_by or row.detected_by))})"
                                         if row.enforced_by or row.detected_by else ""))
        for row in sorted(result.rows.values(), key=lambda r: (r.route, r.location, r.path))
    ]
    table.write_table(header, rows, out)
    uncovered = len(result.uncovered())
    out.write(f"{result.exchanges} messages, {result.records} finding records, {len(result.rows)} places "
              f"with personal data, {uncovered} not covered by an enforcing rule\n")


def _write_patch(patch: str, source: str, text: str, data: Any, result: Survey) -> int:
    rules = proposed_rules(result.uncovered(), rule_ids(data))
    try:
        new_text = patched_text(text, rules)
    except ValueError as exc:
        print(f"veil discover: {source}: {exc}", file=sys.stderr)
        return 2
    with open(patch, "w", encoding="utf-8") as fh:
        fh.write(new_text)
    try:
        load_policy(patch)
    except PolicyError as exc:  # a bug of ours, never the user's: say so, keep the file to look at
        print(f"veil discover: the patch {patch} does not compile ({exc}); please report it", file=sys.stderr)
        return 1
    print(f"veil discover: wrote {patch}: {source or 'a new policy'} plus {len(rules)} proposed rules",
          file=sys.stderr)
    return 0
