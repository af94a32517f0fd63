"""Framework settings read whole and checked at start-up (issue #16): Django's OBSERVER as a dotted
path, ``manage.py check`` through VeilConfig, every Flask ``VEIL_*`` key, Prometheus ``Metrics()``
made twice, ``/metrics`` routed without a redirect, the middlewares' collision-free names, and
module loggers."""

from __future__ import annotations

import ast
import logging
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import django  # type: ignore[import-untyped]
import prometheus_client as prom
import pytest
from django.conf import settings  # type: ignore[import-untyped]
from django.core.exceptions import ImproperlyConfigured  # type: ignore[import-untyped]
from django.http import HttpRequest, HttpResponse  # type: ignore[import-untyped]
from django.test import Client as DjangoClient  # type: ignore[import-untyped]
from django.test import override_settings
from django.urls import path  # type: ignore[import-untyped]
from flask import Flask
from werkzeug.test import Client as WerkzeugClient

import veil
from tests.integrations import observers
from veil.integrations.django import VeilMiddleware, check_settings
from veil.integrations.flask import Veil
from veil.integrations.prometheus import Metrics
from veil.observe import NullObserver
from veil.observe.startup import STRICT_NOTICE, forget_announcement

ROOT = Path(__file__).resolve().parents[2]


# -- Django -------------------------------------------------------------------------------


def customer(request: HttpRequest) -> HttpResponse:
    return HttpResponse(b'{"email": "jane@example.com"}', content_type="application/json")


urlpatterns = [path("customer", customer)]


@pytest.fixture(scope="module")
def django_settings() -> Iterator[None]:
    if not settings.configured:
        settings.configure(SECRET_KEY="veil-tests", ALLOWED_HOSTS=["*"], ROOT_URLCONF=__name__,
                           MIDDLEWARE=["veil.integrations.django.VeilMiddleware"], INSTALLED_APPS=[], DATABASES={},
                           USE_TZ=True)
    django.setup()
    with override_settings(ROOT_URLCONF=__name__, MIDDLEWARE=["veil.integrations.django.VeilMiddleware"],
                           ALLOWED_HOSTS=["*"]):
        yield


def test_django_observer_as_a_dotted_path_is_imported_at_start_up_and_observes(django_settings: None) -> None:
    observers.RECORDER.seen.clear()
    with override_settings(VEIL={"POLICY": "builtin:app", "OBSERVER": "tests.integrations.observers.RECORDER"}):
        response = DjangoClient().get("/customer")
    assert b"jane@example.com" not in response.content
    assert observers.RECORDER.seen == [("django", "response", "rewritten")]


@pytest.mark.parametrize("on", [True, False])
def test_django_policy_header_setting_adds_the_digest(django_settings: None, on: bool) -> None:
    with override_settings(VEIL={"POLICY": "builtin:app", "POLICY_HEADER": on}):
        response = DjangoClient().get("/customer")
    assert response.headers.get("veil-policy") == (veil.load_policy("builtin:app").digest if on else None)


def test_a_django_policy_header_that_is_not_a_bool_is_refused(django_settings: None) -> None:
    with override_settings(VEIL={"POLICY": "builtin:app", "POLICY_HEADER": "yes"}):
        with pytest.raises(ImproperlyConfigured, match=r"settings\.VEIL\['POLICY_HEADER'\]"):
            DjangoClient().get("/customer")


def test_django_observer_as_a_dotted_path_to_a_class_gets_an_instance(django_settings: None) -> None:
    with override_settings(VEIL={"POLICY": "builtin:app", "OBSERVER": "tests.integrations.observers.Recorder"}):
        middleware = VeilMiddleware(lambda request: HttpResponse())
    assert isinstance(middleware.options.observer, observers.Recorder)


@pytest.mark.parametrize(
    ("observer", "says"),
    [
        ("tests.integrations.no_such_module.RECORDER", "cannot import 'tests.integrations.no_such_module'"),
        ("tests.integrations.observers.RECORDR", "has no attribute 'RECORDR'"),  # a typo
        ("RECORDER", "must be a dotted path"),
        ("tests.integrations.observers.NOT_AN_OBSERVER", "observe() method"),
        (42, "observe() method"),
    ],
)
def test_a_bad_django_observer_stops_the_middleware_at_start_up_naming_the_setting(
    observer: Any, says: str, django_settings: None,
) -> None:
    with override_settings(VEIL={"POLICY": "builtin:app", "OBSERVER": observer}):
        with pytest.raises(ImproperlyConfigured, match=r"settings\.VEIL\['OBSERVER'\]") as info:
            VeilMiddleware(lambda request: HttpResponse())
        assert says in str(info.value)
        assert [m.id for m in check_settings()] == ["veil.E001"]  # manage.py check says the same


