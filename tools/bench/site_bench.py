"""Site benchmark, in a throw-away copy of the working tree: `make site` cold and warm, and how long
`mkdocs serve` takes to show a spec edit (conv1 96 -> 64 channels) after the file is saved."""

from __future__ import annotations

import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

from alexnet.analysis import analyse
from alexnet.source import parse_source
from alexnet.spec import spec_from_source

ROOT = Path(__file__).resolve().parents[2]
IGNORE = shutil.ignore_patterns(".venv", "site", ".git", "__pycache__", ".pytest_cache", ".ruff_cache",
                                ".hypothesis", "test-artifacts", "bench-results", "*.egg-info")
EDITED_SPEC = "spec/alexnet.yaml"
EDIT = ("kind: conv, out_channels: 96, kernel_size: 11", "kind: conv, out_channels: 64, kernel_size: 11")  # conv1
EDITED_PAGE = "generated/alexnet/"


def copy_checkout(destination: Path) -> Path:
    shutil.copytree(ROOT, destination, ignore=IGNORE)
    # The venv is shared, not copied; PYTHONPATH (below) makes the copy's packages win over the editable install.
    (destination / ".venv").symlink_to(ROOT / ".venv")
    return destination


def _env(copy: Path) -> dict[str, str]:
    return {**os.environ, "PYTHONPATH": str(copy), "NO_MKDOCS_2_WARNING": "1"}


def make_site(copy: Path, timeout: float) -> dict:
    # -o: treat the venv stamp as up to date, so the shared venv is never reinstalled from the copy.
    start = time.perf_counter()
    done = subprocess.run(["make", "-o", ".venv/.installed", "site"], cwd=copy, env=_env(copy), capture_output=True,
                          text=True, timeout=timeout, check=False)
    seconds = time.perf_counter() - start
    return {"seconds": seconds, "exit_status": done.returncode,
            **({"error": (done.stdout + done.stderr)[-2000:]} if done.returncode else {})}


def expected_text(copy: Path) -> str:
    """The edited spec's total parameter count as the pages print it (1,234,567)."""
    spec_file = copy / EDITED_SPEC
    analysis = analyse(spec_from_source(parse_source(spec_file.read_bytes(), EDITED_SPEC)))
    return f"{analysis.total_params:,}"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _get(url: str) -> str | None:
    try:
        with urllib.request.urlopen(url, timeout=5) as response:
            return response.read().decode()
    except OSError:
        return None


def serve_reload(copy: Path, timeout: float) -> dict:
    """Start `mkdocs serve`, wait for the spec's page, save the edit, poll until the page shows it."""
    port = _free_port()
    url = f"http://127.0.0.1:{port}/{EDITED_PAGE}"
    log = copy / "serve.log"
    with log.open("w") as out:
        server = subprocess.Popen([sys.executable, "-m", "mkdocs", "serve", "--strict", "-a", f"127.0.0.1:{port}"],
                                  cwd=copy, env=_env(copy), stdout=out, stderr=subprocess.STDOUT, start_new_session=True)
    try:
        start = time.perf_counter()
        while _get(url) is None:
            if server.poll() is not None or time.perf_counter() - start > timeout:
                return {"error": "mkdocs serve did not serve the page", "log": log.read_text()[-2000:]}
            time.sleep(0.2)
        startup = time.perf_counter() - start
        spec_file = copy / EDITED_SPEC
        text = spec_file.read_text()
        if EDIT[0] not in text:
            return {"error": f"{EDITED_SPEC} has no line to edit ({EDIT[0]!r})"}
        spec_file.write_text(text.replace(EDIT[0], EDIT[1]))
        wanted = expected_text(copy)
        edited = time.perf_counter()
        while time.perf_counter() - edited < timeout:
            page = _get(url)
            if page and wanted in re.sub(r"<[^>]+>", "", page):
                return {"startup_s": startup, "reload_s": time.perf_counter() - edited, "page": EDITED_PAGE,
                        "edit": f"{EDITED_SPEC}: conv1 out_channels 96 -> 64", "waited_for": wanted,
                        "note": "server side: until the rebuilt page is served (the browser's reload adds a little)"}
            time.sleep(0.1)
        return {"error": f"the page did not show {wanted} within {timeout:.0f} s", "log": log.read_text()[-2000:]}
    finally:
        _stop(server)


def _stop(server: subprocess.Popen) -> None:
    """SIGTERM the server's own process group (it may run notebook kernels); SIGKILL if it lingers."""
    if server.poll() is not None:
        return
    os.killpg(server.pid, signal.SIGTERM)
    try:
        server.wait(timeout=15)
    except subprocess.TimeoutExpired:
        os.killpg(server.pid, signal.SIGKILL)
        server.wait()


def run(timeout: float = 900) -> dict:
    with tempfile.TemporaryDirectory(prefix="bench-site-") as tmp:
        copy = copy_checkout(Path(tmp) / "repo")
        cold = make_site(copy, timeout)
        warm = make_site(copy, timeout) if cold["exit_status"] == 0 else {"skipped": "the cold build failed"}
        reload = serve_reload(copy, timeout)
    return {"make_site_cold": cold, "make_site_warm": warm, "serve_reload": reload,
            "note": "cold: a fresh copy without site/ or build caches; warm: the same build again in that copy, "
                    "with whatever the cold build cached"}
