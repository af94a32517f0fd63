"""veil.integrations.logging: stdlib records and structlog events leave redacted, or not at all."""

from __future__ import annotations

import io
import json
import logging
import os
import re
import subprocess
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

import veil
from tests.strategies import neutral_text
from veil.integrations.logging import FAILED_MESSAGE, RedactingFilter, RedactingProcessor

EMAIL = "jane.roe@example.com"
CARD = "4111 1111 1111 1111"
CARD_INT = 4111111111111111
PHONE = "+44 20 7946 0958"
PASSWORD = "hunter2"  # caught only by field-name rules, never by a detector


class Capture(logging.Handler):
    """Keeps each formatted line and the record itself, to assert on both."""

    def __init__(self) -> None:
        super().__init__()
        self.lines: list[str] = []
        self.records: list[logging.LogRecord] = []
        self.setFormatter(logging.Formatter("%(levelname)s %(message)s"))

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)
        self.lines.append(self.format(record))

    def everything(self) -> str:
        """Formatted lines plus every record attribute: nothing raw may hide anywhere."""
        return "\n".join(self.lines) + "\n" + "\n".join(repr(vars(r)) for r in self.records)


_counter = iter(range(1_000_000))


@pytest.fixture
def logger() -> Iterator[logging.Logger]:
    """A fresh logger; its handlers and filters are removed afterwards.

    It propagates: pytest attaches its capture handler to every non-propagating
    logger, ahead of ours, where it would see raw records.
    """
    log = logging.getLogger(f"veil.tests.logging.{next(_counter)}")
    log.setLevel(logging.DEBUG)
    yield log
    for h in list(log.handlers):
        log.removeHandler(h)
    for f in list(log.filters):
        log.removeFilter(f)


def attach(log: logging.Logger, plan: veil.Plan | None = None) -> Capture:
    handler = Capture()
    handler.addFilter(RedactingFilter(plan or veil.default_plan()))
    log.addHandler(handler)
    return handler


# -- one table of records --------------------------------------------------------


def _raise_with_literals() -> None:
    # The traceback quotes this source line, so the literals must vanish from it too.
    raise ValueError("card 4111 1111 1111 1111 declined for jane.roe@example.com")


def _log_exception(log: logging.Logger) -> None:
    try:
        _raise_with_literals()
    except ValueError:
        log.exception("payment failed")


def _log_exc_info_instance(log: logging.Logger) -> None:
    try:
        _raise_with_literals()
    except ValueError as exc:
        log.error("payment failed", exc_info=exc)


def _log_stack(log: logging.Logger) -> None:
    log.info("checkpoint", stack_info=True)  # stack quotes this line: jane.roe@example.com


class Shouty:
    """A non-JSON object whose str() holds PII."""

    def __str__(self) -> str:
        return f"<customer {EMAIL}>"


@dataclass(frozen=True)
class Row:
    name: str
    log: Callable[[logging.Logger], None]
    vanish: tuple[str, ...] = ()
    survive: tuple[str, ...] = ()


