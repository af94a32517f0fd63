"""An observer named in a framework's settings: the object itself, or the dotted path of one.

Settings files (Django's ``settings.VEIL``, Flask's ``app.config``) often hold strings
only, so ``"myapp.metrics.METRICS"`` names the observer. It is imported when the
middleware starts, so a typo stops the app there rather than failing on the first body.
"""

from __future__ import annotations

import importlib

from veil.observe import NullObserver, Observer


def observer_from_setting(value: object, where: str) -> Observer:
    """``value`` as an observer; ``where`` names the setting in errors (``settings.VEIL['OBSERVER']``).

    None: no observer. A string: a dotted path ``package.module.NAME`` (or ``package.module:NAME``),
    imported; a class found there is called with no arguments. What results must have an
    ``observe`` method. Anything else is a ValueError that names ``where``.

    >>> observer_from_setting("veil.observe.NullObserver", "OBSERVER")  # doctest: +ELLIPSIS
    <veil.observe.NullObserver object at ...>
    """
    if value is None:
        return NullObserver()
    if isinstance(value, str):
        value = _import(value, where)
        if isinstance(value, type):
            value = value()
    if not callable(getattr(value, "observe", None)):
        raise ValueError(f"{where} must be an observer with an observe() method, or the dotted path of one "
                         f"(got {value!r})")
    return value  # type: ignore[return-value]  # checked above: it has observe()


def _import(path: str, where: str) -> object:
    module_name, colon, name = path.partition(":")
    if not colon:
        module_name, _, name = path.rpartition(".")
    if not module_name or not name:
        raise ValueError(f"{where} must be a dotted path like 'myapp.metrics.METRICS' (got {path!r})")
    try:
        module = importlib.import_module(module_name)
    except ImportError as exc:
        raise ValueError(f"{where}: cannot import {module_name!r} (from {path!r}): {exc}") from exc
    try:
        return getattr(module, name)
    except AttributeError:
        raise ValueError(f"{where}: module {module_name!r} has no attribute {name!r} (from {path!r})") from None
