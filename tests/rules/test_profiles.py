"""The built-in profiles (issue #16): what each redacts and what each keeps, and how one is selected."""

from __future__ import annotations

import base64
import json
import logging
from pathlib import Path
from urllib.parse import quote

import orjson
import pytest

import veil
from veil import PolicyError, Route
from veil.integrations.logging import LOG_ROUTE, RedactingFilter
from veil.rules.plan import Plan
from veil.rules.profiles import PROFILES, profile_plan
from veil.settings import load_policy, plan_from_env, resolve_plan


def _b64(data: dict[str, object]) -> str:
    return base64.urlsafe_b64encode(json.dumps(data).encode()).decode().rstrip("=")


JWT = f"{_b64({'alg': 'HS256', 'typ': 'JWT'})}.{_b64({'sub': '42', 'exp': 1900000000})}.c2lnbmF0dXJlLWJ5dGVzLWhlcmUtMzI"
OPAQUE = "r8f7Gh2kLq9ZxV3mN5pT1wYcQ4sD6fH8jK0l"  # a random-looking refresh token or session id
EMAIL = "jane.roe@example.com"
CARD = "4111 1111 1111 1111"

LOGIN = Route("request", "POST", "app.example.com", "/login", "application/json")
LOGIN_REPLY = Route("response", "POST", "app.example.com", "/login", "application/json")
ME = Route("request", "GET", "app.example.com", "/me")
ME_REPLY = Route("response", "GET", "app.example.com", "/me", "application/json")
TO_VENDOR = Route("request", "POST", "api.openai.com", "/v1/chat/completions", "application/json")
FROM_VENDOR = Route("response", "POST", "api.openai.com", "/v1/chat/completions", "application/json")


def _placeholder(entity: str) -> str:
    return f"[REDACTED:{entity}]"


def _json_field(plan: Plan, route: Route, key: str, value: object) -> object:
    body = orjson.dumps({key: value})
    return orjson.loads(plan.redact_body(body, "application/json", route).output)[key]


def _header(plan: Plan, route: Route, name: str, value: str) -> str | None:
    out, _ = plan.redact_headers([(name, value)], route)
    return out[0][1] if out else None


# -- every profile -----------------------------------------------------------------------


@pytest.mark.parametrize("name", sorted(PROFILES))
def test_each_profile_compiles_under_its_builtin_name(name: str) -> None:
    plan = veil.load_policy(f"builtin:{name}")
    assert plan.source == f"builtin:{name}"
    assert plan.rules
    assert veil.builtin_policy(name) == PROFILES[name] == veil.builtin_policy(f"builtin:{name}")


@pytest.mark.parametrize("name", sorted(PROFILES))
def test_each_profile_text_says_what_it_protects_and_keeps(name: str) -> None:
    if name == "strict":  # the default policy's text predates profiles; its module docstring says it
        return
    text = PROFILES[name]
    assert text.startswith(f"# builtin:{name}:")
    assert "Protects:" in text and "Keeps" in text


@pytest.mark.parametrize("name", sorted(PROFILES))
def test_every_profile_scans_with_the_detectors_of_the_default(name: str) -> None:
    strict = {r.scan.detectors for r in veil.default_plan().rules if r.scan}
    mine = {r.scan.detectors for r in profile_plan(name).rules if r.scan}
    assert mine == strict


def test_a_profile_is_compiled_once_and_shared() -> None:
    assert load_policy("builtin:app") is load_policy("builtin:app")
    assert load_policy("builtin:app") is not load_policy("builtin:egress")


@pytest.mark.parametrize("name", ["nope", "", "App", "strict ", "builtin:app"])
def test_an_unknown_profile_is_a_policy_error_naming_the_known_ones(name: str) -> None:
    with pytest.raises(PolicyError) as err:
        load_policy(f"builtin:{name}")
    message = str(err.value)
    assert message.startswith(f"builtin:{name}: unknown built-in policy {name!r}")
    for known in PROFILES:
        assert f"builtin:{known}" in message