@pytest.mark.parametrize(
    ("veil_setting", "ids"),
    [
        ({"POLICY": "builtin:app"}, []),
        ({"POLICY": "builtin:nope"}, ["veil.E002"]),           # the policy: its own message
        ({"POLICY": "builtin:app", "ON_EROR": "block"}, ["veil.E001"]),  # a misspelt key
    ],
)
def test_the_django_system_check_loads_the_settings_as_the_middleware_will(
    veil_setting: dict[str, Any], ids: list[str], django_settings: None,
) -> None:
    with override_settings(VEIL=veil_setting):
        assert [m.id for m in check_settings()] == ids


def test_veil_config_registers_the_check_when_django_readies_it() -> None:
    from django.core import checks  # type: ignore[import-untyped]

    from veil.integrations.django import VeilConfig

    import veil.integrations.django as module

    config = VeilConfig("veil.integrations.django", module)
    config.ready()
    assert config.label == "veil" and check_settings in checks.registry.registry.get_checks()


# -- Flask --------------------------------------------------------------------------------


def flask_app(**config: Any) -> Flask:
    app = Flask(__name__)
    app.config.update(config)

    @app.post("/echo")
    def echo() -> tuple[bytes, int, dict[str, str]]:
        from flask import request

        return request.get_data(), 200, {"content-type": "application/json"}

    return app


def test_flask_reads_every_veil_setting_from_app_config() -> None:
    observers.RECORDER.seen.clear()
    app = flask_app(VEIL_POLICY="builtin:strict", VEIL_ON_ERROR="passthrough", VEIL_REQUESTS=False,
                    VEIL_RESPONSES=True, VEIL_MAX_DECOMPRESSED_BYTES=1024,
                    VEIL_OBSERVER="tests.integrations.observers.RECORDER")
    Veil(app)
    options = app.extensions["veil"].options
    assert (options.on_error, options.requests, options.responses, options.max_decompressed_bytes) == (
        "passthrough", False, True, 1024)
    assert options.observer is observers.RECORDER
    # requests off: the app gets the e-mail; invalid response JSON passes (passthrough), observed as an error
    response = WerkzeugClient(app).post("/echo", data=b'{"email": "jane@example.com",', content_type="application/json")
    assert response.status_code == 200 and response.get_data() == b'{"email": "jane@example.com",'
    assert observers.RECORDER.seen == [("wsgi", "response", "error")]


def test_flask_arguments_win_over_app_config() -> None:
    app = flask_app(VEIL_POLICY="builtin:strict", VEIL_ON_ERROR="passthrough")
    Veil(app, policy="builtin:app", on_error="block")
    middleware = app.extensions["veil"]
    assert middleware.plan.source == "builtin:app" and middleware.options.on_error == "block"


@pytest.mark.parametrize(
    ("key", "value", "error"),
    [
        ("VEIL_ON_ERROR", "drop", ValueError),
        ("VEIL_REQUESTS", "no", TypeError),                 # a string is not False
        ("VEIL_MAX_DECOMPRESSED_BYTES", True, TypeError),   # a bool is not a size
        ("VEIL_MAX_DECOMPRESSED_BYTES", 0, ValueError),
        ("VEIL_OBSERVER", "tests.integrations.observers.NOT_AN_OBSERVER", ValueError),
    ],
)
def test_a_bad_flask_setting_fails_at_init_naming_the_key(key: str, value: Any, error: type[Exception]) -> None:
    with pytest.raises(error, match=rf"app\.config\['{key}'\]"):
        Veil(flask_app(**{key: value}))


def test_flask_settings_left_out_or_none_keep_the_defaults() -> None:
    app = flask_app(VEIL_POLICY="builtin:app", VEIL_ON_ERROR=None)
    Veil(app)
    options = app.extensions["veil"].options
    assert options.on_error is None and options.requests and isinstance(options.observer, NullObserver)


# -- the default policy's notice in the WSGI and Django adapters ---------------------------------


