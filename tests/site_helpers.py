"""Build, serve and read the documentation site in tests: free ports, `mkdocs build`, a static HTTP
server, `mkdocs serve` as a managed process, and the tables of built HTML pages."""

from __future__ import annotations

import contextlib
import functools
import http.server
import os
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from html.parser import HTMLParser
from pathlib import Path

from tests.conftest import ROOT

ALEXNET_PAGE = "alexnet/index.html"  # the seed's page rebuilt from spec/alexnet.yaml (mkdocs.yml nav)
BUILD_TIMEOUT_S = 900  # the build executes the notebook; two cores are shared by several engineers


def mkdocs_env(cwd: Path) -> dict[str, str]:
    """The environment `make` gives mkdocs, importing the code of the checkout at ``cwd``."""
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    return {**env, "PYTHONPATH": str(cwd), "NO_MKDOCS_2_WARNING": "1", "PYTHONDONTWRITEBYTECODE": "1"}


def build_site(destination: Path, cwd: Path = ROOT) -> Path:
    """`mkdocs build --strict` of the checkout at ``cwd`` into ``destination``; AssertionError with its log."""
    result = subprocess.run([sys.executable, "-m", "mkdocs", "build", "--strict", "-d", str(destination)],
                            cwd=cwd, env=mkdocs_env(cwd), capture_output=True, text=True, timeout=BUILD_TIMEOUT_S)
    assert result.returncode == 0, f"mkdocs build --strict failed ({result.returncode}):\n{build_problems(result.stderr)}"
    return destination


def build_problems(log: str) -> str:
    """MkDocs' warnings and errors first (strict mode aborts on them), then the end of the log (a traceback)."""
    flagged = [line for line in log.splitlines() if line.startswith(("WARNING", "ERROR"))]
    return "\n".join([*flagged[:40], "...", log[-2500:]])


def free_port() -> int:
    """A port nobody listens on now (the OS picks it; a tiny race with other processes is acceptable)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format, *args):  # one line per request would drown the test output
        pass


@contextlib.contextmanager
def serve_directory(directory: Path) -> Iterator[str]:
    """Serve ``directory`` over HTTP on 127.0.0.1 (Material's search worker needs http, not file://)."""
    handler = functools.partial(_QuietHandler, directory=str(directory))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, name="site-server", daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=10)


def page_urls(site_dir: Path, base_url: str) -> dict[str, str]:
    """Every HTML page of a built site (the 404 page excluded), by path relative to the site root."""
    pages = {}
    for path in sorted(site_dir.rglob("*.html")):
        rel = path.relative_to(site_dir).as_posix()
        if rel == "404.html":
            continue
        pages[rel] = base_url + (rel[: -len("index.html")] if rel.endswith("index.html") else rel)
    return pages


def fetch(url: str, timeout: float = 10) -> str | None:
    """The body of ``url``, or None while the server is not answering (or answers an error)."""
    try:
        with urllib.request.urlopen(url, timeout=timeout) as response:
            return response.read().decode()
    except (urllib.error.URLError, ConnectionError, TimeoutError, OSError):
        return None


@contextlib.contextmanager
def mkdocs_serve(cwd: Path, port: int, log: Path) -> Iterator[subprocess.Popen]:
    """`mkdocs serve --strict` of the checkout at ``cwd``; the whole process group is killed on exit."""
    with log.open("w") as out:
        process = subprocess.Popen([sys.executable, "-m", "mkdocs", "serve", "--strict", "-a", f"127.0.0.1:{port}"],
                                   cwd=cwd, env=mkdocs_env(cwd), stdout=out, stderr=subprocess.STDOUT,
                                   start_new_session=True)
        try:
            yield process
        finally:
            _stop(process)


def _stop(process: subprocess.Popen) -> None:
    """SIGTERM the server's process group (mkdocs may run notebook kernels), SIGKILL what lingers."""
    for sig, grace in ((signal.SIGTERM, 15), (signal.SIGKILL, 15)):
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, sig)
        try:
            process.wait(timeout=grace)
            return
        except subprocess.TimeoutExpired:
            continue


def poll(condition, timeout: float, interval: float = 0.5):
    """Call ``condition`` until it returns something truthy; return it, or None after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(interval)
    return None


class _TableParser(HTMLParser):
    """Collect every <table> as rows of cell texts (header cells included), whitespace collapsed."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.tables: list[list[list[str]]] = []
        self._depth = 0
        self._row: list[str] | None = None
        self._cell: list[str] | None = None

    def handle_starttag(self, tag, attrs):
        if tag == "table":
            self._depth += 1
            self.tables.append([])
        elif tag == "tr" and self._depth:
            self._row = []
        elif tag in ("td", "th") and self._row is not None:
            self._cell = []

    def handle_endtag(self, tag):
        if tag in ("td", "th") and self._cell is not None and self._row is not None:
            self._row.append(" ".join("".join(self._cell).split()))
            self._cell = None
        elif tag == "tr" and self._row is not None:
            self.tables[-1].append(self._row)
            self._row = None
        elif tag == "table" and self._depth:
            self._depth -= 1

    def handle_data(self, data):
        if self._cell is not None:
            self._cell.append(data)


def html_tables(html: str) -> list[list[list[str]]]:
    parser = _TableParser()
    parser.feed(html)
    return parser.tables


PARAMETER_HEADER = ["Layer", "Activation shape", "Filter shape", "Weights", "Biases", "Parameters", "MACs",
                    "Receptive field"]


def parameter_tables(html: str) -> list[list[list[str]]]:
    """The generated parameter tables of a page (recognised by their header row)."""
    return [table for table in html_tables(html) if table and table[0] == PARAMETER_HEADER]


def as_int(text: str) -> int:
    """'1,234' or '**1,234**' -> 1234."""
    return int(text.replace(",", "").replace("*", "").strip())


def expected_table(rows: list[dict]) -> list[tuple]:
    """``tools.render_markdown.table_rows`` as comparable tuples (numbers as ints)."""
    return [(r["display"], r["shape"], r["filter"] or "-", r["weights"], r["biases"], r["params"], r["macs"], r["rf"])
            for r in rows]


def table_as_tuples(table: list[list[str]]) -> tuple[list[tuple], tuple]:
    """A rendered parameter table's layer rows (Input and Total left out) and its Total row, numbers as ints."""
    def label(row: list[str]) -> str:  # Markdown source bolds the Total row, HTML has the bare text
        return row[0].strip("*")

    body = [row for row in table[1:] if label(row) not in ("Input", "Total")]
    layers = [(r[0], r[1], r[2], *(as_int(c) for c in r[3:7]), r[7]) for r in body]
    totals = [row for row in table if label(row) == "Total"]
    assert len(totals) == 1, f"expected one Total row, found {len(totals)}"
    return layers, tuple(as_int(c) for c in totals[0][3:7])
