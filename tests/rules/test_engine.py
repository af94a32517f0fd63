"""Plan behaviour on real policies: selectors, actions, precedence, limits, content types."""

from __future__ import annotations

import textwrap
from typing import Any

import orjson
import pytest

from veil import PolicyError, RedactionError, Route, compile_policy, default_plan

KEY = {"tokens": {"k1": bytes(range(64))}, "hash": {"k1": b"h" * 32}}


def plan_for(rules: str, extra: str = "") -> Any:
    text = "version: 1\n" + textwrap.dedent(extra) + "rules:\n" + textwrap.indent(textwrap.dedent(rules), "  ")
    return compile_policy(text, source="t.yaml", key_material=KEY)


def redact(plan: Any, doc: Any, route: Route | None = None) -> Any:
    return orjson.loads(plan.redact_body(orjson.dumps(doc), "application/json", route).output)


DOC = {
    "user": {"email": "a@b.co", "name": "Ann", "tags": ["x", "y"]},
    "items": [{"card": "c1", "sku": "s1"}, {"card": "c2", "sku": "s2"}],
    "password": "top",
    "nested": {"deep": {"password": "p2"}},
    "weird key": "w",
}


@pytest.mark.parametrize(
    "path, changed",
    [
        ("$.user.email", {("user", "email")}),  # plain child
        ("$..password", {("password",), ("nested", "deep", "password")}),  # recursive descent
        ("$.items[*].card", {("items", 0, "card"), ("items", 1, "card")}),  # wildcard over a list
        ("$.items[0].card", {("items", 0, "card")}),  # index
        ("$.items[-1].card", {("items", 1, "card")}),  # negative index
        ("$.items[1:].sku", {("items", 1, "sku")}),  # slice
        ("$.user.*", {("user", "email"), ("user", "name"), ("user", "tags", 0), ("user", "tags", 1)}),  # wildcard
        ("$['weird key']", {("weird key",)}),  # quoted name
        ("$.missing.field", set()),  # selects nothing
    ],
)
def test_field_selectors_cover_exactly_what_they_select(path: str, changed: set[tuple[Any, ...]]) -> None:
    plan = plan_for(f"- fields: [{{path: \"{path}\", action: {{type: redact, template: 'X'}}}}]\n")
    out = redact(plan, DOC)
    seen = set()

    def walk(a: Any, b: Any, where: tuple[Any, ...]) -> None:
        if isinstance(a, dict):
            for k in a:
                walk(a[k], b[k], where + (k,))
        elif isinstance(a, list):
            for i, (x, y) in enumerate(zip(a, b)):
                walk(x, y, where + (i,))
        elif a != b:
            assert b == "X"
            seen.add(where)

    walk(DOC, out, ())
    assert seen == changed


@pytest.mark.parametrize(
    "action, value, expected",
    [
        ("redact", "4111111111111111", "[REDACTED:CREDIT_CARD]"),
        ("{type: redact, template: '<{type}>'}", "4111111111111111", "<CREDIT_CARD>"),
        ("mask", "4111-1111-1111-4242", "****-****-****-4242"),
        ("{type: mask, char: '#', keep_first: 2, keep_last: 0}", "4111-1111", "41##-####"),
        ("keep", "4111111111111111", "4111111111111111"),
        ("{type: generalize}", "4111111111111111", None),  # not generalizable: falls back to a placeholder
    ],
)
def test_field_actions(action: str, value: str, expected: str | None) -> None:
    plan = plan_for(f"- fields: [{{path: $.card, entity: CREDIT_CARD, action: {action}}}]\n")
    out = redact(plan, {"card": value})["card"]
    if expected is None:
        assert value not in out
    else:
        assert out == expected


def test_drop_removes_the_field_and_keeps_the_rest() -> None:
    plan = plan_for("- fields: [{path: $.secret, action: drop}]\n")
    assert redact(plan, {"secret": "s", "ok": 1}) == {"ok": 1}


def test_hash_is_deterministic_and_keyed() -> None:
    extra = "keys:\n  hash: {env: H}\n"
    plan = plan_for("- fields: [{path: $.email, entity: EMAIL, action: {type: hash, key: hash}}]\n", extra)
    a = redact(plan, {"email": "a@b.co"})["email"]
    assert a == redact(plan, {"email": "a@b.co"})["email"]
    assert a != redact(plan, {"email": "c@b.co"})["email"]
    assert a.startswith("hash_EMAIL_")


