"""The policy file, exactly as written, as pydantic models.

These models only check shape and local constraints; anything that needs
compiling (JSONPath, RE2, globs, key references) is checked in ``compiler``.
pydantic stays here, at the file boundary, and never reaches the hot path.
"""

from __future__ import annotations

import re
from typing import Annotated, Any, Literal, Union

from pydantic import BaseModel, ConfigDict, Field, ValidationInfo, field_validator, model_validator

ENTITY_NAME = r"^[A-Z][A-Z0-9_]*$"


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


# --- actions ---------------------------------------------------------------


class RedactSpec(Strict):
    type: Literal["redact"]
    template: str = "[REDACTED:{type}]"


class MaskSpec(Strict):
    type: Literal["mask"]
    char: str = "*"
    keep_first: int = Field(default=0, ge=0)
    keep_last: int = Field(default=4, ge=0)
    keep_separators: bool = True

    @field_validator("char")
    @classmethod
    def _one_character(cls, value: str) -> str:
        # Checked here (not only in actions.Mask) so the error points at `char`.
        if len(value) != 1:
            raise ValueError(f"expected one character, got {value!r}")
        if value.isalnum():
            raise ValueError(f"mask character must not be a letter or digit, got {value!r}")
        return value


class HashSpec(Strict):
    type: Literal["hash"]
    key: str = "hash"
    """Name of an entry under ``keys:``."""
    length: int = Field(default=16, ge=8, le=64)
    prefix: str = "hash_"


class TokenizeSpec(Strict):
    type: Literal["tokenize"]
    key: str = "tokens"
    """Name of an entry under ``keys:``."""
    scope: str = ""
    restore: bool = False
    """Put the original values back into the reply to the same exchange (proxy and
    httpx egress): a prompt sent to a vendor carries tokens, the vendor's answer
    comes back with the values. Only tokens of this key and scope are restored."""
    vault: str | None = None
    """Name of an entry under ``vaults:``: random tokens whose values the vault keeps
    (erasable, resolved only by the detokenize service). Without it: vaultless tokens."""
    ttl: str | None = None
    """Vault tokens only: how long a token resolves (``30s``, ``15m``, ``12h``, ``30d``)."""
    subject: str | None = None
    """Vault tokens only: JSONPath of the data subject's id (``$.customer.id``), for
    ``veil vault forget``."""
    on_vault_error: Literal["block", "vaultless"] = "block"
    """Vault tokens only: when the vault fails, fail the body closed (``block``) or give
    a vaultless token instead (``vaultless``). Never the raw value."""

    @field_validator("ttl")
    @classmethod
    def _duration(cls, value: str | None) -> str | None:
        if value is not None and not re.fullmatch(r"\s*\d+(\.\d+)?\s*[smhd]?\s*", value):
            raise ValueError(f"expected a duration like 30s, 15m, 12h or 30d, got {value!r}")
        return value

    @model_validator(mode="after")
    def _vault_options_need_a_vault(self) -> "TokenizeSpec":
        if self.vault is None:
            given = [n for n in ("ttl", "subject", "on_vault_error") if n in self.model_fields_set]
            if given:
                raise ValueError(f"{', '.join(given)} only apply to vault tokens: add 'vault: NAME'")
        elif self.restore:
            raise ValueError("restore works with vaultless tokens only; vault tokens are resolved by 'veil serve detokenize'")
        return self


class GeneralizeSpec(Strict):
    type: Literal["generalize"]
    ipv4_prefix: int = Field(default=24, ge=0, le=32)
    ipv6_prefix: int = Field(default=48, ge=0, le=128)
    date: Literal["year", "month"] = "year"
    bucket: int = Field(default=10, ge=1)
    postcode_chars: int = Field(default=3, ge=1)


class DropSpec(Strict):
    type: Literal["drop"]


class KeepSpec(Strict):
    type: Literal["keep"]


ActionSpec = Annotated[
    Union[RedactSpec, MaskSpec, HashSpec, TokenizeSpec, GeneralizeSpec, DropSpec, KeepSpec],
    Field(discriminator="type"),
]


def _expand_action(value: Any) -> Any:
    """Accept ``action: redact`` as shorthand for ``action: {type: redact}``."""
    if isinstance(value, str):
        return {"type": value}
    return value


