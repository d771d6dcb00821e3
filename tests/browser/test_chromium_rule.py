"""The skip rule: without Chromium the browser tests skip locally with the install command, and fail in CI."""

from __future__ import annotations

import pytest

from tests.browser.chromium import INSTALL_HINT, require_chromium


def test_missing_chromium_fails_in_ci(tmp_path):
    with pytest.raises(pytest.fail.Exception, match="CI=true"):
        require_chromium(tmp_path / "chromium", {"CI": "true"})


def test_missing_chromium_skips_locally_saying_how_to_install(tmp_path):
    with pytest.raises(pytest.skip.Exception) as skipped:
        require_chromium(tmp_path / "chromium", {})
    assert INSTALL_HINT in str(skipped.value) and INSTALL_HINT == "apt-get install -y chromium"


def test_installed_chromium_is_used(tmp_path):
    binary = tmp_path / "chromium"
    binary.write_text("#!/bin/sh\n")
    binary.chmod(0o755)
    assert require_chromium(binary, {"CI": "true"}) == binary
