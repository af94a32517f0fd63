"""Named built-in policies (profiles), selected as ``builtin:NAME`` wherever a policy is named.

``PROFILES`` maps each name to its policy YAML, exactly what ``veil policy show
builtin:NAME`` prints; each text says in its comments what it protects and what it
keeps. A profile is compiled like any policy file, with ``builtin:NAME`` as its
source, so an error (there should be none: a test compiles each) would name it.
None of them has a ``keys:`` section: a built-in policy cannot assume a key exists,
so none hashes or tokenizes.

Pure: text in, Plan out. Resolving ``builtin:NAME`` arguments is
:func:`veil.settings.load_policy`'s job.
"""

from __future__ import annotations

from functools import lru_cache
from string import Template

from veil.errors import PolicyError
from veil.rules.compiler import compile_policy
from veil.rules.default_policy import DEFAULT_POLICY_YAML
from veil.rules.plan import Plan

PREFIX = "builtin:"
"""How a policy argument names a profile: ``builtin:app``."""

# Every built-in detector but URL, as the default policy scans (a test keeps them equal).
_DETECTORS = """\
[PRIVATE_KEY, JWT, API_KEY, AWS_ACCESS_KEY, AWS_SECRET_KEY, BEARER_TOKEN,
                  URL_CREDENTIALS, SECRET, EMAIL, IBAN, CREDIT_CARD, US_SSN, US_ITIN, UK_NINO, US_PASSPORT,
                  DATE_OF_BIRTH, IP_ADDRESS, MAC_ADDRESS, PHONE]"""

STRICT_YAML = DEFAULT_POLICY_YAML
"""``builtin:strict``, the default policy (:mod:`veil.rules.default_policy`).

Protects everything in both directions: credentials in headers, every cookie value,
credential query parameters, fields named for personal data, every detector over every
string. Keeps nothing: behind in-app middleware the app's own ``Authorization``,
session cookies and login tokens are redacted too, which is what ``app`` is for.
"""

APP_YAML = Template("""\
# builtin:app: veil's middleware inside your own app (FastAPI, Flask, Django).
#
# Protects: personal data and secrets in what the app sends (response bodies, headers, the
#   URLs of redirects), and in log records (veil.integrations.logging) under the same policy.
# Keeps the app working:
#   - requests entering the app are not touched: the app needs its input, and its own
#     Authorization header, session and CSRF cookies and login form included;
#   - the cookies it sets (Set-Cookie: sessions, CSRF, remember-me) and its auth headers;
#   - the tokens its login hands out in JSON responses: access_token, refresh_token, id_token,
#     any key ending in token, access and refresh (djangorestframework-simplejwt), jwt (Strapi),
#     session_id, csrf. Passwords, API keys and client secrets in a response are still redacted.
# A credential is kept only while it is opaque: entity AUTH_TOKEN means that a value holding
#   personal data (an e-mail, a phone or card number...) is scanned and redacted as any other.
#   devise_token_auth's uid header is the login itself (often the e-mail) and is kept as it is.
version: 1
field_names:
  classes:
    - entity: AUTH_TOKEN           # by the key's last words, any spelling: accessToken, X-CSRF-Token
      names: [access_token, refresh_token, id_token, auth_token, token, access, refresh, jwt, session_id, csrf,
              xsrf, csrftoken, csrfmiddlewaretoken]
rules:
  - id: app-auth
    match: {direction: response}
    headers:
      - {name: authorization, entity: AUTH_TOKEN, action: keep}    # a token handed out in a header (devise-jwt)
      - {name: www-authenticate, entity: AUTH_TOKEN, action: keep}
      - {name: x-auth-token, entity: AUTH_TOKEN, action: keep}
      - {name: x-access-token, entity: AUTH_TOKEN, action: keep}
      - {name: x-refresh-token, entity: AUTH_TOKEN, action: keep}
      - {name: x-id-token, entity: AUTH_TOKEN, action: keep}
      - {name: access-token, entity: AUTH_TOKEN, action: keep}     # devise_token_auth
      - {name: uid, action: keep}                                  # devise_token_auth: the login, sent back each call
      - {name: refresh-token, entity: AUTH_TOKEN, action: keep}
      - {name: x-csrf-token, entity: AUTH_TOKEN, action: keep}
      - {name: x-csrftoken, entity: AUTH_TOKEN, action: keep}
      - {name: x-xsrf-token, entity: AUTH_TOKEN, action: keep}
    cookies:
      - {name: "*", entity: AUTH_TOKEN, action: keep}              # the app's own state in its client
  - id: app-responses
    match: {direction: response}
    classify:
      action: redact
      actions: {AUTH_TOKEN: keep}
    scan:
      detectors: $detectors
      action: redact
  - id: app-logs
    # Only what carries no HTTP method: log records, plan.redact_text() without a route,
    # `veil apply` without --method. A request entering the app always has one.
    match: {direction: request, methods: [""]}
    classify: true                 # AUTH_TOKEN too: a token in a log line is redacted
    scan:
      detectors: $detectors
      action: redact
""").substitute(detectors=_DETECTORS)
"""``builtin:app``, for in-app middleware.

Protects personal data and secrets in the app's responses and in its log records.
Keeps the app's own auth flow working: requests are untouched, and in responses the
cookies the app sets, its auth headers (``Authorization``, ``X-CSRF-Token``...) and
the login tokens in JSON bodies (``access_token``, ``refresh_token``, ``id_token``,
``*_token``, ``access``/``refresh``, ``jwt``, ``session_id``, ``csrf``) are kept, as
long as they are opaque (entity ``AUTH_TOKEN``, :mod:`veil.rules.opaque`): personal
data under those names or in a cookie (``{"notification_token": "jane@example.com"}``,
``Set-Cookie: email=jane@example.com``) is redacted.
"""

