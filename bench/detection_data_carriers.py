"""Carriers for ``bench/detection.py``: where a labelled value sits, and what it sits among.

A :class:`Case` is one text (a support ticket, a chat message, a log line, an LLM prompt, an env
file, a URL) or one JSON payload (an API request or webhook), with its labelled values: their
type, their exact text and where they are (a JSON path and ``str`` offsets in that string, or
offsets in the text). ``keeps`` are values known NOT to be personal or secret (a version, a
region) that must come through unchanged. Nothing here knows how veil detects anything.
"""

from __future__ import annotations

import random
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

Path = tuple[str | int, ...]


@dataclass(frozen=True)
class Label:
    type: str  # a label type (EMAIL...) or, for keeps, a non-PII category (version...)
    value: str
    source: str  # generator or provider, and form: "github-classic-pat", "US_SSN/dotted"
    path: Path
    start: int
    end: int


@dataclass
class Case:
    carrier: str
    text: str | None = None  # text carriers
    doc: Any = None  # JSON carriers
    labels: list[Label] = field(default_factory=list)
    keeps: list[Label] = field(default_factory=list)


@dataclass
class Marked:
    """A string under construction with the offsets of its labelled values."""

    text: str = ""
    marks: list[tuple[str, str, str, int, int, bool]] = field(default_factory=list)

    def add(self, text: str) -> "Marked":
        self.text += text
        return self

    def value(self, type_: str, value: str, source: str, keep: bool = False) -> "Marked":
        self.marks.append((type_, value, source, len(self.text), len(self.text) + len(value), keep))
        self.text += value
        return self


def fill(template: str, type_: str, value: str, source: str, keep: bool = False) -> Marked:
    """``template`` with ``{v}`` replaced by a labelled value (other fields already formatted)."""
    head, _, tail = template.partition("{v}")
    return Marked().add(head).value(type_, value, source, keep).add(tail)


def keep(category: str, value: str) -> Marked:
    return Marked().value(category, value, category, keep=True)


def finish_text(carrier: str, marked: Marked) -> Case:
    case = Case(carrier, text=marked.text)
    for type_, value, source, start, end, is_keep in marked.marks:
        (case.keeps if is_keep else case.labels).append(Label(type_, value, source, (), start, end))
    return case


def finish_json(carrier: str, doc: Any) -> Case:
    """Turn the :class:`Marked` strings inside ``doc`` into plain strings, collecting labels by path."""
    case = Case(carrier)

    def walk(node: Any, path: Path) -> Any:
        if isinstance(node, Marked):
            for type_, value, source, start, end, is_keep in node.marks:
                (case.keeps if is_keep else case.labels).append(Label(type_, value, source, path, start, end))
            return node.text
        if isinstance(node, dict):
            return {k: walk(v, (*path, k)) for k, v in node.items()}
        if isinstance(node, list):
            return [walk(v, (*path, i)) for i, v in enumerate(node)]
        return node

    case.doc = walk(doc, ())
    return case


# -- filler that is neither personal nor secret -------------------------------------------------
def order_id(rng: random.Random) -> str:
    return rng.choice((f"ORD-{rng.randint(2019, 2026)}-{rng.randint(0, 999999):06d}", f"#{rng.randint(10**5, 10**7)}", f"PO-{rng.randint(1000, 99999)}"))


def iso_time(rng: random.Random) -> str:
    return f"2025-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d}T{rng.randint(0, 23):02d}:{rng.randint(0, 59):02d}:{rng.randint(0, 59):02d}.{rng.randint(0, 999):03d}Z"


def request_id(rng: random.Random) -> str:
    return str(uuid.UUID(int=rng.getrandbits(128), version=4))


# -- text templates -------------------------------------------------------------------------------
CONTEXT: dict[str, tuple[str, ...]] = {
    "EMAIL": ("email", "e-mail", "email address", "contact", "login"),
    "PHONE": ("phone", "mobile", "number", "cell", "phone no."),
    "CREDIT_CARD": ("card", "card number", "Visa", "credit card", "card no"),
    "IBAN": ("IBAN", "bank account", "account (IBAN)", "IBAN no."),
    "US_SSN": ("SSN", "social security number", "SSN#", "Social Security No."),
    "US_ITIN": ("ITIN", "taxpayer ID", "TIN", "individual taxpayer identification number"),
    "UK_NINO": ("NI number", "National Insurance number", "NINO", "NI no"),
    "IP_ADDRESS": ("IP", "client IP", "source address", "remote addr"),
}
KEY_WORD: dict[str, str] = {"EMAIL": "email", "PHONE": "phone", "CREDIT_CARD": "card_number", "IBAN": "iban",
                            "US_SSN": "ssn", "US_ITIN": "itin", "UK_NINO": "ni_number", "IP_ADDRESS": "client_ip"}