def test_tokenize_round_trips_through_detokenize() -> None:
    from veil.rules.actions.tokenize import detokenize_text

    extra = "keys:\n  tokens: {env: T}\n"
    plan = plan_for("- scan: {action: {type: tokenize, key: tokens}}\n", extra)
    body = orjson.dumps({"note": "write to jane@example.com today"})
    out = plan.redact_body(body, "application/json").output
    assert b"jane@example.com" not in out
    assert b"tok_EMAIL_k1_" in out
    restored, count = detokenize_text(out.decode(), plan.keyrings()[0])
    assert count == 1 and orjson.loads(restored) == orjson.loads(body)
    assert plan.detokenize(out.decode(), json_escape=True) == (restored, 1)


def test_detect_mode_reports_and_changes_nothing() -> None:
    plan = plan_for("- mode: detect\n  scan: true\n")
    body = orjson.dumps({"note": "mail jane@example.com"})
    result = plan.redact_body(body, "application/json")
    assert result.output == body
    assert [(f.type, f.mode, f.path) for f in result.report.findings] == [("EMAIL", "detect", "$.note")]


def test_enforcing_rule_beats_an_earlier_detect_rule() -> None:
    plan = plan_for("- mode: detect\n  scan: true\n- scan: true\n")
    out = redact(plan, {"note": "mail jane@example.com"})
    assert out == {"note": "mail [REDACTED:EMAIL]"}


@pytest.mark.parametrize(("first", "second"), [("$.email", "$..email"), ("$..email", "$.email"), ("$.*", "$.email")])
@pytest.mark.parametrize("kind", ["string", "number"])
def test_the_earlier_rule_decides_a_value_two_field_selectors_end_at(first: str, second: str, kind: str) -> None:
    # The walk once took whichever the selector states' set listed first: here always the later rule.
    plan = plan_for(f"- fields: [{{path: '{first}', action: redact, entity: FIRST}}]\n"
                    f"- fields: [{{path: '{second}', action: redact, entity: SECOND}}]\n")
    value = "a@b.co" if kind == "string" else 4111111111111111
    assert redact(plan, {"email": value}) == {"email": "[REDACTED:FIRST]"}


def test_a_detect_rules_field_does_not_stop_an_enforcing_class() -> None:
    # Found in review: the detect field covered the value first, and it went out with a detect finding only.
    plan = plan_for("- {id: watch, mode: detect, fields: [{path: '$..email', action: redact}]}\n"
                    "- {id: names, classify: {action: redact}}\n")
    assert redact(plan, {"email": "jane@example.com"}) == {"email": "[REDACTED:EMAIL]"}


def test_nesting_too_deep_to_write_back_is_a_clean_error() -> None:
    plan = compile_policy("version: 1\nlimits: {max_depth: 1100}\nallow: {fields: ['$.x']}\nrules:\n  - scan: true\n")
    body = b"[" * 1000 + b'"4111111111111111"' + b"]" * 1000  # changed, and past the stdlib encoder's recursion
    with pytest.raises(RedactionError) as info:
        plan.redact_body(body, "application/json")
    assert info.value.reason == "too_deep"


def test_routes_whose_fields_join_alike_get_their_own_views() -> None:
    # The view memo keys a route by digest; the fields are length-prefixed, so no two routes share a key.
    plan = compile_policy("version: 1\nrules:\n  - {id: h, match: {hosts: [h]}, scan: true}\n")
    assert plan.view(Route("request", "GET", "h", "p\0q")).rules
    assert not plan.view(Route("request", "GET", "h\0p", "q")).rules


def test_field_selector_beats_classification_and_scan() -> None:
    plan = plan_for("- fields: [{path: $.email, action: mask}]\n  classify: true\n  scan: true\n")
    assert redact(plan, {"email": "jane@example.com"}) == {"email": "****@******e.com"}


@pytest.mark.parametrize(
    "allow, value, survives",
    [
        ("values: [support@acme.com]", "support@acme.com", True),  # exact value
        ("patterns: ['[a-z]+@acme\\.com']", "help@acme.com", True),  # RE2 pattern, whole match
        ("patterns: ['acme']", "help@acme.com", False),  # partial pattern match does not allow
        ("fields: [$.contact]", "help@acme.com", True),  # selector
    ],
)
def test_allow_lists_exempt_values(allow: str, value: str, survives: bool) -> None:
    plan = plan_for(f"- scan: true\n  allow: {{{allow}}}\n")
    out = redact(plan, {"contact": f"write to {value}"})
    assert (value in out["contact"]) is survives


