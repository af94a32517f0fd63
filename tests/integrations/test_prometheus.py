"""Metrics record bounded labels from the plan, never payload values."""

from __future__ import annotations

from pathlib import Path

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


def test_multiprocess_mode_aggregates_every_worker(tmp_path: Path) -> None:
    """As under gunicorn with several workers: each process writes samples, /metrics sums them."""
    import os
    import subprocess
    import sys

    env = {**os.environ, "PROMETHEUS_MULTIPROC_DIR": str(tmp_path)}
    worker = (
        "import veil\n"
        "from veil.integrations.prometheus import Metrics\n"
        "m = Metrics()\n"
        "r = veil.default_plan().redact_body(b'{\"email\": \"jane@example.com\"}', 'application/json')\n"
        "m.observe(adapter='wsgi', direction='response', outcome='rewritten', report=r.report, seconds=0.001, size=29)\n"
    )
    for _ in range(2):  # two workers, two processes
        subprocess.run([sys.executable, "-c", worker], env=env, check=True, timeout=60)
    scrape = (
        "from werkzeug.test import Client\n"
        "from veil.integrations.prometheus import Metrics\n"
        "print(Client(Metrics().wsgi_app()).get('/').get_data().decode())\n"
    )
    out = subprocess.run([sys.executable, "-c", scrape], env=env, check=True, timeout=60,
                         capture_output=True, text=True).stdout
    assert 'veil_bodies_total{adapter="wsgi",direction="response",outcome="rewritten"} 2.0' in out
