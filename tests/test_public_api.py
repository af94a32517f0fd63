"""The public surface: what `import veil` exports, and what it must not import."""

from __future__ import annotations

import subprocess
import sys

import veil


def test_all_names_exist_and_nothing_else_public_is_promised() -> None:
    assert sorted(veil.__all__) == sorted(set(veil.__all__))
    for name in veil.__all__:
        assert hasattr(veil, name), name


def test_import_veil_pulls_in_no_framework_or_proxy_modules() -> None:
    code = (
        "import sys, veil; "
        "heavy = [m for m in ('mitmproxy', 'flask', 'django', 'httpx', 'prometheus_client', 'starlette', 're') "
        "if m in sys.modules and m != 're']; print(','.join(heavy))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.strip()
    assert out == ""


def test_default_plan_is_compiled_once_and_shared() -> None:
    assert veil.default_plan() is veil.default_plan()


def test_builtin_profiles_are_named_and_shown_through_the_public_api() -> None:
    from veil.rules.profiles import PROFILES  # what `veil policy show builtin:NAME` prints

    for name, text in PROFILES.items():
        assert veil.builtin_policy(name) == veil.builtin_policy(f"builtin:{name}") == text
        assert veil.compile_policy(text, source=f"builtin:{name}").source == veil.load_policy(f"builtin:{name}").source
    assert set(PROFILES) >= {"strict", "app", "egress", "logs"}