EGRESS_YAML = Template("""\
# builtin:egress: calls from your code to vendors (the httpx transport, veil proxy --egress).
# `request` is what leaves for the vendor.
#
# Protects: personal data and secrets in what is sent (bodies, headers, query values), e.g.
#   an e-mail or a pasted API key in an LLM prompt, and a Proxy-Authorization header.
# Keeps the call working:
#   - the client's own credentials to the vendor: Authorization, x-api-key, api-key,
#     x-goog-api-key, anthropic-*, openai-* and the other credential headers, the vendor's
#     cookies, and credential query parameters (Gemini's ?key=, signed URLs' signature);
#   - the parameters of OAuth 2.0 token, revocation and introspection requests, which are
#     form bodies (client_secret, refresh_token, code...);
#   - the vendor's replies, which are the client's own data: not touched. Write a response
#     rule to redact what a model writes (examples/policies/llm-vendor.yaml).
version: 1
rules:
  - id: egress-credentials
    match: {direction: request}
    headers:
      - {name: authorization, action: keep}
      - {name: proxy-authorization, action: redact}  # a proxy's credential, never the vendor's
      - {name: x-api-key, action: keep}            # Anthropic and many others
      - {name: api-key, action: keep}              # Azure OpenAI, Pinecone
      - {name: x-goog-api-key, action: keep}       # Gemini
      - {name: "anthropic-*", action: keep}        # anthropic-version, anthropic-beta
      - {name: "openai-*", action: keep}           # openai-organization, openai-project
      - {name: ocp-apim-subscription-key, action: keep}   # Azure API Management
      - {name: dd-api-key, action: keep}           # Datadog
      - {name: dd-application-key, action: keep}
      - {name: x-sentry-auth, action: keep}
      - {name: x-auth-token, action: keep}
      - {name: x-access-token, action: keep}
      - {name: "x-*-token", action: keep}          # x-amz-security-token, x-vault-token...
      - {name: "x-*-key", action: keep}
      - {name: "x-*-secret", action: keep}
    cookies:
      - {name: "*", action: keep}                  # the vendor's own session
    query:
      - {name: key, action: keep}                  # Gemini, Google Maps
      - {name: api_key, action: keep}
      - {name: apikey, action: keep}
      - {name: access_token, action: keep}
      - {name: sig, action: keep}                  # Azure SAS
      - {name: signature, action: keep}
      - {name: "x-amz-signature", action: keep}    # S3 presigned URLs
      - {name: "x-amz-credential", action: keep}
      - {name: "x-amz-security-token", action: keep}
    form:                                          # RFC 6749, 7009, 7662, 8693, 8628
      - {name: client_secret, action: keep}
      - {name: client_assertion, action: keep}
      - {name: assertion, action: keep}
      - {name: refresh_token, action: keep}
      - {name: code, action: keep}
      - {name: code_verifier, action: keep}
      - {name: device_code, action: keep}
      - {name: token, action: keep}
      - {name: subject_token, action: keep}
      - {name: actor_token, action: keep}
  - id: egress-payloads
    match: {direction: request}
    classify: true
    scan:
      detectors: $detectors
      action: redact
""").substitute(detectors=_DETECTORS)
"""``builtin:egress``, for calls to vendors (default of the httpx transport and ``veil proxy --egress``).

Protects personal data and secrets in what leaves for the vendor. Keeps the client's
credential headers (``Authorization``, ``x-api-key``, ``api-key``, ``x-goog-api-key``,
``anthropic-*``, ``openai-*``...), the vendor's cookies, credential query parameters,
OAuth token-request form parameters, and the vendor's replies untouched.
"""

LOGS_YAML = Template("""\
# builtin:logs: log lines and records (veil.integrations.logging, `veil apply app.log`).
#
# Protects: personal data and secrets in the text (every detector but URL) and in fields
#   named for them (extra={"email": ...}, structlog keys, JSON log lines), whatever the
#   direction a caller names.
# Keeps: everything else. No header, cookie or query rules: a log line has none.
version: 1
rules:
  - id: logs
    classify: true
    scan:
      detectors: $detectors
      action: redact
""").substitute(detectors=_DETECTORS)
"""``builtin:logs``, for log lines and records.

Protects personal data and secrets in free text and in fields named for them, in
either direction. Keeps everything else; it has no header, cookie or query rules.
"""

PROFILES: dict[str, str] = {
    "strict": STRICT_YAML,
    "app": APP_YAML,
    "egress": EGRESS_YAML,
    "logs": LOGS_YAML,
}
"""Profile name -> policy YAML. ``strict`` is the default of :func:`veil.default_plan`."""


def profile_yaml(name: str) -> str:
    """The YAML of profile ``name``; PolicyError naming the known profiles for any other name."""
    try:
        return PROFILES[name]
    except KeyError:
        known = ", ".join(PREFIX + n for n in PROFILES)
        raise PolicyError(f"unknown built-in policy {name!r}; known: {known}", source=PREFIX + name) from None


@lru_cache(maxsize=None)
def profile_plan(name: str) -> Plan:
    """Profile ``name`` compiled, once per process (a Plan is immutable and shared)."""
    return compile_policy(profile_yaml(name), source=PREFIX + name)