def test_builtin_names_reach_every_way_a_policy_is_named() -> None:
    assert resolve_plan("builtin:logs") is profile_plan("logs")  # policy="builtin:logs" in the adapters
    assert plan_from_env({"VEIL_POLICY": "builtin:egress"}) is profile_plan("egress")


def test_the_app_profile_redacts_records_through_the_logging_filter() -> None:
    record = logging.LogRecord("app.auth", logging.INFO, __file__, 1, "login ok for %s", (EMAIL,), None)
    assert RedactingFilter("builtin:app").filter(record)
    assert record.getMessage() == f"login ok for {_placeholder('EMAIL')}"


def test_a_path_object_named_like_a_profile_is_still_a_file() -> None:
    with pytest.raises(PolicyError, match="policy file not found"):
        load_policy(Path("builtin:app"))


def test_the_default_plan_stays_strict() -> None:
    assert veil.DEFAULT_POLICY_YAML == PROFILES["strict"]
    assert veil.default_plan().source == "<default policy>"
    body = orjson.dumps({"access_token": JWT, "email": EMAIL})
    for route in (LOGIN, LOGIN_REPLY):
        assert (veil.default_plan().redact_body(body, "application/json", route).output
                == profile_plan("strict").redact_body(body, "application/json", route).output)


# -- strict ------------------------------------------------------------------------------


@pytest.mark.parametrize("route", [LOGIN, LOGIN_REPLY], ids=["request", "response"])
@pytest.mark.parametrize(
    "name, value, entity",
    [
        ("Authorization", f"Bearer {JWT}", "SECRET"),
        ("X-Api-Key", OPAQUE, "SECRET"),
        ("X-Vault-Token", OPAQUE, "SECRET"),
        ("Cookie", f"session={OPAQUE}", "SECRET"),
        ("Set-Cookie", f"session={OPAQUE}; Path=/; HttpOnly", "SECRET"),
    ],
)
def test_strict_redacts_credentials_in_both_directions(route: Route, name: str, value: str, entity: str) -> None:
    out = _header(profile_plan("strict"), route, name, value)
    assert out is not None and OPAQUE not in out and JWT not in out and _placeholder(entity) in out


# -- app ---------------------------------------------------------------------------------

APP_KEEPS_IN_RESPONSES = [  # (key, value): what the strict profile redacts and app keeps
    ("access_token", JWT),
    ("accessToken", JWT),
    ("refresh_token", OPAQUE),
    ("id_token", JWT),
    ("token", OPAQUE),  # DRF authtoken, knox
    ("auth_token", OPAQUE),
    ("csrf_token", OPAQUE),
    ("csrfToken", OPAQUE),
    ("csrf", JWT),
    ("access", JWT),  # djangorestframework-simplejwt
    ("refresh", JWT),
    ("session_id", OPAQUE),
]
APP_REDACTS_IN_RESPONSES = [  # near misses: secrets that are not the app's login tokens, and personal data
    ("password", "hunter2-Hunter2", "SECRET"),
    ("api_key", OPAQUE, "SECRET"),
    ("client_secret", OPAQUE, "SECRET"),
    ("otp", "492018", "SECRET"),
    ("email", EMAIL, "EMAIL"),
    ("card_number", CARD, "CREDIT_CARD"),
    ("note", f"mail {EMAIL}", None),
    ("bio", f"token {JWT}", None),  # a JWT outside a token field is still one
]


@pytest.mark.parametrize("key, value", APP_KEEPS_IN_RESPONSES)
def test_app_keeps_the_login_tokens_in_responses(key: str, value: object) -> None:
    assert _json_field(profile_plan("strict"), LOGIN_REPLY, key, value) != value
    assert _json_field(profile_plan("app"), LOGIN_REPLY, key, value) == value


@pytest.mark.parametrize("key, value, entity", APP_REDACTS_IN_RESPONSES)
def test_app_redacts_personal_data_and_other_secrets_in_responses(key: str, value: str, entity: str | None) -> None:
    out = _json_field(profile_plan("app"), ME_REPLY, key, value)
    assert out != value
    if entity:
        assert out == _placeholder(entity)


