"""``settings.VEIL`` for :mod:`veil.integrations.django`: read once, checked at start-up.

:func:`options_from_settings` turns the setting into the middleware's policy argument
and :class:`veil.http.Options` (``ImproperlyConfigured`` naming the key on a bad value);
:func:`check_settings` is the same as a Django system check, registered by
``VeilConfig`` (``INSTALLED_APPS += ["veil.integrations.django.VeilConfig"]``), so that
``manage.py check`` and ``runserver`` report a bad setting or policy before serving, and
``runserver``'s reloader restarts on an edit of the policy file as on a ``.py`` file
(:func:`watch_policy_file`), so a fixed policy serves without a manual restart.
Django is imported on first use: importing veil never imports it.
"""

from __future__ import annotations

import functools
import importlib
from collections.abc import Mapping
from pathlib import Path
from types import SimpleNamespace
from typing import Any

from veil.errors import PolicyError
from veil.http import DEFAULT_MAX_DECOMPRESSED, Options
from veil.observe import Observer
from veil.observe.setting import observer_from_setting
from veil.settings import resolve_plan

SETTINGS_KEYS = ("POLICY", "ON_ERROR", "REQUESTS", "RESPONSES", "MAX_DECOMPRESSED_BYTES", "OBSERVER", "POLICY_HEADER")


@functools.cache
def django_parts() -> Any:
    """The few Django pieces veil uses, imported on first use (``import veil`` never imports django)."""
    try:
        http = importlib.import_module("django.http")
        conf = importlib.import_module("django.conf")
        exceptions = importlib.import_module("django.core.exceptions")
        sync = importlib.import_module("asgiref.sync")
    except ImportError as exc:  # pragma: no cover - exercised only without the extra
        raise ImportError("veil.integrations.django needs django: install veil[django]") from exc
    return SimpleNamespace(HttpResponse=http.HttpResponse, settings=conf.settings,
                           ImproperlyConfigured=exceptions.ImproperlyConfigured, sync=sync,
                           checks=importlib.import_module("django.core.checks"),
                           AppConfig=importlib.import_module("django.apps").AppConfig)


def options_from_settings(config: object) -> tuple[Any, Options]:
    """``settings.VEIL`` as (policy argument for resolve_plan, Options); bad config is ImproperlyConfigured."""
    improper = django_parts().ImproperlyConfigured
    config = {} if config is None else config
    if not isinstance(config, Mapping):
        raise improper(f"settings.VEIL must be a dict (got {type(config).__name__})")
    for key in config:
        if key not in SETTINGS_KEYS:
            raise improper(f"settings.VEIL: unknown key {key!r} (expected one of {', '.join(SETTINGS_KEYS)})")
    on_error = config.get("ON_ERROR")
    if on_error not in (None, "block", "passthrough"):
        raise improper(f"settings.VEIL['ON_ERROR'] must be 'block' or 'passthrough' (got {on_error!r})")
    for key in ("REQUESTS", "RESPONSES", "POLICY_HEADER"):
        if not isinstance(config.get(key, key != "POLICY_HEADER"), bool):
            raise improper(f"settings.VEIL[{key!r}] must be True or False (got {config[key]!r})")
    limit = config.get("MAX_DECOMPRESSED_BYTES", DEFAULT_MAX_DECOMPRESSED)
    if not isinstance(limit, int) or isinstance(limit, bool) or limit <= 0:
        raise improper(f"settings.VEIL['MAX_DECOMPRESSED_BYTES'] must be a positive int (got {limit!r})")
    options = Options(on_error, config.get("REQUESTS", True), config.get("RESPONSES", True), limit,
                      _observer(config.get("OBSERVER")), config.get("POLICY_HEADER", False))
    return config.get("POLICY"), options


def _observer(value: object) -> Observer:
    try:
        return observer_from_setting(value, "settings.VEIL['OBSERVER']")
    except ValueError as exc:
        raise django_parts().ImproperlyConfigured(str(exc)) from exc


def check_settings(app_configs: object = None, **kwargs: object) -> list[Any]:
    """Django system check (``VeilConfig`` registers it): ``settings.VEIL`` and its policy, loaded
    as the middleware will load them. ``veil.E001``: a bad setting; ``veil.E002``: the policy."""
    django = django_parts()
    error = django.checks.Error
    try:
        policy, _ = options_from_settings(getattr(django.settings, "VEIL", None))
        resolve_plan(policy)
    except django.ImproperlyConfigured as exc:
        return [error(str(exc), id="veil.E001")]
    except PolicyError as exc:
        return [error(str(exc), hint="the policy of settings.VEIL['POLICY'] (else $VEIL_POLICY); `veil check` shows the same",
                      id="veil.E002")]
    return []


def watch_policy_file(sender: Any, **kwargs: object) -> None:
    """``autoreload_started`` receiver: runserver's reloader (``sender``) watches the policy file."""
    source = policy_file()
    if source is not None:
        sender.watch_dir(source.parent, source.name)


def policy_file() -> Path | None:
    """The file the configured policy comes from (valid or not); None for a built-in, a dict or a Plan."""
    django = django_parts()
    try:
        policy, _ = options_from_settings(getattr(django.settings, "VEIL", None))
        source = resolve_plan(policy).source
    except django.ImproperlyConfigured:
        return None
    except PolicyError as exc:
        source = exc.source
    path = Path(source) if source else None
    return path.resolve() if path is not None and path.is_file() else None


@functools.cache
def veil_app_config() -> type:
    """``VeilConfig``, made on first use so that importing this module does not import Django."""
    django = django_parts()

    class VeilConfig(django.AppConfig):  # type: ignore[misc,name-defined]
        """``INSTALLED_APPS += ["veil.integrations.django.VeilConfig"]``: registers :func:`check_settings`."""

        name = "veil.integrations.django"  # the app is the middleware's module
        label = "veil"
        verbose_name = "veil"

        def ready(self) -> None:
            django.checks.register(check_settings)
            importlib.import_module("django.utils.autoreload").autoreload_started.connect(watch_policy_file)

    VeilConfig.__module__ = __name__
    return VeilConfig
