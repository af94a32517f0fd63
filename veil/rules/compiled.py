"""Compiled, frozen pieces of a policy: what the compiler produces and views merge."""

from __future__ import annotations

from dataclasses import dataclass, field
from urllib.parse import unquote

from veil.rules.actions.base import Action
from veil.rules.actions.keys import Keyring
from veil.rules.detectors.verdicts import digest
from veil.rules.globs import matches
from veil.rules.plan_types import Route
from veil.rules.regex import Pattern
from veil.rules.selectors import Selector


@dataclass(frozen=True, slots=True)
class Binding:
    """An action chosen by a rule: what to do, and who decided."""

    rule: str
    mode: str
    action: Action
    action_name: str

    @property
    def enforced(self) -> bool:
        return self.mode == "enforce" and self.action.changes


@dataclass(frozen=True, slots=True)
class NameRule:
    entity: str
    binding: Binding


@dataclass(frozen=True, slots=True)
class NameTargets:
    """Header, query, cookie or form targets: exact lowercase names plus globs."""

    exact: dict[str, NameRule]
    globs: tuple[tuple[Pattern, NameRule], ...] = ()
    _memo: dict[bytes, NameRule | None] = field(default_factory=dict, compare=False, repr=False)
    """What the globs say of a lowercase name, by its keyed digest: names repeat on every request,
    and globs cost an RE2 call each."""

    def lookup(self, name: str) -> NameRule | None:
        lowered = name.lower()
        rule = self.exact.get(lowered)
        if rule is not None or not self.globs:
            return rule
        # A name comes from traffic (a customer id as a header or query name) and the memo outlives
        # the request: it keeps the name's digest, never the name.
        key = digest(lowered.encode("utf-8", "surrogatepass"))
        memo = self._memo
        if key in memo:
            return memo[key]
        for pattern, candidate in self.globs:
            if matches(pattern, lowered):
                rule = candidate
                break
        if len(memo) < 1024:  # keep the memo bounded
            memo[key] = rule
        return rule

    def __bool__(self) -> bool:
        return bool(self.exact or self.globs)

    def merged(self, later: "NameTargets") -> "NameTargets":
        """Self's entries win; ``later`` fills in names self does not cover."""
        exact = dict(later.exact)
        exact.update(self.exact)
        return NameTargets(exact, self.globs + later.globs)


EMPTY_NAMES = NameTargets({})


@dataclass(frozen=True, slots=True)
class FieldRule:
    selector: Selector
    entity: str | None
    binding: Binding


@dataclass(frozen=True, slots=True)
class ScanConfig:
    detectors: tuple[str, ...]
    under: tuple[Selector, ...]
    default: Binding
    per_type: dict[str, Binding]

    def binding_for(self, entity: str) -> Binding:
        return self.per_type.get(entity, self.default)


@dataclass(frozen=True, slots=True)
class ClassifyConfig:
    entities: frozenset[str] | None
    default: Binding
    per_type: dict[str, Binding]

    def binding_for(self, entity: str) -> Binding | None:
        if self.entities is not None and entity not in self.entities:
            return None
        return self.per_type.get(entity, self.default)


@dataclass(frozen=True, slots=True)
class AllowConfig:
    values: frozenset[str]
    pattern: Pattern | None
    fields: tuple[Selector, ...]

    def allows(self, value: str) -> bool:
        if value in self.values:
            return True
        pattern = self.pattern
        return pattern is not None and pattern.fullmatch(value.encode("utf-8", "surrogatepass")) is not None


@dataclass(frozen=True, slots=True)
class RouteMatch:
    direction: str
    methods: frozenset[str]
    paths: Pattern | None
    hosts: Pattern | None
    content_types: Pattern | None

    def applies(self, route: Route, media_type: str) -> bool:
        # A route of direction "any" (the CLI's default for a file of unknown origin)
        # takes the rules of both directions.
        if self.direction != "both" and route.direction not in (self.direction, "any"):
            return False
        if self.methods and route.method.upper() not in self.methods:
            return False
        if self.paths is not None and not matches(self.paths, path_for_matching(route.path)):
            return False
        if self.hosts is not None and not matches(self.hosts, _host_only(route.host)):
            return False
        if self.content_types is not None and not matches(self.content_types, media_type):
            return False
        return True


def _host_only(host: str) -> str:
    host = host.lower()
    if host.startswith("["):
        return host.split("]", 1)[0] + "]"
    host = host.rsplit(":", 1)[0] if host.count(":") == 1 else host
    return host.rstrip(".")  # "api.openai.com." is the same host, fully qualified


def path_for_matching(path: str) -> str:
    """The path as the server behind will route it, for path globs: percent-decoded, runs of
    slashes as one, dot segments resolved (a trailing slash kept). A proxy sees the raw
    target, and ``/%61pi/x``, ``//api/x``, ``/x/../api/x`` all reach ``/api/x`` upstream: a
    rule for ``/api/**`` must apply to them, or they cross unredacted."""
    if not path:
        return "/"
    if "%" in path:
        path = unquote(path)
    if "//" not in path and "/." not in path:
        return path
    trailing = path.endswith("/")
    segments: list[str] = []
    for segment in path.split("/"):
        if segment in ("", "."):
            continue
        if segment == "..":
            if segments:
                segments.pop()
            continue
        segments.append(segment)
    out = "/" + "/".join(segments)
    return out + "/" if trailing and out != "/" else out


@dataclass(frozen=True, slots=True)
class CompiledRule:
    id: str
    mode: str
    match: RouteMatch
    fields: tuple[FieldRule, ...]
    headers: NameTargets
    query: NameTargets
    cookies: NameTargets
    form: NameTargets
    classify: ClassifyConfig | None
    scan: ScanConfig | None
    allow: AllowConfig
    restores: tuple[tuple[Keyring, str], ...] = ()
    """(keyring, scope) of this rule's ``tokenize`` actions with ``restore: true``."""
