"""Error messages name what is wrong, never the sender's header text (it can hold an address).

They reach stderr, the caller of the httpx transport (whose log.exception would print them)
and veil's error bodies.
"""

from __future__ import annotations

import pytest

import veil
from veil.errors import RedactionError, charset_named, coding_named
from veil.http.codings import unsupported

EMAIL = "jane@example.com"


@pytest.mark.parametrize(
    ("content_type", "body"),
    [
        (f"text/plain; charset={EMAIL}", b"x"),
        ("multipart/form-data; boundary=B",
         f"--B\r\nContent-Disposition: form-data; name=a\r\nContent-Transfer-Encoding: {EMAIL}\r\n\r\nx\r\n--B--\r\n".encode()),
    ],
)
def test_a_body_error_does_not_quote_the_declared_type(content_type: str, body: bytes) -> None:
    with pytest.raises(RedactionError) as caught:
        veil.default_plan().redact_body(body, content_type)
    assert EMAIL not in str(caught.value) and "jane" not in str(caught.value)


def test_an_unknown_coding_is_not_quoted() -> None:
    assert EMAIL not in str(unsupported(f"gzip, {EMAIL}"))


@pytest.mark.parametrize(("given", "said"), [("UTF8", "utf-8"), ("latin-1", "iso8859-1"), (EMAIL, "<unknown charset>")])
def test_charsets_are_named_by_python(given: str, said: str) -> None:
    assert charset_named(given) == said


@pytest.mark.parametrize(("given", "said"), [(" GZIP", "'gzip'"), ("zstd", "'zstd'"), (EMAIL, "<unknown coding>")])
def test_codings_are_named_only_when_registered(given: str, said: str) -> None:
    assert coding_named(given) == said
