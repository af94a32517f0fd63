"""A built-in profile is no file: the policy watcher does not poll a path named builtin:NAME."""

from __future__ import annotations

from pathlib import Path

from veil.proxy_addon.addon import VeilAddon
from veil.proxy_addon.reload import PolicyReloader


def test_a_builtin_profile_starts_no_watcher() -> None:
    addon = VeilAddon()
    addon.policy_path = "builtin:app"
    reloader = PolicyReloader(addon)
    reloader.serving = True
    reloader._restart()
    assert reloader.watcher is None


def test_a_policy_file_starts_a_watcher(tmp_path: Path) -> None:
    policy = tmp_path / "policy.yaml"
    policy.write_text("version: 1\nrules:\n  - scan: true\n")
    addon = VeilAddon()
    addon.policy_path = str(policy)
    reloader = PolicyReloader(addon)
    reloader.serving = True
    try:
        reloader._restart()
    except RuntimeError:  # no running event loop to poll in: the watcher was still made
        pass
    assert reloader.watcher is not None
    reloader._stop()
