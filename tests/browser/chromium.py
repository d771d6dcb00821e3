"""Where Chromium is and when a missing one may skip the browser tests (locally) or must fail them (CI)."""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path

import pytest

CHROMIUM = Path("/usr/bin/chromium")
INSTALL_HINT = "apt-get install -y chromium"
# Headless in a container: no sandbox (no user namespaces), no GPU, and nothing that phones home.
LAUNCH_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
               "--no-first-run", "--disable-sync"]


def require_chromium(path: Path = CHROMIUM, env: Mapping[str, str] = os.environ) -> Path:
    """``path`` if Chromium is installed there; otherwise skip locally, but fail loudly when CI=true."""
    if path.is_file() and os.access(path, os.X_OK):
        return path
    message = f"Chromium not found at {path}: install it with `{INSTALL_HINT}` (or `make chromium`)"
    if env.get("CI", "").lower() == "true":
        pytest.fail(f"CI=true, browser tests must run: {message}", pytrace=False)
    pytest.skip(message)