class _WithAction(Strict):
    action: ActionSpec = Field(default_factory=lambda: RedactSpec(type="redact"))

    @field_validator("action", mode="before")
    @classmethod
    def _shorthand(cls, value: Any) -> Any:
        return _expand_action(value)


# --- targets ---------------------------------------------------------------


class FieldTarget(_WithAction):
    path: str
    """JSONPath (jsonpath-ng syntax): ``$.user.email``, ``$..password``, ``$.items[*].card``."""
    entity: str | None = Field(default=None, pattern=ENTITY_NAME)
    """Type written in placeholders and findings; default: the field-name class, else FIELD."""


class NameTarget(_WithAction):
    name: str
    """Case-insensitive name or glob (``x-*-token``)."""
    entity: str = Field(default="SECRET", pattern=ENTITY_NAME)


class ActionMap(Strict):
    action: ActionSpec = Field(default_factory=lambda: RedactSpec(type="redact"))
    actions: dict[str, ActionSpec] = Field(default_factory=dict)
    """Per-type overrides, e.g. ``CREDIT_CARD: {type: mask, keep_last: 4}``."""

    @field_validator("action", mode="before")
    @classmethod
    def _shorthand(cls, value: Any) -> Any:
        return _expand_action(value)

    @field_validator("actions", mode="before")
    @classmethod
    def _shorthand_map(cls, value: Any) -> Any:
        if isinstance(value, dict):
            return {k: _expand_action(v) for k, v in value.items()}
        return value


class ScanTarget(ActionMap):
    detectors: list[str] | None = None
    """Detector types to run; default: every built-in and custom detector."""
    under: list[str] = Field(default_factory=list)
    """JSONPath selectors to scan beneath; default: every string value."""


class ClassifyTarget(ActionMap):
    entities: list[str] | None = None
    """Field-name classes to act on; default: all of them."""


class Allow(Strict):
    values: list[str] = Field(default_factory=list)
    patterns: list[str] = Field(default_factory=list)
    """RE2 patterns a whole value (or a detected span) must fully match to be left alone."""
    fields: list[str] = Field(default_factory=list)
    """JSONPath selectors never touched."""


class Match(Strict):
    direction: Literal["request", "response", "both"] = "both"
    methods: list[str] = Field(default_factory=list)
    paths: list[str] = Field(default_factory=list)
    hosts: list[str] = Field(default_factory=list)
    content_types: list[str] = Field(default_factory=list)


SampleRate = Annotated[float, Field(gt=0, le=1)]
"""A fraction of traffic: ``0.05`` is one message in twenty (``veil.rules.sampling``)."""


class Rule(Strict):
    id: str | None = Field(default=None, pattern=r"^[A-Za-z0-9_.:-]+$")
    mode: Literal["enforce", "detect"] = "enforce"
    sample: SampleRate | None = None
    """Detect-mode rules only: run on this fraction of messages, apart from the enforcing
    rules (what they find never changes what is sent)."""
    match: Match = Field(default_factory=Match)
    fields: list[FieldTarget] = Field(default_factory=list)
    headers: list[NameTarget] = Field(default_factory=list)
    query: list[NameTarget] = Field(default_factory=list)
    cookies: list[NameTarget] = Field(default_factory=list)
    form: list[NameTarget] = Field(default_factory=list)
    classify: ClassifyTarget | None = None
    scan: ScanTarget | None = None
    allow: Allow = Field(default_factory=Allow)

    @field_validator("classify", "scan", mode="before")
    @classmethod
    def _true_means_defaults(cls, value: Any) -> Any:
        if value is True:
            return {}
        if value is False:
            return None
        return value

    @field_validator("sample")
    @classmethod
    def _sample_needs_detect(cls, value: float | None, info: ValidationInfo) -> float | None:
        # An enforcing rule that acts on a sample would let the rest through.
        if value is not None and info.data.get("mode") != "detect":
            raise ValueError("sample applies to detect-mode rules only: add 'mode: detect'")
        return value

    @model_validator(mode="after")
    def _has_a_target(self) -> "Rule":
        if not (
            self.fields or self.headers or self.query or self.cookies or self.form
            or self.classify or self.scan
        ):
            raise ValueError(
                "a rule needs at least one target: fields, headers, query, cookies, form, classify or scan"
            )
        return self


# --- policy-level sections -------------------------------------------------