@pytest.mark.parametrize(
    "name, value",
    [
        ("Set-Cookie", f"session={OPAQUE}; Path=/; HttpOnly; SameSite=Lax"),
        ("Set-Cookie", f"sessionid={JWT}; Path=/"),
        ("Set-Cookie", "session=; Max-Age=0; Path=/"),  # logout
        ("Authorization", f"Bearer {JWT}"),
        ("X-CSRF-Token", OPAQUE),
        ("X-Auth-Token", JWT),
        ("WWW-Authenticate", 'Bearer realm="api", error="invalid_token"'),
    ],
)
def test_app_keeps_the_cookies_and_auth_headers_it_sends(name: str, value: str) -> None:
    assert _header(profile_plan("app"), LOGIN_REPLY, name, value) == value


@pytest.mark.parametrize(
    "name, value, entity",
    [
        ("X-User-Email", EMAIL, "EMAIL"),
        ("X-Debug", f"token {JWT}", "JWT"),
        ("X-Client-Ip", "203.0.113.9", "IP_ADDRESS"),
    ],
)
def test_app_redacts_personal_data_in_other_response_headers(name: str, value: str, entity: str) -> None:
    assert _placeholder(entity) in (_header(profile_plan("app"), ME_REPLY, name, value) or "")


@pytest.mark.parametrize("method", ["GET", "POST", "PUT", "PATCH", "DELETE", "OPTIONS", "HEAD"])
def test_app_leaves_every_request_entering_the_app_alone(method: str) -> None:
    plan = profile_plan("app")
    route = Route("request", method, "app.example.com", "/api/users", "application/json")
    body = orjson.dumps({"email": EMAIL, "password": "hunter2-Hunter2", "card": CARD, "note": f"call {EMAIL}"})
    assert plan.view(route).rules == ()
    assert plan.redact_body(body, "application/json", route).output == body
    headers = [("Authorization", f"Bearer {JWT}"), ("Cookie", f"session={OPAQUE}; csrftoken={OPAQUE}"),
               ("X-CSRF-Token", OPAQUE), ("X-User-Email", EMAIL)]
    assert plan.redact_headers(headers, route)[0] == headers
    query = f"email={quote(EMAIL)}&access_token={OPAQUE}"
    assert plan.redact_query(query, route)[0] == query


def test_app_login_flow_works_and_protects_personal_data() -> None:
    plan = profile_plan("app")
    # 1. login: the credentials reach the app
    login = orjson.dumps({"username": EMAIL, "password": "hunter2-Hunter2"})
    assert plan.redact_body(login, "application/json", LOGIN).output == login
    # 2. the login reply: tokens and the session cookie reach the client, the user's data does not
    reply = orjson.dumps({"access_token": JWT, "refresh_token": OPAQUE, "token_type": "bearer", "expires_in": 900,
                          "user": {"id": 42, "email": EMAIL, "phone": "+44 20 7946 0958"}})
    out = orjson.loads(plan.redact_body(reply, "application/json", LOGIN_REPLY).output)
    assert (out["access_token"], out["refresh_token"], out["token_type"]) == (JWT, OPAQUE, "bearer")
    assert out["user"] == {"id": 42, "email": _placeholder("EMAIL"), "phone": _placeholder("PHONE")}
    set_cookies = [("Set-Cookie", f"session={OPAQUE}; Path=/; HttpOnly"), ("Set-Cookie", f"csrftoken={OPAQUE}; Path=/")]
    assert plan.redact_headers(set_cookies, LOGIN_REPLY)[0] == set_cookies
    # 3. an authenticated call: bearer token and cookies reach the app; personal data in its reply is redacted
    auth = [("Authorization", f"Bearer {JWT}"), ("Cookie", f"session={OPAQUE}; csrftoken={OPAQUE}")]
    assert plan.redact_headers(auth, ME)[0] == auth
    me = orjson.loads(plan.redact_body(orjson.dumps({"id": 42, "email": EMAIL, "card": CARD}), "application/json",
                                       ME_REPLY).output)
    assert me == {"id": 42, "email": _placeholder("EMAIL"), "card": _placeholder("CREDIT_CARD")}
    # 4. logout: the session cookie is cleared as the app says
    logout = Route("request", "POST", "app.example.com", "/logout")
    assert plan.redact_headers(auth, logout)[0] == auth
    clear = [("Set-Cookie", "session=; Expires=Thu, 01 Jan 1970 00:00:00 GMT; Max-Age=0; Path=/")]
    assert plan.redact_headers(clear, Route("response", "POST", "app.example.com", "/logout"))[0] == clear


