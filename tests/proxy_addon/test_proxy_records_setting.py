"""``veil proxy --records FILE`` (``VEIL_RECORDS``) is mitmproxy's ``veil_records`` option, where the
findings of sampled messages are written for ``veil discover``; ``--policy-header`` (``VEIL_POLICY_HEADER``)
is ``veil_policy_header``, the opt-in ``veil-policy`` response header."""

from __future__ import annotations

import pytest

from tests.proxy_addon.test_proxy_settings import no_veil_environment, settings_from  # noqa: F401 (fixture)
from veil.proxy_addon.run import mitmproxy_options


@pytest.mark.parametrize(
    ("environ", "argv", "records"),
    [
        ({}, ["--records", "/var/log/veil/records.ndjson"], "/var/log/veil/records.ndjson"),
        ({"VEIL_RECORDS": "-"}, [], "-"),
        ({"VEIL_RECORDS": "/a.ndjson"}, ["--records", "/b-{pid}.ndjson"], "/b-{pid}.ndjson"),  # the flag wins
        ({"VEIL_RECORDS": ""}, [], None),  # near miss: empty is unset, the addon's default (none) stays
        ({}, [], None),
    ],
)
def test_records_flag_and_variable_set_veil_records(
    environ: dict[str, str], argv: list[str], records: str | None, monkeypatch: pytest.MonkeyPatch,
) -> None:
    for name, value in environ.items():
        monkeypatch.setenv(name, value)
    options = mitmproxy_options(settings_from(["--upstream", "http://app:8000", *argv]))
    assert options.get("veil_records") == records


@pytest.mark.parametrize(
    ("environ", "argv", "on"),
    [
        ({}, ["--policy-header"], True),
        ({"VEIL_POLICY_HEADER": "1"}, [], True),
        ({"VEIL_POLICY_HEADER": "true"}, [], True),
        ({"VEIL_POLICY_HEADER": "0"}, [], None),  # near miss: off is the addon's default, left alone
        ({}, [], None),
    ],
)
def test_policy_header_flag_and_variable_set_veil_policy_header(
    environ: dict[str, str], argv: list[str], on: bool | None, monkeypatch: pytest.MonkeyPatch,
) -> None:
    for name, value in environ.items():
        monkeypatch.setenv(name, value)
    options = mitmproxy_options(settings_from(["--upstream", "http://app:8000", *argv]))
    assert options.get("veil_policy_header") is on
