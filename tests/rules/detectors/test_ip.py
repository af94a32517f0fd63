"""IP_ADDRESS: IPv4/IPv6 confirmed by ipaddress; versions, times and MACs are not addresses."""

from __future__ import annotations

from collections.abc import Callable

import pytest

Detect = Callable[..., list[str]]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("client 203.0.113.7 connected", ["203.0.113.7"]),  # IPv4
        ("host=10.0.0.1.", ["10.0.0.1"]),  # sentence dot after
        ("255.255.255.255", ["255.255.255.255"]),  # max octets
        ("ip:192.168.1.20:8080", ["192.168.1.20"]),  # with port, after colon
        ("::1", ["::1"]),  # IPv6 loopback
        ("fe80::1%eth0", ["fe80::1"]),  # link-local with zone id
        ("via 2001:db8::8a2e:370:7334", ["2001:db8::8a2e:370:7334"]),  # compressed
        ("2001:0db8:85a3:0000:0000:8a2e:0370:7334", ["2001:0db8:85a3:0000:0000:8a2e:0370:7334"]),  # full
        ("mapped ::ffff:192.0.2.1", ["::ffff:192.0.2.1"]),  # IPv4-mapped
        ("[2001:db8::1]:443", ["2001:db8::1"]),  # bracketed with port
        ("a 10.1.1.1, b 10.1.1.2", ["10.1.1.1", "10.1.1.2"]),  # two
        ("client 10.0.0.12", ["10.0.0.12"]),  # log line
        ("from 203.0.113.9 port 22", ["203.0.113.9"]),  # sshd
        ("X-Forwarded-For: 198.51.100.7", ["198.51.100.7"]),  # header line
        ("GET http://10.0.0.1/status", ["10.0.0.1"]),  # '/' after ':' or '/' is a URL, not a product
        ("server 10.2.3.4 (v 2)", ["10.2.3.4"]),  # a version word after the address does not matter
        ("dev 10.2.3.4", ["10.2.3.4"]),  # 'v' inside a word is no version marker
        # Glued to '_' or a token-shaped word (issue #15: they crossed); a dotted quad ends at a letter.
        ("tok_A_k1_192.168.10.23", ["192.168.10.23"]),
        ("ip_10.0.0.1", ["10.0.0.1"]),
        ("192.168.10.23_k1", ["192.168.10.23"]),
        ("10.0.0.1a", ["10.0.0.1"]),  # was a near miss: no dotted quad goes on with a letter
        ("192.168.10.23tok_A_k1_b", ["192.168.10.23"]),
        ("x_192.168.10.23_y", ["192.168.10.23"]),
        ("tok_A_k1_.192.168.10.23", ["192.168.10.23"]),  # '.' after a word, not after a number
        ("host.10.0.0.1", ["10.0.0.1"]),
        ("see 10.0.0.1.", ["10.0.0.1"]),
        ("_2001:db8::1_k1", ["2001:db8::1"]),
    ],
)
def test_ip_found_with_exact_span(detect: Detect, text: str, expected: list[str]) -> None:
    assert detect("IP_ADDRESS", text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "256.1.1.1",  # octet over 255
        "1.2.3",  # three parts (version)
        "release 1.2.3.4.5",  # five-part version swallowed whole
        "v1.2.3.4",  # prefixed version
        "ab10.0.0.1",  # glued after letters (a name's digits: host10.0.0.1 is read as no address)
        "1.2.3.4.5",  # a longer dotted number, whole
        "x.1.2.3.4.5",  # the same after a '.'
        "1.10.0.0.1",  # its tail is no address: a '.' after a digit never leads
        "..1.2.3.4",  # nor a '.' after a '.'
        "10.0.0.1234",  # a longer last part
        "_1.2.3.4567",
        "build_7.12.31.170",  # a version word glued with '_'
        "version_1.2.3.4",
        "010.001.002.003",  # leading zeros rejected by ipaddress
        "12:30",  # time
        "12:30:45",  # time with seconds
        "aa:bb:cc:dd:ee:ff",  # MAC address
        "std::vector",  # C++ scope
        "a :: b",  # bare '::'
        "dead::beef",  # hex words, no digit
        "Build 7.12.31.170",  # build number
        "Mozilla/5.0 (Windows NT 10.0; rv:1.9.1.20) Gecko",  # user agent's rv:
        "version 10.0.19041.1",  # Windows version
        "Version: 1.2.3.4",  # version word with a colon
        "ver=2.4.10.1",  # key=value
        "Chrome/120.0.6099.109",  # product/version (octets over 255 too)
        "Firefox/1.9.1.20",  # product/version, valid octets
        "app v 1.2.3.4",  # 'v' and a space
        "APP_VERSION=8.7.5.235",  # a version word ending an env name
        'export APP_VERSION="8.7.5.235"',  # quoted
        "OID 1.3.6.1.4.1.311.21.8 not allowed",  # an object identifier
        "signature algorithm 2.5.4.3",  # an algorithm's OID
        "Upgraded the agent to 8.7.5.235 last night.",  # upgraded ... to
    ],
)
def test_ip_near_misses_are_not_found(detect: Detect, text: str) -> None:
    assert detect("IP_ADDRESS", text) == []


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("client 10.0.0.12 connected", "client [REDACTED:IP_ADDRESS] connected"),
        ("Build 7.12.31.170 deployed", "Build 7.12.31.170 deployed"),
        ("Mozilla/5.0 (rv:1.9.1.20) Gecko/20100101", "Mozilla/5.0 (rv:1.9.1.20) Gecko/20100101"),
    ],
)
def test_default_plan_leaves_versions_and_redacts_addresses(text: str, expected: str) -> None:
    import veil

    assert veil.default_plan().redact_text(text).text == expected


@pytest.mark.parametrize(
    "text",
    [
        "updated the DNS record to 203.0.113.9",  # 'updated ... to' may well name a host
        "DHCP release 192.168.1.10",
        "failover pinned to 203.0.113.9",
        "connection bumped to 10.0.0.7",
        "rolled back the gateway to 10.2.3.4",
        "GET http://ip-api.com/json/24.48.0.1 HTTP/1.1",  # a URL's path, not a product token
        "https://ipinfo.io/203.0.113.9/json",
        "GET /api/hosts/10.1.2.3 HTTP/1.1",
        "rolled out the fix to 10.0.0.5",
        "connect to 10.0.0.1 now",
        "ip=10.1.2.3",
    ],
)
def test_addresses_near_version_like_words_are_still_found(detect: Detect, text: str) -> None:
    assert len(detect("IP_ADDRESS", text)) == 1


@pytest.mark.parametrize(
    ("field", "found"),
    [
        ("app_version", False), ("buildNumber", False), ("oid", False), ("firmware", False), ("sdkRelease", False),
        ("client_ip", True), ("host", True), ("note", True), ("conversion", True),  # 'version' inside a word
        ("release_server", True),
    ],
)
@pytest.mark.parametrize("path", ["splice", "walk"])
def test_a_field_named_for_versions_vetoes_an_address(field: str, found: bool, path: str) -> None:
    import orjson

    import veil

    plan = veil.default_plan() if path == "splice" else veil.compile_policy(
        "version: 1\nrules:\n  - fields: [{path: $.none, action: redact}]\n  - scan: {detectors: [IP_ADDRESS]}\n"
    )
    out = orjson.loads(plan.redact_body(orjson.dumps({field: "8.7.5.235"}), "application/json").output)
    assert (out[field] == "[REDACTED:IP_ADDRESS]") is found
