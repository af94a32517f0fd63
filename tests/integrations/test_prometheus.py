"""Metrics record bounded labels from the plan, never payload values."""

from __future__ import annotations

import prometheus_client as prom
from werkzeug.test import Client

import veil
from veil.integrations.prometheus import Metrics


def test_observe_counts_bodies_findings_bytes_and_errors() -> None:
    registry = prom.CollectorRegistry()
    metrics = Metrics(registry=registry)
    result = veil.default_plan().redact_body(b'{"email": "jane@example.com"}', "application/json")
    metrics.observe(adapter="asgi", direction="request", outcome="rewritten", report=result.report,
                    seconds=0.001, size=30)
    metrics.observe(adapter="asgi", direction="response", outcome="error", report=veil.Report(),
                    seconds=0.0, size=5, reason="invalid_json")

    def value(name: str, **labels: str) -> float | None:
        return registry.get_sample_value(name, labels)

    assert value("veil_bodies_total", adapter="asgi", direction="request", outcome="rewritten") == 1
    assert value("veil_findings_total", adapter="asgi", direction="request", type="EMAIL",
                 rule="default-field-names", action="redact") == 1
    assert value("veil_bytes_total", adapter="asgi", direction="request") == 30
    assert value("veil_errors_total", adapter="asgi", direction="response", reason="invalid_json") == 1
    assert value("veil_processing_seconds_count", adapter="asgi", direction="request") == 1


def test_metrics_app_serves_the_exposition_without_payload_values() -> None:
    registry = prom.CollectorRegistry()
    metrics = Metrics(registry=registry)
    result = veil.default_plan().redact_body(b'{"note": "mail jane@example.com"}', "application/json")
    metrics.observe(adapter="wsgi", direction="response", outcome="rewritten", report=result.report,
                    seconds=0.002, size=33)
    body = Client(metrics.wsgi_app()).get("/").get_data()
    assert b'veil_findings_total{action="redact",adapter="wsgi",direction="response",rule="default-detectors",type="EMAIL"} 1.0' in body
    assert b"jane" not in body