def test_scan_under_limits_scanning_to_selected_subtrees() -> None:
    plan = plan_for("- scan: {under: ['$.comments[*]']}\n")
    out = redact(plan, {"comments": ["mail a@b.co"], "other": "mail a@b.co"})
    assert out == {"comments": ["mail [REDACTED:EMAIL]"], "other": "mail a@b.co"}


def test_match_section_selects_rules_by_route() -> None:
    plan = plan_for(
        "- match: {direction: response, methods: [GET], paths: ['/api/**'], hosts: ['*.example.com']}\n  scan: true\n"
    )
    doc = {"n": "a@b.co"}
    hit = Route("response", "GET", "api.example.com:443", "/api/v1/users")
    assert redact(plan, doc, hit) == {"n": "[REDACTED:EMAIL]"}
    for miss in (
        Route("request", "GET", "api.example.com", "/api/v1"),
        Route("response", "POST", "api.example.com", "/api/v1"),
        Route("response", "GET", "example.org", "/api/v1"),
        Route("response", "GET", "api.example.com", "/health"),
    ):
        assert redact(plan, doc, miss) == doc


def test_numbers_holding_pii_become_redacted_strings() -> None:
    out = redact(default_plan(), {"n": 4111111111111111, "small": 42, "flag": True})
    assert out == {"n": "[REDACTED:CREDIT_CARD]", "small": 42, "flag": True}


def test_field_name_classes_use_parent_names() -> None:
    doc = {"customer": {"name": "Jane Roe"}, "product": {"name": "Widget"}, "items": [{"name": "Cable"}]}
    out = redact(default_plan(), doc)
    assert out == {"customer": {"name": "[REDACTED:PERSON_NAME]"}, "product": {"name": "Widget"},
                   "items": [{"name": "Cable"}]}


def test_classification_can_be_switched_off() -> None:
    plan = compile_policy("version: 1\nfield_names: {builtin: false}\nrules:\n  - classify: true\n")
    assert redact(plan, {"email": "not-an-email"}) == {"email": "not-an-email"}


def test_custom_field_classes_extend_the_builtin_list() -> None:
    extra = "field_names:\n  classes: [{entity: MEMBER_ID, names: [member_no]}]\n"
    plan = plan_for("- classify: true\n", extra)
    assert redact(plan, {"memberNo": "M-1"}) == {"memberNo": "[REDACTED:MEMBER_ID]"}


def test_custom_detector_with_validator_and_context() -> None:
    extra = (
        "detectors:\n  - name: EMPLOYEE_ID\n    pattern: 'EMP-\\d{6}'\n"
        "    context: [employee]\n    context_required: true\n"
    )
    plan = plan_for("- scan: {detectors: [EMPLOYEE_ID]}\n", extra)
    out = redact(plan, {"a": "employee EMP-123456", "b": "ticket EMP-123456"})
    assert out == {"a": "employee [REDACTED:EMPLOYEE_ID]", "b": "ticket EMP-123456"}


def test_keys_holding_pii_are_rewritten() -> None:
    out = redact(default_plan(), {"jane@example.com": {"visits": 3}})
    assert out == {"[REDACTED:EMAIL]": {"visits": 3}}


def test_invalid_json_is_an_error_not_a_pass_through() -> None:
    with pytest.raises(RedactionError) as err:
        default_plan().redact_body(b'{"email": "jane@example.com"', "application/json")
    assert err.value.reason == "invalid_json"
    assert "jane" not in str(err.value)


def test_ten_thousand_levels_of_nesting_is_a_clean_error() -> None:
    body = b"[" * 10_000 + b"]" * 10_000
    with pytest.raises(RedactionError) as err:
        default_plan().redact_body(body, "application/json")
    assert err.value.reason == "too_deep"


def test_nesting_limit_applies_below_the_parser_limit() -> None:
    plan = compile_policy("version: 1\nlimits: {max_depth: 3}\nrules:\n  - scan: true\n")
    with pytest.raises(RedactionError):
        plan.redact_body(b'{"a": {"b": {"c": {"d": "x@y.co"}}}}', "application/json")


