"""Shared fixtures: the repository root, the bundled specs and their analyses, temporary repo copies."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import settings

from alexnet.analysis import Analysis, analyse
from alexnet.spec import load_spec

# Property tests: at least 300 examples each in CI (CI=true), fewer for a quick local run. A test's own
# @settings(max_examples=...) still wins. Select another with HYPOTHESIS_PROFILE=ci|dev.
settings.register_profile("ci", max_examples=300, deadline=None, print_blob=True)
settings.register_profile("dev", max_examples=60, deadline=None)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE") or ("ci" if os.environ.get("CI") == "true" else "dev"))

ROOT = Path(__file__).resolve().parent.parent
SPECS = sorted(ROOT.glob("spec/*.yaml"))
SPEC_NAMES = [p.stem for p in SPECS]
COPY_IGNORE = shutil.ignore_patterns(".venv", "site", ".git", "__pycache__", ".pytest_cache", ".ruff_cache",
                                     ".hypothesis", "test-artifacts", "bench-results", "*.egg-info")


def load_analysis(name: str) -> Analysis:
    return analyse(load_spec(ROOT / "spec" / f"{name}.yaml", f"spec/{name}.yaml"))


@pytest.fixture(scope="session")
def analyses() -> dict[str, Analysis]:
    return {name: load_analysis(name) for name in SPEC_NAMES}


def copy_repo(destination: Path) -> Path:
    """A throw-away copy of the working tree (no venv, no git, no build output)."""
    shutil.copytree(ROOT, destination, ignore=COPY_IGNORE)
    return destination


@pytest.fixture
def repo_copy(tmp_path: Path) -> Path:
    return copy_repo(tmp_path / "repo")


def run_python(*args: str, cwd: Path = ROOT, **kwargs) -> subprocess.CompletedProcess:
    """Run ``python ARGS`` with this interpreter; the working directory decides which checkout is used."""
    return subprocess.run([sys.executable, *args], cwd=cwd, capture_output=True, text=True, timeout=300,
                          env={**_clean_env(), "PYTHONPATH": str(cwd)}, **kwargs)


def _clean_env() -> dict[str, str]:
    import os

    return {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH",)}


@pytest.fixture(scope="session")
def chromium_browser():
    """One headless Chromium per test process: sync Playwright allows a single instance per thread, so every
    browser test (site pages, SVG rendering) shares this one."""
    from tests.browser.chromium import LAUNCH_ARGS, require_chromium

    executable = require_chromium()
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(executable), headless=True, args=LAUNCH_ARGS)
        try:
            yield browser
        finally:
            browser.close()