def test_wsgi_and_django_announce_the_strict_default_once(
    django_settings: None, caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("VEIL_POLICY", raising=False)
    forget_announcement()
    with caplog.at_level(logging.INFO, logger="veil"):
        Veil(flask_app())
        with override_settings(VEIL=None):
            VeilMiddleware(lambda request: HttpResponse())
    assert [r.getMessage() for r in caplog.records].count(STRICT_NOTICE) == 1
    forget_announcement()
    with caplog.at_level(logging.INFO, logger="veil"), override_settings(VEIL=None):
        VeilMiddleware(lambda request: HttpResponse())
    assert [r.getMessage() for r in caplog.records].count(STRICT_NOTICE) == 2
    forget_announcement()


# -- Prometheus -----------------------------------------------------------------------------


def test_a_second_metrics_on_the_same_registry_shares_its_collectors() -> None:
    registry = prom.CollectorRegistry()
    first, second = Metrics(registry=registry), Metrics(registry=registry)  # raised Duplicated timeseries
    report = veil.default_plan().redact_body(b'{"email": "jane@example.com"}', "application/json").report
    for metrics in (first, second):
        metrics.observe(adapter="asgi", direction="response", outcome="rewritten", report=report, seconds=0.0, size=1)
    labels = {"adapter": "asgi", "direction": "response", "outcome": "rewritten"}
    assert registry.get_sample_value("veil_bodies_total", labels) == 2
    assert first.bodies is second.bodies


def test_metrics_on_other_registries_or_namespaces_are_their_own() -> None:
    registry = prom.CollectorRegistry()
    assert Metrics(registry=registry).bodies is not Metrics(registry=prom.CollectorRegistry()).bodies
    assert Metrics(registry=registry).bodies is not Metrics(registry=registry, namespace="edge").bodies


def test_the_default_registry_takes_two_metrics() -> None:
    assert Metrics().bodies is Metrics().bodies


def test_metrics_routed_at_slash_metrics_answer_200_without_a_redirect() -> None:
    import anyio
    import httpx
    from starlette.applications import Starlette

    registry = prom.CollectorRegistry()
    metrics = Metrics(registry=registry)
    metrics.observe(adapter="asgi", direction="request", outcome="unchanged", report=veil.Report(), seconds=0.0, size=0)
    app = Starlette()
    app.add_route("/metrics", metrics.asgi_app())  # as the README writes it

    async def get() -> httpx.Response:
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://127.0.0.1") as client:
            return await client.get("/metrics")

    response = anyio.run(get)
    assert response.status_code == 200
    assert 'veil_bodies_total{adapter="asgi",direction="request",outcome="unchanged"} 1.0' in response.text


def test_metrics_dispatched_at_slash_metrics_in_a_flask_app_answer_200() -> None:
    from werkzeug.middleware.dispatcher import DispatcherMiddleware

    registry = prom.CollectorRegistry()
    metrics = Metrics(registry=registry)
    app = flask_app()
    Veil(app, policy="builtin:app", observer=metrics)
    app.wsgi_app = DispatcherMiddleware(app.wsgi_app, {"/metrics": metrics.wsgi_app()})  # type: ignore[method-assign]
    client = WerkzeugClient(app)
    client.post("/echo", data=b'{"email": "jane@example.com"}', content_type="application/json")
    response = client.get("/metrics")
    assert response.status_code == 200
    assert 'veil_bodies_total{adapter="wsgi",direction="response",outcome="rewritten"} 1.0' in response.get_data(
        as_text=True)


# -- names ---------------------------------------------------------------------------------


def test_the_veil_names_of_the_middlewares_are_the_same_classes() -> None:
    from veil.middleware import ASGIMiddleware, VeilASGIMiddleware, VeilWSGIMiddleware, WSGIMiddleware
    from veil.middleware import __all__ as exported
    from veil.middleware.asgi import VeilASGIMiddleware as from_asgi
    from veil.middleware.wsgi import VeilWSGIMiddleware as from_wsgi

    assert VeilASGIMiddleware is ASGIMiddleware is from_asgi
    assert VeilWSGIMiddleware is WSGIMiddleware is from_wsgi
    assert {"VeilASGIMiddleware", "VeilWSGIMiddleware", "ASGIMiddleware", "WSGIMiddleware"} == set(exported)


def test_every_veil_module_logs_on_its_own_logger_under_veil() -> None:
    """``logging.getLogger(__name__)``: one module's level can be set without the others', and a
    ``veil`` logger configuration still reaches every one. A name written out is a third party's
    (runners quiet grpc or asyncio), never veil's; veil.http.aborts reaches the servers' loggers and the
    proxy's runner quiets a list of third-party ones."""
    offenders = []
    for file in sorted((ROOT / "veil").rglob("*.py")):
        where = file.relative_to(ROOT).as_posix()
        for node in ast.walk(ast.parse(file.read_text(encoding="utf-8"))):
            if not (isinstance(node, ast.Call) and getattr(node.func, "attr", "") == "getLogger" and node.args):
                continue
            name = node.args[0]
            if isinstance(name, ast.Name) and name.id == "__name__":
                continue
            if isinstance(name, ast.Constant) and not str(name.value).startswith("veil"):
                continue
            if where not in ("veil/http/aborts.py", "veil/proxy_addon/run.py"):
                offenders.append(f"{where}:{node.lineno}")
    assert offenders == []


def test_add_veil_compiles_the_policy_where_it_is_called() -> None:
    """add_middleware alone defers to Starlette's first call; add_veil fails the app module's import."""
    from fastapi import FastAPI

    from veil.integrations.fastapi import add_veil

    with pytest.raises(veil.PolicyError, match="rules"):
        add_veil(FastAPI(), policy={"version": 1, "rules": [{"scan": {"action": "mask_everything"}}]})