def test_app_redacts_log_records_and_tokens_in_them() -> None:
    plan = profile_plan("app")
    assert [r.id for r in plan.view(LOG_ROUTE).rules] == ["app-logs"]
    text = f"login ok for {EMAIL} with Bearer {JWT}"
    out = plan.redact_text(text, LOG_ROUTE).text
    assert EMAIL not in out and JWT not in out
    assert plan.redact_json({"access_token": OPAQUE, "user_id": 42}, LOG_ROUTE)[0] == {
        "access_token": _placeholder("AUTH_TOKEN"), "user_id": 42}
    assert plan.redact_text("user 42 logged in", LOG_ROUTE).text == "user 42 logged in"


# -- app: a credential is kept only while it is opaque (issue #15 review) -----------------
# The app keeps the credentials its login needs; a value under a credential's name that a
# personal-data detector finds something in is not one, and is redacted. Real tokens and
# the framework session cookies below hold nothing those detectors find.

PHONE = "+44 20 7946 0958"
SSN = "536-22-1847"
IBAN = "GB82WEST12345698765432"
FLASK_SESSION = "eyJ1c2VyX2lkIjo0Mn0.Z3xYcA.q5kD4m0Xh2pV8bN3sR7tW1yZ6cF9gJ-_aLe"  # itsdangerous: payload.time.sig
DJANGO_SESSION = "k3j9x2m8v5n7t1w4a6c0e3g5h7j9l1p2"
EXPRESS_SESSION = "s%3AQm9yZ1R6aXJxY0VmR2hJamtMbW5v.dGhpcyBpcyBhIHNpZ25hdHVyZSBvZiAzMg"
RAILS_SESSION = "dGhlIGNpcGhlcnRleHQgYnl0ZXM--aXZfYnl0ZXNfMTI--YXV0aF90YWdfMTY%3D"
JWT_OF_AN_EMAIL = f"{_b64({'alg': 'HS256'})}.{_b64({'sub': EMAIL})}.c2lnbmF0dXJlLWJ5dGVz"  # encoded: opaque


@pytest.mark.parametrize(
    "key, value, redacted",
    [
        ("notification_token", EMAIL, _placeholder("EMAIL")),  # the review's case
        ("access_token", EMAIL, _placeholder("EMAIL")),
        ("refreshToken", PHONE, _placeholder("PHONE")),
        ("session_id", CARD, _placeholder("CREDIT_CARD")),
        ("session_id", 4111111111111111, _placeholder("CREDIT_CARD")),  # a number under the key
        ("csrf", SSN, _placeholder("US_SSN")),
        ("jwt", IBAN, _placeholder("IBAN")),
        ("auth_token", f"sent to {EMAIL}", f"sent to {_placeholder('EMAIL')}"),  # only the finding goes
        ("token", {"email": EMAIL, "value": OPAQUE}, {"email": _placeholder("EMAIL"), "value": OPAQUE}),
        ("token", [OPAQUE, EMAIL], [OPAQUE, _placeholder("EMAIL")]),
    ],
)
def test_app_redacts_personal_data_under_a_login_tokens_name(key: str, value: object, redacted: object) -> None:
    plan = profile_plan("app")
    assert _json_field(plan, LOGIN_REPLY, key, value) == redacted  # bytes: the splice path
    assert plan.redact_json({key: value}, LOGIN_REPLY)[0] == {key: redacted}  # objects: the walk
    pretty = json.dumps({"user": 42, key: value}, indent=2).encode()
    assert orjson.loads(plan.redact_body(pretty, "application/json", LOGIN_REPLY).output)[key] == redacted