SENTENCES = (
    # support tickets
    "Hi team, my {ctx} is {v} - please update it before Friday's invoice run.",
    "Ticket {order}: the customer says the {ctx} on file ({v}) is wrong.",
    "Order {order} failed at checkout. {ctx}: {v}. Could you check what happened?",
    "Hello,\n\nI changed my {ctx} to {v} last week but the portal still shows the old one.\n\nRegards",
    # chat
    "sure, it's {v}",
    "{ctx}? {v} 👍",
    "ok here you go: {v}\nthanks!!",
    "my {ctx} -> {v} (the new one)",
    "can u try \"{v}\"?",
    # log lines
    "{time} INFO  user.update {key}={v} request_id={rid}",
    "{time} WARN  retry 3/5 for <{v}>: upstream timeout",
    "level=error msg=\"verification failed\" {key}=\"{v}\" trace={rid}",
    "{time} DEBUG payload={{\"{key}\":\"{v}\",\"attempt\":2}}",
    "[{time}] lookup {key}:{v} -> 404",
    # LLM prompts
    "Summarize this thread. The customer (their {ctx} is {v}) asked for a refund on {order}.",
    "Translate to French: 'Please contact me, {ctx} {v}, tomorrow morning.'",
    "Write a polite reply to the user whose {ctx} is `{v}`; they were double charged.",
    "Extract the fields from this form as JSON:\nName: (see above)\n{ctx}: {v}\nOrder: {order}",
)
GLUED = ("{ctx}:{v}", "({v})", "[{v}]", "'{v}',", "{ctx}={v};", "*{v}*", "{ctx}#{v}")
PHONE_GLUED = ("Tel.{v}", "ph:{v}", "Mob{v}", "WhatsApp:{v}", "Phone#{v}", "{v}(mobile)", "call{v}asap")


def text_case(rng: random.Random, type_: str, value: str, source: str, need_context: bool = False) -> Case:
    """``value`` in a sentence; ``need_context`` picks one that names what it is (a bare 9-digit SSN is
    just a number: people write "SSN 123456789", and only that is fair to ask of a detector)."""
    ctx = rng.choice(CONTEXT[type_])
    if need_context:
        template = rng.choice([t for t in SENTENCES if "{ctx}" in t or "{key}" in t])
        carrier = "text/with-context"
    elif source.endswith("/glued") or rng.random() < 0.12:
        pool = PHONE_GLUED if type_ == "PHONE" else GLUED
        template, carrier = "Contact " + rng.choice(pool), "text/glued"
    else:
        template = rng.choice(SENTENCES)
        carrier = "text/" + ("log" if "{time}" in template or "level=" in template else "prompt" if "Summarize" in template or "Translate" in template or "Write" in template or "Extract" in template else "chat" if len(template) < 40 else "ticket")
    template = template.replace("{{", "\0").replace("}}", "\1")
    for name, make in (("{ctx}", lambda: ctx), ("{key}", lambda: KEY_WORD[type_]), ("{order}", lambda: order_id(rng)),
                       ("{time}", lambda: iso_time(rng)), ("{rid}", lambda: request_id(rng))):
        if name in template:
            template = template.replace(name, make())
    template = template.replace("\0", "{").replace("\1", "}")
    return finish_text(carrier, fill(template, type_, value, source))


# -- JSON payloads ----------------------------------------------------------------------------------
def json_case(rng: random.Random, type_: str, value: str, source: str, need_context: bool = False) -> Case:
    """A payload with the value in a free-text field (most) or in a field named for it."""
    direct = need_context or rng.random() < 0.3
    shape = rng.choice(("ticket", "customer") if direct else ("ticket", "chat", "customer", "event", "llm"))
    note = fill(rng.choice(("Customer wrote: {v}", "see {v}", "{v}", "Updated contact details -> {v}.", "Please use {v} from now on")), type_, value, source)
    if shape == "ticket":
        doc: Any = {"ticket": {"id": rng.randint(1000, 99999), "status": rng.choice(("open", "pending")), "priority": "normal",
                               "subject": "Account update", "created_at": iso_time(rng),
                               **({KEY_WORD[type_]: keep_value(type_, value, source)} if direct else {"description": note})}}
    elif shape == "chat":
        doc = {"event": {"type": "message", "channel": f"C{rng.randint(10**8, 10**9)}", "ts": f"{rng.randint(1_600_000_000, 1_800_000_000)}.{rng.randint(0, 999999):06d}",
                         "text": note, "blocks": []}}
    elif shape == "customer":
        doc = {"object": "customer", "id": f"cus_{rng.randint(10**9, 10**10)}", "currency": "eur", "livemode": False,
               "metadata": {"source": "signup", **({KEY_WORD[type_]: keep_value(type_, value, source)} if direct else {"notes": note})}}
    elif shape == "event":
        doc = {"level": "info", "ts": iso_time(rng), "service": "billing-api", "msg": note, "request_id": request_id(rng)}
    else:
        doc = {"model": rng.choice(("gpt-4o-mini", "claude-sonnet-4-5", "mistral-large-latest")), "temperature": 0.2,
               "messages": [{"role": "system", "content": "You are a helpful support assistant."},
                            {"role": "user", "content": note}]}
    return finish_json(f"json/{shape}{'-field' if direct and shape in ('ticket', 'customer') else ''}", doc)