ROWS = [
    Row("msg_with_str_arg", lambda log: log.info("mail to %s", EMAIL), (EMAIL,), ("INFO mail to [REDACTED:EMAIL]",)),
    Row("pii_in_msg_itself", lambda log: log.info(f"call {PHONE} now"), ("7946 0958",), ("call [REDACTED:PHONE] now",)),
    Row("several_args", lambda log: log.warning("%s paid with %s", EMAIL, CARD), (EMAIL, CARD)),
    # A card number held in an int, formatted by %d: only the formatted line shows it.
    Row("int_arg_card", lambda log: log.info("card %d", CARD_INT), (str(CARD_INT),), ("card [REDACTED:CREDIT_CARD]",)),
    # Negative: a Luhn-failing number is not a card and must survive byte for byte.
    Row("int_arg_not_a_card", lambda log: log.info("order %d", 4111111111111112), (), ("INFO order 4111111111111112",)),
    Row("no_pii_untouched", lambda log: log.info("shipped %d items to %s", 3, "Tōkyō 🙂"), (),
        ("INFO shipped 3 items to Tōkyō 🙂",)),
    # Containers get field-name rules: "password" holds no detectable pattern.
    Row("dict_arg", lambda log: log.info("login %s", {"password": PASSWORD, "contact": EMAIL}), (PASSWORD, EMAIL),
        ("'password': '[REDACTED:SECRET]'",)),
    Row("list_arg", lambda log: log.info("to %s", [EMAIL, "ok"]), (EMAIL,), ("'ok'",)),
    Row("mapping_args", lambda log: log.info("%(password)s / %(n)d", {"password": PASSWORD, "n": CARD_INT}),
        (PASSWORD, str(CARD_INT))),
    Row("dict_as_msg", lambda log: log.info({"password": PASSWORD}), (PASSWORD,)),
    Row("object_arg", lambda log: log.info("who %s", Shouty()), (EMAIL,), ("<customer [REDACTED:EMAIL]>",)),
    Row("extra_string", lambda log: log.info("ok", extra={"note": f"call {PHONE}"}), ("7946 0958",)),
    Row("extra_by_field_name", lambda log: log.info("ok", extra={"password": PASSWORD}), (PASSWORD,)),
    Row("extra_nested", lambda log: log.info("ok", extra={"payload": {"card": CARD, "items": [EMAIL]}}), (CARD, EMAIL)),
    Row("extra_int_card", lambda log: log.info("ok", extra={"n": CARD_INT}), (str(CARD_INT),)),
    Row("extra_object", lambda log: log.info("ok", extra={"who": Shouty()}), (EMAIL,)),
    Row("exception", _log_exception, (EMAIL, CARD),
        ("ERROR payment failed\nTraceback", "ValueError: card [REDACTED:CREDIT_CARD] declined for [REDACTED:EMAIL]")),
    Row("exc_info_instance", _log_exc_info_instance, (EMAIL, CARD), ("ValueError: card [REDACTED:CREDIT_CARD]",)),
    Row("stack_info", _log_stack, (EMAIL,), ("Stack (most recent call last)", "[REDACTED:EMAIL]")),
]


@pytest.mark.parametrize("row", ROWS, ids=[r.name for r in ROWS])
def test_records_leave_the_handler_redacted(logger: logging.Logger, row: Row) -> None:
    handler = attach(logger)
    row.log(logger)
    assert len(handler.records) == 1  # never dropped
    out = handler.everything()
    for raw in row.vanish:
        assert raw not in out
    for kept in row.survive:
        assert kept in out


def test_record_is_rewritten_so_later_formatting_cannot_reinsert_raw_values(logger: logging.Logger) -> None:
    """args are emptied and exc_info cleared: a second formatter sees only redacted text."""
    handler = attach(logger)
    _log_exception(logger)
    record = handler.records[0]
    assert record.args == ()
    assert record.exc_info is None
    assert record.exc_text is not None and "[REDACTED:EMAIL]" in record.exc_text
    again = logging.Formatter("%(message)s").format(record)
    assert EMAIL not in again and CARD not in again


def test_extras_keep_their_names_and_shape(logger: logging.Logger) -> None:
    handler = attach(logger)
    logger.info("ok", extra={"payload": {"email": EMAIL, "count": 2}, "status": "done"})
    record = handler.records[0]
    assert vars(record)["payload"] == {"email": "[REDACTED:EMAIL]", "count": 2}
    assert vars(record)["status"] == "done"


def test_child_logger_records_are_redacted_by_a_handler_filter(logger: logging.Logger) -> None:
    handler = attach(logger)
    logging.getLogger(f"{logger.name}.db").info("row for %s", EMAIL)
    assert handler.lines == ["INFO row for [REDACTED:EMAIL]"]


def test_logger_filter_misses_child_records_so_filters_go_on_handlers(logger: logging.Logger) -> None:
    """Documents why the filter belongs on handlers: a logger's filters never see propagated records."""
    handler = Capture()
    logger.addHandler(handler)
    logger.addFilter(RedactingFilter(veil.default_plan()))
    logger.info("own %s", EMAIL)
    logging.getLogger(f"{logger.name}.db").info("child %s", EMAIL)
    assert handler.lines == ["INFO own [REDACTED:EMAIL]", f"INFO child {EMAIL}"]


