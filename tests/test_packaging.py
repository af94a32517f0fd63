"""The dependency contract in pyproject.toml, read as pip reads it (requirements, extras, markers).

- No app extra (nor the core) reaches mitmproxy: its exact pins (11.x caps h11 at 0.14.0, which has
  CVE-2025-43859, cryptography below 44.1 and Flask at 3.1.0) must never hold an app's own back.
- Markers give each Python the mitmproxy and Django it supports: 3.11 keeps mitmproxy 11 and Django 5.2,
  3.12 and later get mitmproxy 12 and may have Django 6.
- The version is written once, in ``veil.__version__``; classifiers are ones PyPI accepts and agree with
  ``requires-python`` and the Django ranges; every ``veil[EXTRA]`` the docs and code name exists.
"""

from __future__ import annotations

import re
import subprocess
import sys
import tomllib
from pathlib import Path
from typing import Any

import pytest
from packaging.requirements import Requirement
from packaging.specifiers import SpecifierSet
from trove_classifiers import classifiers as known_classifiers

import veil

ROOT = Path(__file__).resolve().parent.parent
PROJECT: dict[str, Any] = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
EXTRAS: dict[str, list[str]] = PROJECT["optional-dependencies"]
PYTHONS = ["3.11", "3.12", "3.13", "3.14"]

NOT_APP_EXTRAS = {"proxy", "envoy", "dev", "loadtest"}
"""Extras for servers veil runs in their own environment, and for working on veil. Every other extra
(a new one too) is installed into applications."""


def requirements(extra: str | None, python: str) -> list[Requirement]:
    """Everything pip installs for ``veil[extra]`` (the core when None) on ``python``, extras expanded."""
    lines = PROJECT["dependencies"] if extra is None else EXTRAS[extra]
    found: list[Requirement] = []
    for line in lines:
        req = Requirement(line)
        if req.marker is not None and not req.marker.evaluate({"python_version": python, "extra": ""}):
            continue
        if req.name == "veil":
            for inner in sorted(req.extras):
                found += requirements(inner, python)
        else:
            found.append(req)
    return found


def named(name: str, extra: str | None, python: str) -> list[Requirement]:
    return [r for r in requirements(extra, python) if r.name.lower() == name]


@pytest.mark.parametrize("python", PYTHONS)
@pytest.mark.parametrize("extra", [None, *sorted(set(EXTRAS) - NOT_APP_EXTRAS)])
def test_no_app_extra_reaches_mitmproxy(extra: str | None, python: str) -> None:
    assert named("mitmproxy", extra, python) == [], f"veil[{extra}] on Python {python} installs mitmproxy"


def test_veil_all_is_every_app_extra() -> None:
    [all_extras] = [Requirement(line) for line in EXTRAS["all"]]
    assert all_extras.extras == set(EXTRAS) - NOT_APP_EXTRAS - {"all"}


MITMPROXY = [
    # (Python, a version it must get, a version it must not)
    ("3.11", "11.0.2", "12.0.0"),
    ("3.12", "12.3.1", "11.0.2"),
    ("3.13", "12.0.0", "11.1.0"),
]


@pytest.mark.parametrize(("python", "allowed", "refused"), MITMPROXY)
def test_the_proxy_extra_gives_each_python_the_mitmproxy_it_supports(python: str, allowed: str, refused: str) -> None:
    [req] = named("mitmproxy", "proxy", python)
    assert allowed in req.specifier and refused not in req.specifier


DJANGO = [
    ("3.11", ["5.2.8"], ["6.0"]),
    ("3.12", ["5.2.8", "6.0", "6.1.3"], ["5.1", "7.0"]),
]


@pytest.mark.parametrize(("python", "allowed", "refused"), DJANGO)
def test_the_django_extra_allows_django_6_from_python_3_12(python: str, allowed: list[str], refused: list[str]) -> None:
    [req] = named("django", "django", python)
    assert all(v in req.specifier for v in allowed) and not any(v in req.specifier for v in refused)


def test_phone_numbers_come_from_the_lite_build() -> None:
    names = {Requirement(line).name for line in PROJECT["dependencies"]}
    assert "phonenumberslite" in names and "phonenumbers" not in names


def test_the_version_is_written_once_in_veil_dunder_version() -> None:
    assert "version" not in PROJECT and "version" in PROJECT.get("dynamic", [])
    setuptools = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]
    assert setuptools["dynamic"]["version"] == {"attr": "veil.__version__"}
    shown = subprocess.run([sys.executable, "-m", "veil", "--version"], capture_output=True, text=True, check=True)
    assert shown.stdout.strip() == f"veil {veil.__version__}"


def test_classifiers_are_known_to_pypi_and_agree_with_the_metadata() -> None:
    classifiers: list[str] = PROJECT["classifiers"]
    assert classifiers and not set(classifiers) - known_classifiers, set(classifiers) - known_classifiers
    requires = SpecifierSet(PROJECT["requires-python"])
    pythons = [c.rsplit(" :: ", 1)[1] for c in classifiers if re.fullmatch(r"Programming Language :: Python :: 3\.\d+", c)]
    assert pythons and all(f"{v}.0" in requires for v in pythons)
    assert "3.11" in pythons  # the lowest Python veil supports, and the one CI runs
    for classifier in classifiers:
        if match := re.fullmatch(r"Framework :: Django :: (\d+\.\d+)", classifier):
            version = match.group(1)
            assert any(version in r.specifier for p in PYTHONS for r in named("django", "django", p)), classifier


def test_every_extra_named_in_docs_and_code_exists() -> None:
    files = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md")), *sorted((ROOT / "veil").rglob("*.py"))]
    named_extras = {
        (path.name, extra)
        for path in files
        for group in re.findall(r"veil\[([a-z0-9_,-]+)\]", path.read_text(encoding="utf-8"))
        for extra in group.split(",")
    }
    assert named_extras, "no veil[EXTRA] found: the pattern no longer matches the docs"
    missing = sorted((file, extra) for file, extra in named_extras if extra not in EXTRAS)
    assert missing == []