def keep_value(type_: str, value: str, source: str) -> Marked:
    return fill("{v}", type_, value, source)


# -- people in JSON fields ---------------------------------------------------------------------------
ROLE_KEYS = ("requester", "assignee", "author", "owner", "sender", "recipient", "reviewer", "agent", "employee",
             "contact_person", "created_by", "approver", "reporter", "submitted_by", "manager", "customer", "patient")


def person_case(rng: random.Random, first: str, last: str) -> Case:
    """A person's name in a JSON payload under a role key, in the shapes APIs use."""
    role = rng.choice(ROLE_KEYS)
    full = f"{first} {last}"
    src = "PERSON_NAME/"
    shape = rng.choice(("role-string", "role-name", "role-display", "name-parts", "role-first-last", "camel-role-name", "fhir"))
    if shape == "role-string":
        sub: Any = {role: fill("{v}", "PERSON_NAME", full, src + shape)}
    elif shape == "role-name":
        sub = {role: {"id": rand_id(rng), "name": fill("{v}", "PERSON_NAME", full, src + shape), "type": "user"}}
    elif shape == "role-display":
        sub = {role: {"id": rand_id(rng), "display_name": fill("{v}", "PERSON_NAME", full, src + shape), "active": True}}
    elif shape == "name-parts":
        sub = {rng.choice(("contact", "customer", "passenger", "member", role)): {"name": {"first": fill("{v}", "PERSON_NAME", first, src + shape), "last": fill("{v}", "PERSON_NAME", last, src + shape)}, "locale": "en-GB"}}
    elif shape == "role-first-last":
        sub = {role: {"given_name": fill("{v}", "PERSON_NAME", first, src + shape), "family_name": fill("{v}", "PERSON_NAME", last, src + shape)}}
    elif shape == "camel-role-name":
        camel = "".join(w.capitalize() if i else w for i, w in enumerate(role.split("_")))
        sub = {f"{camel}Name": fill("{v}", "PERSON_NAME", full, src + shape)}
    else:
        sub = {"resourceType": "Patient", "name": [{"use": "official", "family": fill("{v}", "PERSON_NAME", last, src + shape), "given": [fill("{v}", "PERSON_NAME", first, src + shape)]}]}
    wrapper = rng.choice(("issue", "pull_request", "ticket", "message", "task", "entry", None))
    body = {"id": rand_id(rng), "updated_at": iso_time(rng), **sub}
    return finish_json(f"json/people/{shape}", {wrapper: body} if wrapper else body)


def rand_id(rng: random.Random) -> int:
    return rng.randint(10**5, 10**9)


# -- credentials: env files, configs, headers, URLs, logs -------------------------------------------
ENV_FILLER = (("NODE_ENV", "config-value"), ("PORT", "config-value"), ("AWS_REGION", "cloud-region"), ("LOG_LEVEL", "config-value"),
              ("S3_BUCKET", "bucket-name"), ("APP_VERSION", "version-dotted"), ("DATABASE_HOST", "hostname"),
              ("SENTRY_RELEASE", "git-sha"), ("TZ", "config-value"), ("BUILD_ID", "uuid"))
CONFIG_VALUES = {"NODE_ENV": ("production", "staging"), "PORT": ("8080", "3000"), "LOG_LEVEL": ("debug", "info"), "TZ": ("Europe/London", "UTC")}


