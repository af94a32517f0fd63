"""Whether any rule of a plan may apply to one direction of an exchange, before a byte is read.

A policy that only protects responses (``builtin:app``, a tutorial's response rule)
must leave requests as the app would see them without veil: not parsed, so invalid
JSON reaches the app's own error handling and a large upload is not refused over
veil's body limit. The in-app middlewares ask :class:`Coverage` once per exchange
and skip a direction no rule covers.

The decision uses the route's direction, method, host and path, never the body's
type: a body's type can change once read (a sniffed ``application/octet-stream``,
a multipart part's own type), so a rule limited to some content types counts as
covering every type of its routes. Built once per plan (adapters keep it beside it).
"""

from __future__ import annotations

from dataclasses import replace

from veil.rules.compiled import RouteMatch
from veil.rules.plan import Plan
from veil.rules.plan_types import Route
from veil.rules.sampling import sampled_rules


class Coverage:
    """The routes of one direction (``request`` or ``response``) that some rule of ``plan`` may apply to.

    >>> import veil
    >>> Coverage(veil.default_plan(), "request").covers(Route("request", "POST", "", "/login"))
    True
    """

    def __init__(self, plan: Plan, direction: str) -> None:
        self.direction = direction
        # content_types dropped: see the module doc. Rules of the other direction can never apply.
        # Sampled detect rules are not in plan.rules but still read their routes' bodies when drawn.
        self._matches: tuple[RouteMatch, ...] = tuple(
            replace(rule.match, content_types=None)
            for rule in (*plan.rules, *sampled_rules(plan))
            if rule.match.direction in (direction, "both")
        )

        # A rule with no method, path or host condition covers every route: no per-route look then.
        self._everywhere = any(not m.methods and m.paths is None and m.hosts is None for m in self._matches)

    def __bool__(self) -> bool:
        """False when no rule of the plan names this direction at all: no route needs a look."""
        return bool(self._matches)

    def covers(self, route: Route) -> bool:
        """Whether some rule may apply to a message of this direction on ``route`` (its type ignored)."""
        return self._everywhere or any(match.applies(route, "") for match in self._matches)