@pytest.mark.parametrize(
    "key, value",
    [
        ("access_token", JWT),
        ("id_token", JWT_OF_AN_EMAIL),  # a JWT's claims are encoded: nothing to find
        ("refresh_token", OPAQUE),
        ("session_id", DJANGO_SESSION),
        ("token", FLASK_SESSION),
        ("csrfToken", "Zx9_kP2-mQ7vL4nR8tY1wB6cD0eF3gH5"),
        ("notification_token", "fcm:APA91bH7xK2mP9qL4vN8sT1wY6zC3dF5gJ0kR7uE2iO9pA"),  # a push token
    ],
)
def test_app_still_keeps_opaque_login_tokens(key: str, value: str) -> None:
    plan = profile_plan("app")
    assert _json_field(plan, LOGIN_REPLY, key, value) == value
    body = orjson.dumps({key: value, "user": {"email": EMAIL}})
    assert plan.redact_body(body, "application/json", LOGIN_REPLY).output == body.replace(
        EMAIL.encode(), _placeholder("EMAIL").encode())  # the splice path: every other byte as it came


@pytest.mark.parametrize(
    "name, value, expected",
    [
        ("Set-Cookie", f"email={EMAIL}; Path=/", f"email={_placeholder('EMAIL')}; Path=/"),  # the review's case
        ("Set-Cookie", f"remember_email={quote(EMAIL)}; Path=/; HttpOnly",
         f"remember_email={_placeholder('EMAIL')}; Path=/; HttpOnly"),
        ("Set-Cookie", f"phone={quote(PHONE)}", f"phone={_placeholder('PHONE')}"),
        ("Set-Cookie", f"prefs={quote(json.dumps({'mail': EMAIL}))}; Path=/", None),  # JSON in a cookie
        ("Cookie", f"session={OPAQUE}; email={EMAIL}", f"session={OPAQUE}; email={_placeholder('EMAIL')}"),
        ("X-Auth-Token", EMAIL, _placeholder("EMAIL")),
        ("Authorization", f"Bearer {EMAIL}", f"Bearer {_placeholder('EMAIL')}"),
        ("X-CSRF-Token", CARD, _placeholder("CREDIT_CARD")),
    ],
)
def test_app_redacts_personal_data_in_the_cookies_and_auth_headers_it_keeps(
        name: str, value: str, expected: str | None) -> None:
    out = _header(profile_plan("app"), LOGIN_REPLY, name, value)
    assert out is not None and EMAIL not in out and quote(EMAIL) not in out and PHONE not in out and CARD not in out
    if expected is not None:
        assert out == expected


@pytest.mark.parametrize(
    "name, value",
    [
        ("Set-Cookie", f"session={FLASK_SESSION}; HttpOnly; Path=/"),
        ("Set-Cookie", f"sessionid={DJANGO_SESSION}; expires=Thu, 01 Jan 2037 00:00:00 GMT; HttpOnly; Max-Age=1209600"),
        ("Set-Cookie", f"connect.sid={EXPRESS_SESSION}; Path=/; HttpOnly"),
        ("Set-Cookie", f"_app_session={RAILS_SESSION}; path=/; secure; HttpOnly; SameSite=Lax"),
        ("Set-Cookie", f"access_token={JWT_OF_AN_EMAIL}; Secure"),
        ("Cookie", f"session={OPAQUE}; csrftoken={DJANGO_SESSION}"),
        ("uid", EMAIL),  # devise_token_auth: the login itself, sent back on each call; kept as it is
        ("access-token", "wwwww_dBKbQ1Kcf4Y9o1mQ"),
    ],
)
def test_app_still_keeps_opaque_session_cookies_and_the_login_header(name: str, value: str) -> None:
    assert _header(profile_plan("app"), LOGIN_REPLY, name, value) == value


def test_app_redacts_personal_data_under_a_token_parameter_of_a_redirect() -> None:
    plan = profile_plan("app")
    assert plan.redact_query(f"access_token={OPAQUE}", LOGIN_REPLY)[0] == f"access_token={OPAQUE}"
    out = plan.redact_query(f"access_token={quote(EMAIL)}", LOGIN_REPLY)[0]
    assert out.startswith("access_token=") and quote(EMAIL) not in out and EMAIL not in out


