"""One site build per test session, served over HTTP on 127.0.0.1, and one headless Chromium.

Browser test modules carry `BROWSER` as their pytestmark: the xdist group sends them all to one worker, so
`make test` (pytest -n 2 --dist loadgroup) builds the site once.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.browser.probe import Browsing
from tests.conftest import copy_repo
from tests.site_helpers import build_site, serve_directory

BROWSER = [pytest.mark.browser, pytest.mark.xdist_group("browser")]
VIEWPORT = {"width": 1280, "height": 900}  # desktop width: Material shows the search box in the header


@pytest.fixture(scope="session")
def site_dir(tmp_path_factory) -> Path:
    # Built from a copy: the build's hook regenerates files, which must not touch the working tree under test.
    base = tmp_path_factory.mktemp("browser")
    return build_site(base / "site", cwd=copy_repo(base / "repo"))


@pytest.fixture(scope="session")
def site_url(site_dir: Path) -> Iterator[str]:
    with serve_directory(site_dir) as url:
        yield url


@pytest.fixture
def browse(chromium_browser):
    """``browse(base, color_scheme)``: a fresh context (no stored palette choice, no cache) recording the
    problems of every page it visits on the site at ``base``; closed after the test."""
    contexts = []

    def make(base: str, color_scheme: str = "light") -> Browsing:
        context = chromium_browser.new_context(viewport=VIEWPORT, color_scheme=color_scheme)
        context.set_default_timeout(60_000)  # two cores shared with other builds: slow, not broken
        contexts.append(context)
        return Browsing(context, base)

    yield make
    for context in contexts:
        context.close()
