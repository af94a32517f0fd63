"""AWS_ACCESS_KEY (distinctive prefix) and AWS_SECRET_KEY (context required)."""

from __future__ import annotations

from collections.abc import Callable

import pytest

Detect = Callable[..., list[str]]

SECRET = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("aws_access_key_id = AKIAIOSFODNN7EXAMPLE", ["AKIAIOSFODNN7EXAMPLE"]),  # config file
        ("ASIAY34FZKBOKMUTVV7A", ["ASIAY34FZKBOKMUTVV7A"]),  # STS key alone
        ('{"k":"AROAEXAMPLEROLEID123"}', ["AROAEXAMPLEROLEID123"]),  # role id in JSON
        ("id AIDAJQABLZS4A3QDU576 ok", ["AIDAJQABLZS4A3QDU576"]),  # user id
        ("AGPA1234567890ABCDEF,ANPA1234567890ABCDEF", ["AGPA1234567890ABCDEF", "ANPA1234567890ABCDEF"]),  # two
        ("ANVAABCDEFGHIJKLMNOP AIPAABCDEFGHIJKLMNOP", ["ANVAABCDEFGHIJKLMNOP", "AIPAABCDEFGHIJKLMNOP"]),  # two more prefixes
        # Glued to '_' or lower case (issue #15: they crossed): no upper case or digit on either side.
        ("tok_A_k1_AKIAIOSFODNN7EXAMPLE", ["AKIAIOSFODNN7EXAMPLE"]),
        ("AKIAIOSFODNN7EXAMPLE_k1", ["AKIAIOSFODNN7EXAMPLE"]),
        ("keyAKIAIOSFODNN7EXAMPLEtok_A_k1_b", ["AKIAIOSFODNN7EXAMPLE"]),
        ("hash_AWS_ACCESS_KEY_0123456789abcdefASIAY34FZKBOKMUTVV7A", ["ASIAY34FZKBOKMUTVV7A"]),
        ("x_AKIAIOSFODNN7EXAMPLE_ASIAY34FZKBOKMUTVV7A", ["AKIAIOSFODNN7EXAMPLE", "ASIAY34FZKBOKMUTVV7A"]),  # '_' between two
        # after veil-shaped text ending in a digit (issue #15 re-review N3): the id's prefix says where it starts
        ("tok_A_k1_2AKIAIOSFODNN7EXAMPLE", ["AKIAIOSFODNN7EXAMPLE"]),
        ("hash_AWS_ACCESS_KEY_2567092a9c5fd570AKIAIOSFODNN7EXAMPLE", ["AKIAIOSFODNN7EXAMPLE"]),
    ],
)
def test_aws_access_key_found(detect: Detect, text: str, expected: list[str]) -> None:
    assert detect("AWS_ACCESS_KEY", text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "AKIAIOSFODNN7EXAMPL",  # 15 characters after the prefix
        "AKIAIOSFODNN7EXAMPLE1",  # 17 characters: part of a longer token
        "akiaiosfodnn7example",  # lower case
        "XKIAIOSFODNN7EXAMPLE",  # unknown prefix
        "MYAKIAIOSFODNN7EXAMPLE",  # glued to a word
        "AKIAIOSFODNN7exAMPLE",  # lower case inside
        "MY_AKIAIOSFODNN7EXAMPLE2",  # an id: a longer upper-case run after '_'
        "x2AKIAIOSFODNN7EXAMPLE",  # a digit before: a longer run
        "AKIAIOSFODNN7EXAMPLEX_k1",  # 17 characters, then '_'
        "ID_XAKIAIOSFODNN7EXAMPLE",  # an upper-case letter before
    ],
)
def test_aws_access_key_near_misses(detect: Detect, text: str) -> None:
    assert detect("AWS_ACCESS_KEY", text) == []


@pytest.mark.parametrize(
    ("text", "field_name", "expected"),
    [
        (f"aws_secret_access_key = {SECRET}", "", [SECRET]),  # config line
        (f'"SecretAccessKey": "{SECRET}"', "", [SECRET]),  # camelCase context
        (SECRET, "aws_secret_access_key", [SECRET]),  # context from the field name
        (SECRET, "X-Aws-Secret", [SECRET]),  # kebab-case header name
        (f"AWS secret key: {SECRET}.", "", [SECRET]),  # prose
        (f"secret={SECRET}&x=1", "", [SECRET]),  # query string
        ("AWS_SECRET_ACCESS_KEY=/Ab3dEf6hIj9kLm2nOp5qRs8tUv1wXy4zQ7rT2mN", "", ["/Ab3dEf6hIj9kLm2nOp5qRs8tUv1wXy4zQ7rT2mN"]),  # leading '/'
    ],
)
def test_aws_secret_key_found_with_context(detect: Detect, text: str, field_name: str, expected: list[str]) -> None:
    assert detect("AWS_SECRET_KEY", text, field_name) == expected


@pytest.mark.parametrize(
    ("text", "field_name"),
    [
        (SECRET, ""),  # no context at all
        (SECRET, "payload"),  # unrelated field name
        (f"secrets_manager_arn {'x' * 60} {SECRET}", ""),  # context word outside the 64-char window
        ("secret: da39a3ee5e6b4b0d3255bfef95601890afd80709", ""),  # 40-char hex SHA-1: no upper case
        (f"secret: {SECRET}A", ""),  # 41 characters
        (f"secret: {SECRET[:-1]}", ""),  # 39 characters
        (f"secret: x{SECRET}", ""),  # inside a longer base64 run
        (f"secretive {SECRET}", ""),  # 'secretive' is not the word 'secret'
        ("aws s3 ls s3://acme-prod/Reports/2024/Q1/SalesSummaryFinal12", ""),  # 'aws' alone, a bucket path
        ("secret at s3://acme-prod/Reports/2024/Q1/SalesSummaryFinal12", ""),  # after '-': inside a bucket name
        ("secret: Reports/2024/Q1/SalesSummaryFinalEU/v3abc", ""),  # 40 characters of path words
        (f"aws key {SECRET}", ""),  # 'aws' without 'secret'
        ("secret_arn arn:aws:s3:::acme:Ab3dEf6hIj9kLm2nOp5qRs8tUv1wXy4zQ7rT2mN8", ""),  # after ':' in an ARN
    ],
)
def test_aws_secret_key_near_misses(detect: Detect, text: str, field_name: str) -> None:
    assert detect("AWS_SECRET_KEY", text, field_name) == []