def _readme_logging_snippets() -> list[str]:
    readme = (Path(__file__).parents[2] / "README.md").read_text(encoding="utf-8")
    section = readme.split("\n## Logging\n", 1)[1].split("\n## ", 1)[0]
    return re.findall(r"```python\n(.*?)```", section, flags=re.S)


@pytest.mark.parametrize("snippet", _readme_logging_snippets(), ids=["dictconfig", "structlog"])
def test_readme_logging_snippets_print_what_they_say(snippet: str) -> None:
    """README snippets are tests: run each in a fresh interpreter (dictConfig resets global state)."""
    expected = [line[2:] for line in snippet.splitlines() if line.startswith("# ")]
    env = {k: v for k, v in os.environ.items() if k != "VEIL_POLICY"}
    done = subprocess.run([sys.executable, "-c", snippet], capture_output=True, text=True, timeout=60,
                          check=True, env=env)
    assert (done.stdout + done.stderr).splitlines() == expected


@pytest.mark.parametrize("method", ["redact_text", "redact_json"])
def test_a_failing_plan_emits_the_placeholder_never_the_raw_record(
    logger: logging.Logger, monkeypatch: pytest.MonkeyPatch, method: str
) -> None:
    plan = veil.compile_policy(veil.DEFAULT_POLICY_YAML, source="<failing>")  # not the shared default

    def boom(*args: Any, **kwargs: Any) -> Any:
        raise RuntimeError("engine exploded")

    monkeypatch.setattr(plan, method, boom)
    handler = attach(logger, plan)
    try:
        _raise_with_literals()
    except ValueError:
        logger.exception("mail %s", EMAIL, extra={"customer": {"email": EMAIL}}, stack_info=True)
    assert handler.lines == [f"ERROR {FAILED_MESSAGE}"]
    assert EMAIL not in handler.everything() and CARD not in handler.everything()
    assert vars(handler.records[0])["customer"] == FAILED_MESSAGE


def test_a_malformed_format_string_fails_closed(logger: logging.Logger) -> None:
    """Without the filter logging would print the raw arguments in its 'Logging error' report."""
    handler = attach(logger)
    logger.info("%s and %s", EMAIL)
    assert handler.lines == [f"INFO {FAILED_MESSAGE}"]


def test_policy_is_resolved_once_at_construction() -> None:
    """A bad policy fails when the filter is built, not on the first log call."""
    with pytest.raises(veil.PolicyError):
        RedactingFilter({"version": 1, "rules": "not a list"})
    with pytest.raises(veil.PolicyError):
        RedactingProcessor({"version": 1, "rules": "not a list"})


def test_name_prefix_limits_redaction_but_never_drops(logger: logging.Logger) -> None:
    handler = Capture()
    handler.addFilter(RedactingFilter(veil.default_plan(), name="somewhere.else"))
    logger.addHandler(handler)
    logger.info("mail %s", EMAIL)
    assert handler.lines == [f"INFO mail {EMAIL}"]


@given(
    before=st.text(st.characters(codec="utf-8"), max_size=40),
    after=st.text(st.characters(codec="utf-8"), max_size=40),
    email=st.sampled_from([EMAIL, "j.smith+news@mail.example.co.uk", "a_b-c@sub.example.org"]),
    as_arg=st.booleans(),
)
def test_an_injected_email_never_reaches_handler_output(before: str, after: str, email: str, as_arg: bool) -> None:
    log = logging.getLogger("veil.tests.logging.property")
    handler = attach(log)
    try:
        if as_arg:
            log.warning("%s %s %s", before, email, after)
        else:
            log.warning(f"{before} {email} {after}")
    finally:
        log.removeHandler(handler)
    assert email not in handler.everything()


@given(text=neutral_text)
def test_pii_free_messages_pass_unchanged(text: str) -> None:
    log = logging.getLogger("veil.tests.logging.neutral")
    handler = attach(log)
    try:
        log.warning("%s", text)
    finally:
        log.removeHandler(handler)
    assert handler.lines == [f"WARNING {text}"]


# -- structlog ----------------------------------------------------------------------