def test_body_and_string_limits() -> None:
    plan = compile_policy("version: 1\nlimits: {max_body_bytes: 100, max_string_bytes: 10}\nrules:\n  - scan: true\n")
    with pytest.raises(RedactionError) as err:
        plan.redact_body(b"x" * 101, "text/plain")
    assert err.value.reason == "body_too_large"
    with pytest.raises(RedactionError) as err:
        plan.redact_body(b'{"a": "a@b.co ' + b"y" * 11 + b'"}', "application/json")
    assert err.value.reason == "string_too_long"


def test_integers_beyond_64_bits_survive() -> None:
    body = b'{"big": 123456789012345678901234567890, "mail": "a@b.co"}'
    out = default_plan().redact_body(body, "application/json").output
    assert b"123456789012345678901234567890" not in out or b"[REDACTED" in out
    assert b"a@b.co" not in out


@pytest.mark.parametrize(
    "ctype, body, expected",
    [
        ("text/plain; charset=utf-8", b"call +44 20 7946 0958", b"call [REDACTED:PHONE]"),
        ("application/x-www-form-urlencoded", b"q=hi&mail=a%40b.co&password=x",
         b"q=hi&mail=[REDACTED:EMAIL]&password=[REDACTED:SECRET]"),
        ("application/octet-stream", b"a@b.co \x00\xff", b"a@b.co \x00\xff"),  # binary passes untouched
        ("application/vnd.api+json", b'{"m": "a@b.co"}', b'{"m": "[REDACTED:EMAIL]"}'),
        ("", b'{"m": "a@b.co"}', b'{"m": "[REDACTED:EMAIL]"}'),  # sniffed JSON
    ],
)
def test_content_types(ctype: str, body: bytes, expected: bytes) -> None:
    assert default_plan().redact_body(body, ctype).output == expected


def test_untouched_json_is_byte_identical() -> None:
    body = b'{ "a" : [1, 2.50, "x"] ,\n "b": null }'
    assert default_plan().redact_body(body, "application/json").output == body


def test_headers_query_and_cookies_with_the_default_policy() -> None:
    plan = default_plan()
    headers, report = plan.redact_headers(
        [("Authorization", "Bearer abc"), ("X-Request-Id", "r1"), ("Cookie", "sid=s3cr3t"), ("Referer", "https://x/?m=a@b.co")]
    )
    assert headers == [
        ("Authorization", "[REDACTED:SECRET]"),
        ("X-Request-Id", "r1"),
        ("Cookie", "sid=[REDACTED:SECRET]"),
        ("Referer", "https://x/?m=[REDACTED:EMAIL]"),
    ]
    assert all("s3cr3t" not in str(f) for f in report.findings)
    query, _ = plan.redact_query("page=2&access_token=abc&x=1")
    assert query == "page=2&access_token=[REDACTED:SECRET]&x=1"


def test_findings_never_carry_values() -> None:
    result = default_plan().redact_body(orjson.dumps({"email": "jane@example.com", "n": "call +44 20 7946 0958"}),
                                        "application/json")
    for finding in result.report.findings:
        assert "jane" not in repr(finding) and "7946" not in repr(finding)


def test_non_ascii_offsets_are_str_indices() -> None:
    text = "José → jose@exemplo.com.br 電話"
    report = default_plan().redact_text(text).report
    (finding,) = report.findings
    assert text[finding.start : finding.end] == "jose@exemplo.com.br"


def test_policy_errors_name_file_line_and_field() -> None:
    with pytest.raises(PolicyError) as err:
        compile_policy("version: 1\nrules:\n  - fields:\n      - path: '$.a[?(@.b)]'\n", source="p.yaml")
    assert str(err.value).startswith("p.yaml:4:9: rules[0].fields[0].path: unsupported JSONPath filter")


def test_protocol_headers_are_never_scanned() -> None:
    headers, _ = default_plan().redact_headers([("Host", "10.1.2.3:8000"), ("X-Forwarded-For", "10.1.2.3")])
    assert headers == [("Host", "10.1.2.3:8000"), ("X-Forwarded-For", "[REDACTED:IP_ADDRESS]")]


def test_empty_bodies_are_unchanged_whatever_their_type() -> None:
    assert default_plan().redact_body(b"", "application/json").output == b""