def env_file(rng: random.Random, key: str, type_: str, value: str, source: str) -> Case:
    from detection_data_nonpii import NON_PII  # a cycle at import time otherwise: it builds its cases with this module

    m = Marked()
    filler = [(k, rng.choice(CONFIG_VALUES[k]) if cat == "config-value" else NON_PII[cat](rng)) for k, cat in rng.sample(ENV_FILLER, 4)]
    style = rng.choice(("plain", "export", "quoted", "docker"))
    for i, (k, v) in enumerate(filler):
        if i == 2:
            line_head = {"plain": f"{key}=", "export": f"export {key}=", "quoted": f'{key}="', "docker": f"  -e {key}="}[style]
            m.add(line_head).value(type_, value, source).add('"\n' if style == "quoted" else " \\\n" if style == "docker" else "\n")
        m.add({"plain": f"{k}=", "export": f"export {k}=", "quoted": f'{k}="', "docker": f"  -e {k}="}[style])
        m.value(env_category(k), v, env_category(k), keep=True).add('"\n' if style == "quoted" else " \\\n" if style == "docker" else "\n")
    return finish_text(f"env/{style}", m)


def env_category(key: str) -> str:
    return dict(ENV_FILLER)[key]


CRED_TEXT = (
    "here's the key I'm using: {v} - why does it return 401?",
    "curl -s -H 'Authorization: Bearer {v}' https://api.example.com/v1/me",
    "{time} ERROR auth failed for token={v} status=401",
    "config.yaml:\n  {ckey}: {v}\n  timeout: 30",
    "settings = {{\"{ckey}\": \"{v}\", \"region\": \"eu-west-1\"}}",
    "GET /v1/items?{ckey}={v}&page=2 HTTP/1.1",
    "docker login -u deploy --password {v} registry.example.com",
    "[default]\n{ckey} = {v}\n",
)


def credential_case(rng: random.Random, env: str, type_: str, value: str, source: str, needs_context: bool) -> Case:
    ckey = rng.choice(("api_key", "token", "secret", "access_token", "apiKey")) if type_ != "AWS_SECRET_KEY" else "aws_secret_access_key"
    r = rng.random()
    if r < 0.35 or needs_context and r < 0.6:
        return env_file(rng, env, type_, value, source)
    if needs_context and r < 0.8 or not needs_context and r < 0.55:
        template = rng.choice([t for t in CRED_TEXT if "{ckey}" in t])
    elif needs_context:
        doc = {"service": "worker", "credentials": {ckey: keep_value(type_, value, source)}, "retries": 3}
        return finish_json("json/config", doc)
    elif r < 0.8:
        template = rng.choice(CRED_TEXT)
    else:
        doc = rng.choice((
            {"request": {"method": "POST", "url": "https://api.example.com/v2/jobs", "headers": {"Authorization": fill("Bearer {v}", type_, value, source), "Accept": "application/json"}}},
            {"integration": {"provider": source.split("/")[0], "enabled": True, ckey: keep_value(type_, value, source)}},
            {"messages": [{"role": "user", "content": fill("my deploy fails, here is the env: " + env + "={v}", type_, value, source)}]},
            {"log": fill("auth header was Bearer {v} (truncated=false)", type_, value, source), "level": "warn"},
        ))
        return finish_json("json/credential", doc)
    template = template.replace("{{", "\0").replace("}}", "\1").replace("{ckey}", ckey).replace("{time}", iso_time(rng))
    template = template.replace("\0", "{").replace("\1", "}")
    return finish_text("text/credential", fill(template, type_, value, source))


URL_TEMPLATES = (
    ("postgres://app:{v}@db.internal:5432/orders", "URL_CREDENTIALS"),
    ("redis://:{v}@cache-01:6379/0", "URL_CREDENTIALS"),
    ("https://deploy:{v}@git.example.com/acme/site.git", "URL_CREDENTIALS"),
    ("amqp://worker:{v}@mq.example.net:5672/%2F", "URL_CREDENTIALS"),
)


def url_credential_case(rng: random.Random, value: str, source: str) -> Case:
    template, type_ = rng.choice(URL_TEMPLATES)
    if rng.random() < 0.5:
        return finish_text("text/url", fill(f"connecting with DATABASE_URL={template} ...", type_, value, source))
    return finish_json("json/url", {"datasource": {"url": fill(template, type_, value, source), "pool": 10}})


def percent_email_url_case(rng: random.Random, value: str, source: str) -> Case:
    template = rng.choice(("https://news.example.com/unsubscribe?email={v}&list=weekly",
                           "GET /api/v1/users/lookup?q={v}&limit=1 HTTP/1.1",
                           "redirect_uri=https%3A%2F%2Fapp.example.com%2Fcb&login_hint={v}"))
    if rng.random() < 0.5:
        return finish_text("text/url", fill(template, "EMAIL", value, source))
    return finish_json("json/url", {"request": {"url": fill(template, "EMAIL", value, source), "status": 200}})


Maker = Callable[[random.Random, str, str, str], Case]
