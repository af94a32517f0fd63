"""Policy -> Plan: validate, resolve defaults, compile every pattern once.

All the work that can fail happens here, and every failure is a PolicyError
that names the file, line, column and field. Adapters never validate: they
only hand payloads to the Plan.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from veil.errors import PolicyError, PolicyErrors
from veil.rules import schema
from veil.rules.actions import ACTION_TYPES
from veil.rules.actions.base import Action
from veil.rules.actions.hmac_hash import MIN_KEY_BYTES, Hash
from veil.rules.actions.keys import Keyring
from veil.rules.actions.tokenize import Tokenize
from veil.rules.actions.vault_token import (
    VAULT_TOKEN_PATTERN,
    Breaker,
    TTLCache,
    VaultBackend,
    VaultCounters,
    VaultKeys,
    VaultTokenize,
    parse_duration,
    vault_token_end,
)
from veil.rules.classify import Classifier
from veil.rules.compiled import (
    AllowConfig,
    Binding,
    ClassifyConfig,
    CompiledRule,
    FieldRule,
    NameRule,
    NameTargets,
    RouteMatch,
    ScanConfig,
)
from veil.rules.detectors import BUILTIN_DETECTORS, VALIDATORS
from veil.rules.detectors.base import DetectorSpec
from veil.rules.detectors.matching import CompiledDetector, compile_detector
from veil.rules.globs import compile_globs, compile_media_types, is_glob
from veil.rules.lineage import Lineage
from veil.rules.sampling import (
    DISCOVERY_RULE,
    RouteTemplates,
    SampledPlan,
    SampledVaultPlan,
    Sampling,
    default_random,
)
from veil.rules.plan import Plan
from veil.rules.protected import Protected, own_outputs
from veil.rules.regex import PatternError, compile_re2
from veil.rules.selectors import SelectorError, compile_selector
from veil.rules.source import Path, PolicySource, parse_policy_text
from veil.rules.validation import policy_from_source
from veil.rules.vault_plan import VaultPlan

KeyMaterial = Mapping[str, Mapping[str, bytes]]
"""Key name (under ``keys:``) -> key id -> key bytes. Built by ``veil.settings``."""

VaultConnector = Callable[[str, schema.VaultSpec], VaultBackend]
"""Opens the backend of a ``vaults:`` entry (name, spec). Default: :func:`veil.vault.open_backend`."""


def compile_policy(
    policy: str | Mapping[str, Any] | PolicySource,
    *,
    source: str = "<policy>",
    key_material: KeyMaterial | None = None,
    vault_connector: VaultConnector | None = None,
    source_text: str | bytes | None = None,
    sample_random: Callable[[], float] | None = None,
) -> Plan:
    """Compile policy YAML text (or already-parsed data) into a :class:`Plan`.

    Raises :class:`PolicyError` (a :class:`PolicyErrors` when there are
    several) whose message is ``source:line:col: field: what``.
    ``vault_connector`` opens the backends of ``vaults:`` entries that vault
    tokens use (tests inject one); the core itself does no I/O.
    ``source_text`` is the text ``policy`` was parsed from, when it is given parsed
    (a :class:`PolicySource`): the plan's digest is that of the text
    (:mod:`veil.rules.lineage`); YAML text given as ``policy`` is its own.
    ``sample_random`` is the random source of ``sample:`` draws (:mod:`veil.rules.sampling`;
    ``random.Random(seed).random`` makes them repeatable); default: one seeded by the system.

    >>> plan = compile_policy("version: 1\\nrules:\\n  - scan: true\\n")
    >>> plan.redact_text("mail me at jane@example.com").text
    'mail me at [REDACTED:EMAIL]'
    """
    if isinstance(policy, PolicySource):
        src = policy
    elif isinstance(policy, str):
        src = parse_policy_text(policy, source)
        source_text = policy if source_text is None else source_text
    else:
        src = PolicySource(source, dict(policy), {})
    model = policy_from_source(src)
    lineage = Lineage.of(source_text, src.data, model.revision, src.name)
    compiler = _Compiler(src, model, key_material or {}, vault_connector, lineage)
    compiler.sample_random = sample_random
    return compiler.compile()


class _Compiler:
    def __init__(self, src: PolicySource, policy: schema.Policy, keys: KeyMaterial,
                 vault_connector: VaultConnector | None = None, lineage: Lineage | None = None) -> None:
        self.src = src
        self.lineage = lineage
        self.sample_random: Callable[[], float] | None = None
        self.vault_connector = vault_connector
        self._vault_keys: dict[str, VaultKeys] = {}
        self._backends: dict[str, VaultBackend] = {}
        self._vault_actions: list[VaultTokenize] = []
        self._breakers: dict[str, Breaker] = {}
        self._rule_id = ""
        self.policy = policy
        self.keys = keys
        self.errors: list[PolicyError] = []
        self._keyrings: dict[str, Keyring] = {}
        self._restores: list[tuple[Keyring, str]] = []
        # The plan's own outputs, which the scanner may recognise (veil.rules.protected).
        self._tokenizers: list[Tokenize] = []
        self._hashes: list[Hash] = []

    def fail(self, path: Path, message: str) -> None:
        self.errors.append(self.src.error(path, message))

    def compile(self) -> Plan:
        policy = self.policy
        catalog = self._catalog()
        classifier = Classifier.build(
            policy.field_names.builtin,
            [(c.entity, list(c.names), list(c.parents)) for c in policy.field_names.classes],
        )
        global_allow = self._allow(policy.allow, ("allow",))
        rules: list[CompiledRule] = []
        sampled: list[tuple[CompiledRule, float]] = []
        seen_ids: dict[str, int] = {}
        for index, rule in enumerate(policy.rules):
            rule_id = rule.id or f"rule-{index + 1}"
            if rule_id in seen_ids:
                self.fail(("rules", index, "id"), f"duplicate rule id '{rule_id}' (first used by rules[{seen_ids[rule_id]}])")
            seen_ids[rule_id] = index
            compiled = self._rule(rule, rule_id, ("rules", index), catalog)
            if compiled is not None and rule.sample is not None:
                sampled.append((compiled, rule.sample))  # never in the enforcing views: its own pass
            elif compiled is not None:
                rules.append(compiled)
        sampling = self._sampling(sampled, catalog)
        if self.errors:
            raise PolicyErrors(self.errors) if len(self.errors) > 1 else self.errors[0]
        vault_checks = tuple(
            Protected(VAULT_TOKEN_PATTERN, vault_token_end(keys), authenticated=True)
            for keys in self._vault_keys.values()
        )
        protected = own_outputs(self._tokenizers, self._hashes, vault_checks)
        common: dict[str, Any] = dict(
            rules=tuple(rules), catalog=catalog, classifier=classifier, global_allow=global_allow,
            protected=protected, limits=policy.limits, on_error=policy.on_error,
            source=self.src.name, keyrings=tuple(self._keyrings.values()), lineage=self.lineage,
        )
        if self._vault_actions:
            common["vault_actions"] = tuple(self._vault_actions)
            return SampledVaultPlan(sampling=sampling, **common) if sampling else VaultPlan(**common)
        return SampledPlan(sampling=sampling, **common) if sampling else Plan(**common)

    def _sampling(self, sampled: list[tuple[CompiledRule, float]],
                  catalog: dict[str, CompiledDetector]) -> Sampling | None:
        """The plan's sampled passes (``sample:``), or None when it samples nothing."""
        rate = self.policy.sample
        if not sampled and rate is None:
            return None
        discovery = None
        if rate is not None:
            spec = schema.Rule(id=DISCOVERY_RULE, mode="detect", classify=schema.ClassifyTarget(),
                               scan=schema.ScanTarget(detectors=[n for n in catalog if n != "URL"]))
            rule = self._rule(spec, DISCOVERY_RULE, ("sample",), catalog)
            discovery = (rule, rate) if rule is not None else None
        templates = RouteTemplates.build([(r.id or f"rule-{i + 1}", r.match.paths)
                                          for i, r in enumerate(self.policy.rules)])
        return Sampling(tuple(sampled), discovery, templates, self.sample_random or default_random())

    # -- detectors -----------------------------------------------------------

    def _catalog(self) -> dict[str, CompiledDetector]:
        customs: list[CompiledDetector] = []
        for index, det in enumerate(self.policy.detectors):
            path: Path = ("detectors", index)
            if det.name in BUILTIN_DETECTORS:
                self.fail(path + ("name",), f"'{det.name}' is a built-in detector; choose another name")
                continue
            validator = None
            if det.validator is not None:
                validator = VALIDATORS.get(det.validator)
                if validator is None:
                    known = ", ".join(sorted(VALIDATORS))
                    self.fail(path + ("validator",), f"unknown validator '{det.validator}'; expected one of: {known}")
                    continue
            spec = DetectorSpec(
                name=det.name,
                pattern=det.pattern,
                validator=validator,
                context=tuple(w.lower() for w in det.context),
                context_required=det.context_required,
                case_insensitive=det.case_insensitive,
            )
            try:
                customs.append(compile_detector(spec))
            except PatternError as exc:
                self.fail(path + ("pattern",), f"detector {det.name}: RE2 cannot compile the pattern: {exc}")
        catalog = {c.spec.name: c for c in customs}  # custom detectors first: most specific
        names = [c.spec.name for c in customs]
        if len(set(names)) != len(names):
            self.fail(("detectors",), "detector names must be unique")
        for name, spec in BUILTIN_DETECTORS.items():
            catalog[name] = compile_detector(spec)
        return catalog

    # -- rules ---------------------------------------------------------------

    def _rule(self, rule: schema.Rule, rule_id: str, path: Path,
              catalog: dict[str, CompiledDetector]) -> CompiledRule | None:
        before = len(self.errors)
        self._restores = []
        match = self._match(rule.match, path + ("match",))
        fields: list[FieldRule] = []
        for i, target in enumerate(rule.fields):
            tpath = path + ("fields", i)
            try:
                selector = compile_selector(target.path)
            except SelectorError as exc:
                self.fail(tpath + ("path",), str(exc))
                continue
            binding = self._binding(target.action, rule_id, rule.mode, tpath + ("action",))
            if binding is not None:
                fields.append(FieldRule(selector, target.entity, binding))
        names = {
            kind: self._names(getattr(rule, kind), rule_id, rule.mode, path + (kind,))
            for kind in ("headers", "query", "cookies", "form")
        }
        classify = None
        if rule.classify is not None:
            cpath = path + ("classify",)
            default, per_type = self._action_map(rule.classify, rule_id, rule.mode, cpath)
            entities = frozenset(rule.classify.entities) if rule.classify.entities is not None else None
            if default is not None:
                classify = ClassifyConfig(entities, default, per_type)
        scan = None
        if rule.scan is not None:
            spath = path + ("scan",)
            detectors = tuple(catalog) if rule.scan.detectors is None else tuple(rule.scan.detectors)
            for i, name in enumerate(detectors):
                if name not in catalog:
                    self.fail(spath + ("detectors", i), f"unknown detector '{name}'; expected a built-in type or one defined under 'detectors'")
            for name in rule.scan.actions:
                if name not in catalog:
                    self.fail(spath + ("actions", name), f"unknown detector '{name}'")
            under = []
            for i, text in enumerate(rule.scan.under):
                try:
                    under.append(compile_selector(text))
                except SelectorError as exc:
                    self.fail(spath + ("under", i), str(exc))
            default, per_type = self._action_map(rule.scan, rule_id, rule.mode, spath)
            if default is not None:
                scan = ScanConfig(detectors, tuple(under), default, per_type)
        allow = self._allow(rule.allow, path + ("allow",))
        if len(self.errors) > before or match is None:
            return None
        return CompiledRule(rule_id, rule.mode, match, tuple(fields), names["headers"], names["query"],
                            names["cookies"], names["form"], classify, scan, allow,
                            tuple(dict.fromkeys(self._restores)))

    def _match(self, match: schema.Match, path: Path) -> RouteMatch | None:
        try:
            paths = compile_globs(match.paths, separator="/", case_insensitive=False)
        except PatternError as exc:
            self.fail(path + ("paths",), f"invalid path glob: {exc}")
            return None
        try:
            hosts = compile_globs(match.hosts, separator=".", case_insensitive=True)
        except PatternError as exc:
            self.fail(path + ("hosts",), f"invalid host glob: {exc}")
            return None
        for i, ct in enumerate(match.content_types):
            if "/" not in ct:
                self.fail(path + ("content_types", i), f"expected a media type like 'application/json' or 'text/*', got '{ct}'")
        methods = frozenset(m.upper() for m in match.methods)
        return RouteMatch(match.direction, methods, paths, hosts, compile_media_types(match.content_types))

    def _names(self, targets: list[schema.NameTarget], rule_id: str, mode: str, path: Path) -> NameTargets:
        exact: dict[str, NameRule] = {}
        globs = []
        for i, target in enumerate(targets):
            binding = self._binding(target.action, rule_id, mode, path + (i, "action"))
            if binding is None:
                continue
            entry = NameRule(target.entity, binding)
            name = target.name.lower()
            if is_glob(name):
                pattern = compile_globs([name], separator="", case_insensitive=True)
                assert pattern is not None
                globs.append((pattern, entry))
            else:
                exact.setdefault(name, entry)
        return NameTargets(exact, tuple(globs))

    def _action_map(self, spec: schema.ActionMap, rule_id: str, mode: str,
                    path: Path) -> tuple[Binding | None, dict[str, Binding]]:
        default = self._binding(spec.action, rule_id, mode, path + ("action",))
        per_type: dict[str, Binding] = {}
        for name, action in spec.actions.items():
            b = self._binding(action, rule_id, mode, path + ("actions", name))
            if b is not None:
                per_type[name] = b
        return default, per_type

    def _allow(self, allow: schema.Allow, path: Path) -> AllowConfig:
        pattern = None
        if allow.patterns:
            for i, p in enumerate(allow.patterns):
                try:
                    compile_re2(p)
                except PatternError as exc:
                    self.fail(path + ("patterns", i), f"RE2 cannot compile the pattern: {exc}")
            try:
                pattern = compile_re2("^(?:" + "|".join(f"(?:{p})" for p in allow.patterns) + ")$", allow_empty=True)
            except PatternError:
                pattern = None
        fields = []
        for i, text in enumerate(allow.fields):
            try:
                fields.append(compile_selector(text))
            except SelectorError as exc:
                self.fail(path + ("fields", i), str(exc))
        return AllowConfig(frozenset(allow.values), pattern, tuple(fields))

    # -- actions -------------------------------------------------------------

    def _binding(self, spec: Any, rule_id: str, mode: str, path: Path) -> Binding | None:
        self._rule_id = rule_id  # vault tokens record the rule that issued them
        action = self._action(spec, path)
        if action is None:
            return None
        return Binding(rule_id, mode, action, spec.type)

    def _action(self, spec: Any, path: Path) -> Action | None:
        cls = ACTION_TYPES[spec.type]
        try:
            if isinstance(spec, schema.HashSpec):
                found = self._hash_key(spec.key, path + ("key",))
                if found is None:
                    return None
                key_id, key = found
                hashing = Hash(key=key, key_id=key_id, length=spec.length, prefix=spec.prefix)
                self._hashes.append(hashing)
                return hashing
            if isinstance(spec, schema.TokenizeSpec) and spec.vault is not None:
                return self._vault_tokenize(spec, path)
            if isinstance(spec, schema.TokenizeSpec):
                ring = self._keyring(spec.key, path + ("key",))
                if ring is None:
                    return None
                if spec.restore:
                    self._restores.append((ring, spec.scope))
                tokenizing = Tokenize(keyring=ring, scope=spec.scope)
                self._tokenizers.append(tokenizing)
                return tokenizing
            params = spec.model_dump(exclude={"type"})
            return cls(**params)
        except ValueError as exc:
            self.fail(path, str(exc))
            return None

    def _vault_tokenize(self, spec: schema.TokenizeSpec, path: Path) -> VaultTokenize | None:
        assert spec.vault is not None
        vault = self.policy.vaults.get(spec.vault)
        if vault is None:
            self.fail(path + ("vault",), f"no vault named '{spec.vault}' under 'vaults:'")
            return None
        if spec.on_vault_error == "block" and self.policy.on_error == "passthrough":
            self.fail(path + ("on_vault_error",), "on_vault_error: block needs the policy's on_error: block "
                      "(passthrough would let the raw value through while the vault is down); "
                      "or say on_vault_error: vaultless")
            return None
        subject = None
        if spec.subject is not None:
            try:
                subject = compile_selector(spec.subject)
            except SelectorError as exc:
                self.fail(path + ("subject",), str(exc))
                return None
            if any(s.names is None and s.indices is None or s.anywhere_below or s.slice_ is not None
                   or len(s.names or ()) > 1 or len(s.indices or ()) > 1 for s in subject.steps):
                # One subject per body: with a wildcard, every token of a list would get the first
                # record's subject, and erasing another record's subject would miss them.
                self.fail(path + ("subject",), f"subject must select one value (names and single indices, "
                          f"no wildcards, slices or '..'), got {spec.subject!r}")
                return None
        ring = self._keyring(spec.key, path + ("key",))
        backend = self._backend(spec.vault, vault)
        if ring is None or backend is None:
            return None
        keys = self._vault_keys.get(spec.key)
        if keys is None:
            keys = self._vault_keys[spec.key] = VaultKeys(dict(self.keys[spec.key]), ring.active)
        fallback = None
        if spec.on_vault_error == "vaultless":
            fallback = Tokenize(keyring=ring, scope=spec.scope)
            self._tokenizers.append(fallback)
        action = VaultTokenize(
            keys=keys, backend=backend, vault=spec.vault, scope=spec.scope, rule=self._rule_id,
            ttl=None if spec.ttl is None else parse_duration(spec.ttl), subject=subject,
            on_vault_error=spec.on_vault_error, fallback=fallback,
            issued=TTLCache(vault.cache_size, vault.cache_ttl), counters=VaultCounters(vault=spec.vault),
            breaker=self._breakers.setdefault(spec.vault, Breaker(vault.retry_after)),
        )
        self._vault_actions.append(action)
        return action

    def _backend(self, name: str, spec: schema.VaultSpec) -> VaultBackend | None:
        """The one backend of ``vaults.<name>``, opened lazily by the connector (no I/O here)."""
        if name not in self._backends:
            connector = self.vault_connector
            if connector is None:
                from veil.vault import open_backend  # outside the core: it opens files and sockets

                connector = open_backend
            try:
                self._backends[name] = connector(name, spec)
            except ValueError as exc:
                self.fail(("vaults", name), str(exc))
                return None
        return self._backends[name]

    def _material(self, name: str, path: Path) -> tuple[str, dict[str, bytes]] | None:
        """(active key id, key id -> bytes) for ``keys.<name>``, or None after recording an error."""
        ref = self.policy.keys.get(name)
        if ref is None:
            self.fail(path, f"no key named '{name}' under 'keys:' (add keys.{name} with an 'env' or 'file' source)")
            return None
        material = self.keys.get(name)
        where = f"environment variable {ref.env}" if ref.env else f"file {ref.file}"
        if not material or ref.id not in material:
            self.fail(("keys", name), f"key material for '{name}' was not provided (expected it from {where})")
            return None
        return ref.id, dict(material)

    def _hash_key(self, name: str, path: Path) -> tuple[str, bytes] | None:
        found = self._material(name, path)
        if found is None:
            return None
        active, material = found
        key = material[active]
        if len(key) < MIN_KEY_BYTES:
            # Blame the key, not every rule that uses it.
            self.fail(("keys", name), f"hash key must be at least {MIN_KEY_BYTES} bytes, got {len(key)}")
            return None
        return active, key

    def _keyring(self, name: str, path: Path) -> Keyring | None:
        if name in self._keyrings:
            return self._keyrings[name]
        found = self._material(name, path)
        if found is None:
            return None
        active, material = found
        try:
            ring = Keyring(keys=material, active=active, legacy_tokens=self.policy.keys[name].legacy_tokens)
        except ValueError as exc:
            self.fail(("keys", name), str(exc))
            return None
        self._keyrings[name] = ring
        return ring


__all__ = ["KeyMaterial", "VaultConnector", "compile_policy"]