class KeySource(Strict):
    id: str = Field(default="k1", pattern=r"^[a-z][a-z0-9]{0,15}$")
    env: str | None = None
    file: str | None = None

    @model_validator(mode="after")
    def _one_source(self) -> "KeySource":
        if (self.env is None) == (self.file is None):
            raise ValueError("give exactly one of 'env' or 'file' (key material never goes in the policy)")
        return self


class KeyRef(KeySource):
    previous: list[KeySource] = Field(default_factory=list)
    """Older keys still accepted for detokenizing, for rotation."""
    legacy_tokens: bool = True
    """Whether ``tokenize`` tokens of format 1 (made before veil derived a subkey per
    purpose, under this entry's own bytes) still open, with every id of the entry
    (``previous`` ones too). ``false`` once no stored token is of format 1: they are then
    left as text, and the entry's raw bytes key nothing. No effect on ``hash``."""


class CustomDetector(Strict):
    name: str = Field(pattern=ENTITY_NAME)
    pattern: str
    validator: str | None = None
    context: list[str] = Field(default_factory=list)
    context_required: bool = False
    case_insensitive: bool = False


class FieldClass(Strict):
    entity: str = Field(pattern=ENTITY_NAME)
    names: list[str] = Field(min_length=1)
    parents: list[str] = Field(default_factory=list)
    """When set, the names only count under one of these parent keys."""


class FieldNames(Strict):
    builtin: bool = True
    classes: list[FieldClass] = Field(default_factory=list)


class Limits(Strict):
    max_body_bytes: int = Field(default=10 * 1024 * 1024, ge=1)
    max_depth: int = Field(default=256, ge=1, le=100_000)
    max_string_bytes: int = Field(default=1024 * 1024, ge=1)


class VaultSpec(Strict):
    """A vault that ``tokenize`` actions with ``vault: NAME`` store values in (``veil.vault``)."""

    backend: Literal["sqlite", "redis"] = "sqlite"
    path: str = "./veil-vault.db"
    """SQLite: the database file."""
    path_env: str | None = None
    """SQLite: environment variable that, when set, overrides ``path``."""
    url: str | None = None
    """Redis: ``redis://host:port/db`` or ``unix:///path/redis.sock``."""
    url_env: str | None = None
    """Redis: environment variable that, when set, overrides ``url``."""
    timeout: float = Field(default=0.5, gt=0, le=30)
    """Seconds one vault call may take before it counts as an outage."""
    cache_ttl: float = Field(default=30, ge=0, le=3600)
    """Seconds a resolved value or an issued token is kept in a process's local cache
    (erasure reaches every process within it)."""
    cache_size: int = Field(default=10_000, ge=0)
    retry_after: float = Field(default=2, ge=0, le=300)
    """Seconds after a failed vault call during which the vault is not asked again (values
    get the rule's outage behaviour at once); 0: ask every time."""

    @model_validator(mode="after")
    def _redis_needs_a_url(self) -> "VaultSpec":
        if self.backend == "redis" and self.url is None and self.url_env is None:
            raise ValueError("a redis vault needs 'url' or 'url_env'")
        return self


class Policy(Strict):
    version: Literal[1]
    revision: str | None = Field(default=None, min_length=1, max_length=200)
    """Names this version of the policy (``2026-12-06.1``, a commit id): shown with its digest."""
    sample: SampleRate | None = None
    """Fraction of messages also scanned by every detector in detect mode, to find personal data
    no rule acts on (``veil_uncovered_findings_total``, finding records)."""
    keys: dict[str, KeyRef] = Field(default_factory=dict)
    vaults: dict[str, VaultSpec] = Field(default_factory=dict)
    detectors: list[CustomDetector] = Field(default_factory=list)
    field_names: FieldNames = Field(default_factory=FieldNames)
    limits: Limits = Field(default_factory=Limits)
    on_error: Literal["block", "passthrough"] = "block"
    allow: Allow = Field(default_factory=Allow)
    rules: list[Rule] = Field(min_length=1)

    @field_validator("revision")
    @classmethod
    def _one_line(cls, value: str | None) -> str | None:
        # It goes into log lines and the admin port's /policy as it is.
        if value is not None and any(c in value for c in "\r\n\x00"):
            raise ValueError("must be one line of text")
        return value