def structlog_logger(*processors: Any) -> Any:
    import structlog

    chain = [structlog.processors.add_log_level, *processors, structlog.processors.JSONRenderer()]
    return structlog.wrap_logger(structlog.ReturnLogger(), processors=chain)


def _structlog_exception(log: Any) -> str:
    try:
        _raise_with_literals()
    except ValueError:
        return str(log.exception("payment failed"))
    raise AssertionError("unreachable")


STRUCTLOG_ROWS: list[tuple[str, Callable[[Any], str], tuple[str, ...]]] = [
    ("event_text", lambda log: log.info(f"mail {EMAIL}"), (EMAIL,)),
    ("string_value", lambda log: log.info("signup", contact=EMAIL), (EMAIL,)),
    ("int_card", lambda log: log.info("charge", amount=12, n=CARD_INT), (str(CARD_INT),)),
    ("by_field_name", lambda log: log.info("login", password=PASSWORD), (PASSWORD,)),
    ("nested", lambda log: log.info("body", payload={"items": [{"card": CARD}], "who": EMAIL}), (CARD, EMAIL)),
    ("object_value", lambda log: log.info("who", customer=Shouty()), (EMAIL,)),
    ("exception", _structlog_exception, (EMAIL, CARD)),
]


@pytest.mark.parametrize("format_exc_first", [True, False], ids=["format_exc_info_first", "no_format_exc_info"])
@pytest.mark.parametrize("name,call,vanish", STRUCTLOG_ROWS, ids=[r[0] for r in STRUCTLOG_ROWS])
def test_structlog_events_render_redacted(
    name: str, call: Callable[[Any], str], vanish: tuple[str, ...], format_exc_first: bool
) -> None:
    import structlog

    before = [structlog.processors.format_exc_info] if format_exc_first else []
    out = call(structlog_logger(*before, RedactingProcessor(veil.default_plan())))
    event = json.loads(out)
    assert event["level"] in {"info", "error"}
    for raw in vanish:
        assert raw not in out
    if name == "exception":
        assert "ValueError: card [REDACTED:CREDIT_CARD]" in event["exception"]


def test_structlog_keeps_neutral_values() -> None:
    out = structlog_logger(RedactingProcessor(veil.default_plan())).info("shipped", count=3, status="ok")
    assert json.loads(out) == {"event": "shipped", "count": 3, "status": "ok", "level": "info"}


def test_structlog_failing_plan_emits_the_placeholder(monkeypatch: pytest.MonkeyPatch) -> None:
    plan = veil.compile_policy(veil.DEFAULT_POLICY_YAML, source="<failing>")

    def boom(*args: Any, **kwargs: Any) -> Any:
        raise RuntimeError("engine exploded")

    monkeypatch.setattr(plan, "redact_text", boom)
    out = structlog_logger(RedactingProcessor(plan)).info(f"mail {EMAIL}", contact=EMAIL)
    assert json.loads(out) == {"event": FAILED_MESSAGE, "level": "info"}


def test_structlog_processor_formatter_for_stdlib_records(logger: logging.Logger) -> None:
    """Inside ProcessorFormatter the processor leaves structlog's _record plumbing alone."""
    import structlog

    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(structlog.stdlib.ProcessorFormatter(processors=[
        RedactingProcessor(veil.default_plan()),
        structlog.stdlib.ProcessorFormatter.remove_processors_meta,
        structlog.processors.JSONRenderer(),
    ]))
    logger.addHandler(handler)
    logger.info("mail %s", EMAIL)
    assert json.loads(stream.getvalue()) == {"event": "mail [REDACTED:EMAIL]"}


def test_example_runs_and_prints_no_pii() -> None:
    example = Path(__file__).parents[2] / "examples" / "logging_example.py"
    env = {k: v for k, v in os.environ.items() if k != "VEIL_POLICY"}
    done = subprocess.run([sys.executable, str(example)], capture_output=True, text=True, timeout=60,
                          check=True, env=env)
    out = done.stdout + done.stderr
    assert "[REDACTED:EMAIL]" in out and "[REDACTED:SECRET]" in out
    for raw in (EMAIL, CARD, str(CARD_INT), PASSWORD):
        assert raw not in out