def test_only_a_kept_credential_gives_way() -> None:
    """The check concerns AUTH_TOKEN values a rule keeps: any other keep is an allow list (``uid`` above),
    a redact under AUTH_TOKEN already rewrites, and the credential detectors never unkeep a token."""
    from veil.rules.detectors import BUILTIN_DETECTORS
    from veil.rules.opaque import CREDENTIAL_TYPES, OPAQUE_CREDENTIAL, holds_personal_data

    assert CREDENTIAL_TYPES < set(BUILTIN_DETECTORS)
    assert OPAQUE_CREDENTIAL in profile_plan("app").classifier.entities  # type: ignore[union-attr]
    view = profile_plan("app").view(LOGIN_REPLY)
    assert not holds_personal_data(view, JWT) and not holds_personal_data(view, f"Bearer {JWT}")
    assert holds_personal_data(view, EMAIL) and holds_personal_data(view, f"x_{CARD}")
    policy = ("version: 1\nrules:\n  - headers: [{name: x-user, action: keep}]\n"
              "    cookies: [{name: '*', entity: AUTH_TOKEN, action: redact}]\n    scan: true\n")
    plan = veil.compile_policy(policy)
    assert plan.redact_headers([("X-User", EMAIL)])[0] == [("X-User", EMAIL)]
    assert plan.redact_headers([("Set-Cookie", f"s={OPAQUE}")])[0] == [("Set-Cookie", f"s={_placeholder('AUTH_TOKEN')}")]


# -- egress ------------------------------------------------------------------------------


ANTHROPIC_KEY = "sk-ant-api03-" + "a1B2c3D4e5F6g7H8" * 6
GOOGLE_KEY = "AIza" + "SyA1b2C3d4E5f6G7h8I9j0K1l2M3n4O5p6q"


@pytest.mark.parametrize(
    "name, value",
    [
        ("Authorization", f"Bearer {JWT}"),
        ("Authorization", "Bearer sk-proj-" + "Ab3dEf6hIj9kLm2nOp5qRs8tUv1wXy4z" * 3),
        ("x-api-key", ANTHROPIC_KEY),
        ("api-key", JWT),
        ("x-goog-api-key", GOOGLE_KEY),
        ("anthropic-beta", f"tools-{JWT}"),
        ("openai-project", JWT),
        ("x-amz-security-token", JWT),
        ("Cookie", f"__cf_bm={OPAQUE}; session={JWT}"),
    ],
)
def test_egress_keeps_the_clients_credentials_to_the_vendor(name: str, value: str) -> None:
    assert _header(profile_plan("logs"), TO_VENDOR, name, value) != value  # a credential a detector sees
    assert _header(profile_plan("egress"), TO_VENDOR, name, value) == value


@pytest.mark.parametrize(
    "name, value, entity",
    [
        ("X-User-Email", EMAIL, "EMAIL"),  # near miss: an x- header that is no credential
        ("X-Request-Note", f"card {CARD}", "CREDIT_CARD"),
        ("Proxy-Authorization", "Basic " + base64.b64encode(b"corp:hunter2").decode(), "SECRET"),  # not the vendor's
        ("User-Agent", f"app/1.0 ({EMAIL})", "EMAIL"),
    ],
)
def test_egress_redacts_personal_data_in_other_headers(name: str, value: str, entity: str) -> None:
    assert _placeholder(entity) in (_header(profile_plan("egress"), TO_VENDOR, name, value) or "")


def test_egress_vendor_call_keeps_authorization_and_redacts_the_prompt() -> None:
    plan = profile_plan("egress")
    headers = [("Authorization", f"Bearer {JWT}"), ("Content-Type", "application/json")]
    assert plan.redact_headers(headers, TO_VENDOR)[0] == headers
    prompt = {"model": "gpt-4o", "messages": [{"role": "user", "content": f"Write to {EMAIL} about card {CARD}"}],
              "user": EMAIL, "metadata": {"api_key": OPAQUE}}
    out = orjson.loads(plan.redact_body(orjson.dumps(prompt), "application/json", TO_VENDOR).output)
    assert out["model"] == "gpt-4o"
    content = out["messages"][0]["content"]
    assert EMAIL not in content and CARD not in content and content.startswith("Write to [REDACTED:EMAIL]")
    assert out["user"] == _placeholder("EMAIL") and out["metadata"]["api_key"] == _placeholder("SECRET")


