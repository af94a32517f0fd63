"""Redact log lines with veil: stdlib logging and structlog, one policy.

Usage:
    python examples/logging_example.py

Uses $VEIL_POLICY if set, else veil's built-in default policy. Every line
printed below had an email, a card number or a password in it before veil
saw it; none of them reaches stderr/stdout.
"""

from __future__ import annotations

import logging
import sys

from veil.integrations.logging import RedactingFilter, RedactingProcessor


def stdlib_logging() -> None:
    # The filter goes on the HANDLER: a filter on a logger would miss every
    # record propagating from child loggers such as "shop.payments" below.
    handler = logging.StreamHandler(sys.stdout)
    handler.addFilter(RedactingFilter())
    handler.setFormatter(logging.Formatter("%(levelname)s %(name)s: %(message)s"))
    root = logging.getLogger()
    root.addHandler(handler)
    root.setLevel(logging.INFO)

    log = logging.getLogger("shop.payments")
    log.info("receipt sent to %s", "jane.roe@example.com")
    log.info("charging card %s", "4111 1111 1111 1111")
    log.info("login attempt %s", {"user": "jane", "password": "hunter2"})
    try:
        raise ValueError("card 4111 1111 1111 1111 declined for jane.roe@example.com")
    except ValueError:
        log.exception("payment failed")
    root.removeHandler(handler)


def structlog_logging() -> None:
    import structlog  # optional: pip install veil[logging]

    structlog.configure(
        processors=[
            structlog.processors.add_log_level,
            structlog.processors.format_exc_info,
            RedactingProcessor(),  # after everything that adds data, before the renderer
            structlog.processors.JSONRenderer(),
        ],
        logger_factory=structlog.PrintLoggerFactory(sys.stdout),
    )
    log = structlog.get_logger()
    log.info("signup", email="jane.roe@example.com", card=4111111111111111)
    try:
        raise ValueError("no account for jane.roe@example.com")
    except ValueError:
        log.exception("lookup failed")


if __name__ == "__main__":
    stdlib_logging()
    structlog_logging()
