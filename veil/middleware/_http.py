"""Moved to :mod:`veil.http`. This re-export stays only until every importer has switched; do not import it."""

from __future__ import annotations

from veil.http import *  # noqa: F403
from veil.http import __all__ as __all__