def test_egress_leaves_the_vendors_reply_alone() -> None:
    plan = profile_plan("egress")
    reply = orjson.dumps({"access_token": JWT, "choices": [{"message": {"content": f"Mail {EMAIL}"}}]})
    assert plan.view(FROM_VENDOR).rules == ()
    assert plan.redact_body(reply, "application/json", FROM_VENDOR).output == reply


@pytest.mark.parametrize(
    "query, kept",
    [
        (f"key={OPAQUE}", True),  # Gemini
        (f"alt=sse&key={OPAQUE}", True),
        (f"sig={quote(OPAQUE)}&sv=2022-11-02", True),  # Azure SAS
        (f"X-Amz-Signature={OPAQUE}&X-Amz-Credential=AKIA", True),
        (f"email={quote(EMAIL)}", False),  # near miss: personal data in the query
        (f"password={OPAQUE}", False),
    ],
)
def test_egress_keeps_credential_query_parameters_only(query: str, kept: bool) -> None:
    out = profile_plan("egress").redact_query(query, TO_VENDOR)[0]
    assert (out == query) is kept


@pytest.mark.parametrize(
    "body, kept",
    [
        (f"grant_type=refresh_token&refresh_token={OPAQUE}&client_id=app&client_secret={OPAQUE}", True),
        (f"grant_type=authorization_code&code={OPAQUE}&code_verifier={OPAQUE}", True),
        (f"token={OPAQUE}&token_type_hint=access_token", True),  # revocation
        (f"grant_type=password&username=jane&password={OPAQUE}", False),  # near miss: a user's password
        (f"email={quote(EMAIL)}", False),
    ],
)
def test_egress_keeps_oauth_token_request_parameters(body: str, kept: bool) -> None:
    route = Route("request", "POST", "oauth2.googleapis.com", "/token", "application/x-www-form-urlencoded")
    out = profile_plan("egress").redact_body(body.encode(), "application/x-www-form-urlencoded", route).output
    assert (out == body.encode()) is kept


def test_egress_redacts_a_client_secret_in_a_json_body() -> None:  # near miss: only OAuth forms keep it
    assert _json_field(profile_plan("egress"), TO_VENDOR, "client_secret", OPAQUE) == _placeholder("SECRET")


# -- logs --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "text, leaked",
    [
        (f"password reset mailed to {EMAIL}", EMAIL),
        (f"charge failed for card {CARD}", CARD),
        (f"upstream said 401 for Bearer {JWT}", JWT),
        ("GET /api/orders?page=2 200 12ms", None),  # near miss: nothing personal
        ("worker 7 restarted after 3 retries", None),
    ],
)
@pytest.mark.parametrize("route", [LOG_ROUTE, Route("response"), None], ids=["log", "response", "no-route"])
def test_logs_redacts_free_text_in_any_direction(text: str, leaked: str | None, route: Route | None) -> None:
    out = profile_plan("logs").redact_text(text, route).text
    if leaked is None:
        assert out == text
    else:
        assert leaked not in out and "[REDACTED:" in out


def test_logs_classifies_fields_of_structured_records() -> None:
    out, _ = profile_plan("logs").redact_json({"event": "signup", "email": EMAIL, "password": OPAQUE, "n": 3}, LOG_ROUTE)
    assert out == {"event": "signup", "email": _placeholder("EMAIL"), "password": _placeholder("SECRET"), "n": 3}


def test_logs_has_no_header_cookie_or_query_rules() -> None:
    for rule in profile_plan("logs").rules:
        for targets in (rule.headers, rule.cookies, rule.query, rule.form):
            assert not targets.exact and not targets.globs
        assert rule.classify is not None and rule.scan is not None