@pytest.mark.parametrize(
    "body, expected",
    [
        (b'{"zip": 94107}', {"zip": "[REDACTED:ADDRESS]"}),  # a field class covers a small number
        (b'{"dob": 19900101}', {"dob": "[REDACTED:DATE_OF_BIRTH]"}),
        (b'{"user": {"phone": 5551234}}', {"user": {"phone": "[REDACTED:PHONE]"}}),
        (b'{"password": true}', {"password": "[REDACTED:SECRET]"}),  # a boolean under a secret's name
        (b'{"zip": null}', {"zip": None}),  # null holds nothing
        (b'{"age": 3, "ok": true}', {"age": 3, "ok": True}),  # not covered: untouched
    ],
)
def test_covered_numbers_and_booleans_are_rewritten_whatever_their_size(body: bytes, expected: object) -> None:
    out = default_plan().redact_body(body, "application/json", Route("response")).output
    assert orjson.loads(out) == expected


@pytest.mark.parametrize("parent", ["profile", "subscriber", "traveller", "driver", "candidate"])
def test_a_name_under_a_parent_that_holds_a_person_is_a_person_name(parent: str) -> None:
    body = orjson.dumps({parent: {"name": "Jane Doe"}, "plan": {"name": "Pro"}})
    out = orjson.loads(default_plan().redact_body(body, "application/json", Route("response")).output)
    assert out == {parent: {"name": "[REDACTED:PERSON_NAME]"}, "plan": {"name": "Pro"}}


def test_an_sse_data_line_over_a_limit_fails_instead_of_being_read_as_text() -> None:
    """Only non-JSON lines ("[DONE]") fall back to text; the text path skips field rules."""
    from veil.rules.streaming import LineRedactor

    plan = compile_policy("version: 1\nlimits: {max_depth: 2}\nrules:\n  - fields: [{path: $.password, action: redact}]\n")
    lines = LineRedactor(plan, Route("response"), "sse")
    with pytest.raises(RedactionError, match="nesting"):
        lines.feed(b'data: {"password":"hunter2","a":{"b":{"c":1}}}\n')
    assert LineRedactor(plan, Route("response"), "sse").feed(b"data: [DONE]\n") == b"data: [DONE]\n"


def test_a_custom_detector_needing_a_multi_word_context_is_found_in_a_raw_body() -> None:
    """The raw prefilter looks for the same context words as the detector ("account_number" is two)."""
    plan = compile_policy(textwrap.dedent("""\
        version: 1
        detectors:
          - {name: ACCOUNT, pattern: '\\b\\d{8}\\b', context: [account_number], context_required: true}
        rules:
          - scan: {detectors: [ACCOUNT]}
        """))
    for body in (b'{"accountNumber": "12345678"}', b'{"note": "account number 12345678"}'):
        out = plan.redact_body(body, "application/json", Route("response")).output
        assert b"12345678" not in out, body


def test_a_header_found_clean_is_remembered_by_name_and_value_only() -> None:
    # Clean (name, value) pairs are not scanned again; a context word in the name still counts.
    plan = default_plan()
    for _ in range(2):
        assert plan.redact_headers([("x-note", "1990-01-02")])[0] == [("x-note", "1990-01-02")]
        out, report = plan.redact_headers([("x-birth-date", "1990-01-02"), ("x-mail", "a@b.co")])
        assert out == [("x-birth-date", "[REDACTED:DATE_OF_BIRTH]"), ("x-mail", "[REDACTED:EMAIL]")]
        assert [f.type for f in report.findings] == ["DATE_OF_BIRTH", "EMAIL"]
    from veil.rules.detectors.verdicts import digest

    clean = plan.view(None).clean_headers
    assert digest(b"6:x-note1990-01-02") in clean
    assert digest(b"6:x-maila@b.co") not in clean  # a header with findings is scanned every time
    lists = plan.view(None).clean_header_lists  # whole lists too, only those without findings
    assert digest(orjson.dumps([("x-note", "1990-01-02")])) in lists
    assert digest(orjson.dumps([("x-birth-date", "1990-01-02"), ("x-mail", "a@b.co")])) not in lists


def test_a_remembered_header_list_is_never_confused_with_another() -> None:
    plan = default_plan()
    assert plan.redact_headers([("x-a", "b"), ("x-c", "d")])[0] == [("x-a", "b"), ("x-c", "d")]
    # The same characters as one header: still scanned (the e-mail is found).
    out, report = plan.redact_headers([("x-a", "b\u0000x-c\nd a@b.co")])
    assert out == [("x-a", "b\u0000x-c\nd [REDACTED:EMAIL]")] and [f.type for f in report.findings] == ["EMAIL"]
    assert plan.redact_headers([("x-a", "\ud800 a@b.co")])[0] == [("x-a", "\ud800 [REDACTED:EMAIL]")]
