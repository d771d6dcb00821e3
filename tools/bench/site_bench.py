"""Site benchmark, in throw-away copies of the working tree: `make site` cold and warm, and `make serve` in a
fresh copy: time to its first page, how long a spec edit (conv1 96 <-> 64 channels, five times) takes to show
after the file is saved, and when the notebook page carries the executed outputs."""

from __future__ import annotations

import os
import re
import shutil
import signal
import socket
import statistics
import subprocess
import tempfile
import time
import urllib.request
from pathlib import Path

from alexnet.analysis import analyse
from alexnet.source import parse_source
from alexnet.spec import spec_from_source

ROOT = Path(__file__).resolve().parents[2]
# A fresh clone: no build output and no cache (.cache holds executed notebooks).
IGNORE = shutil.ignore_patterns(".venv", "site", ".git", "__pycache__", ".pytest_cache", ".ruff_cache", ".cache",
                                ".hypothesis", "test-artifacts", "bench-results", "*.egg-info")
EDITED_SPEC = "spec/alexnet.yaml"
EDIT = ("kind: conv, out_channels: 96, kernel_size: 11", "kind: conv, out_channels: 64, kernel_size: 11")  # conv1
EDITED_PAGE = "generated/alexnet/"
NOTEBOOK_PAGE = "notebooks/alexnet/"
RELOADS = 5  # edits timed under one server (alternately 96 -> 64 and back); the median is reported


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


def _wait_for(url: str, wanted: str | None, server: subprocess.Popen, timeout: float) -> float | None:
    """Seconds until ``url`` answers (and shows ``wanted`` in its text), None on timeout or a dead server."""
    start = time.perf_counter()
    while time.perf_counter() - start < timeout and server.poll() is None:
        page = _get(url)
        if page is not None and (wanted is None or wanted in re.sub(r"<[^>]+>", "", page)):
            return time.perf_counter() - start
        time.sleep(0.1)
    return None


def _settle(log: Path, quiet_s: float = 1.5, timeout: float = 120) -> None:
    """Wait until the server's log has not grown for ``quiet_s`` (no rebuild in progress)."""
    start, size, since = time.perf_counter(), -1, time.perf_counter()
    while time.perf_counter() - start < timeout:
        now = log.stat().st_size
        if now != size:
            size, since = now, time.perf_counter()
        elif time.perf_counter() - since >= quiet_s:
            return
        time.sleep(0.1)


def serve_reload(copy: Path, timeout: float) -> dict:
    """`make serve` in a fresh copy: first page, RELOADS timed spec edits, then the executed notebook."""
    port = _free_port()
    base = f"http://127.0.0.1:{port}/"
    log = copy / "serve.log"
    spec_file = copy / EDITED_SPEC
    original = spec_file.read_text()
    if EDIT[0] not in original:
        return {"error": f"{EDITED_SPEC} has no line to edit ({EDIT[0]!r})"}
    with log.open("w") as out:
        server = subprocess.Popen(["make", "-o", ".venv/.installed", "serve", f"SERVE_ADDR=127.0.0.1:{port}"],
                                  cwd=copy, env=_env(copy), stdout=out, stderr=subprocess.STDOUT, start_new_session=True)
    try:
        startup = _wait_for(base + EDITED_PAGE, None, server, timeout)
        if startup is None:
            return {"error": "make serve did not serve the page", "log": log.read_text()[-2000:]}
        reloads = []
        for i in range(RELOADS):
            _settle(log)  # time each edit from a quiet server, as a person reading the page would see it
            spec_file.write_text(original.replace(*EDIT) if i % 2 == 0 else original)
            seconds = _wait_for(base + EDITED_PAGE, expected_text(copy), server, timeout)
            if seconds is None:
                return {"error": f"edit {i + 1}: the page did not show it within {timeout:.0f} s",
                        "log": log.read_text()[-2000:]}
            reloads.append(seconds)
        total = expected_text(copy)
        notebook = _wait_for(base + NOTEBOOK_PAGE, f"parameters: {total} (analysis: {total})", server, timeout)
        return {"startup_s": startup, "reload_s": statistics.median(reloads), "reloads_s": reloads,
                "notebook_after_last_edit_s": notebook, "page": EDITED_PAGE,
                "edit": f"{EDITED_SPEC}: conv1 out_channels 96 <-> 64, {RELOADS} times",
                "note": "server side: until the rebuilt page is served (the browser's reload adds a little); "
                        "startup: `make serve` in a fresh copy (no .cache) until the first page answers"}
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
    with tempfile.TemporaryDirectory(prefix="bench-serve-") as tmp:
        reload = serve_reload(copy_checkout(Path(tmp) / "repo"), timeout)
    return {"make_site_cold": cold, "make_site_warm": warm, "serve_reload": reload,
            "note": "cold: a fresh copy without site/ or build caches; warm: the same build again in that copy, "
                    "with whatever the cold build cached"}
