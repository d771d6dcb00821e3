"""Live regeneration under `mkdocs serve`: edit a spec in a throw-away copy and watch the served page follow;
break the spec and the server keeps answering with the problem on every page over the last good content; fix
it and the pages follow again; the notebook, executed in the background, catches up by itself.

The measured latency (spec saved -> page serves the new table) is printed and written to
test-artifacts/live-reload.json; the bounds are generous because two shared cores rebuild the whole site.
Speed is measured by `make bench` (tools/bench/site_bench.py), not asserted here.
"""

from __future__ import annotations

import json
import re
import time
from html import unescape

import pytest

from alexnet.analysis import analyse
from alexnet.spec import load_spec
from tests.conftest import ROOT, copy_repo
from tests.site_helpers import (
    ALEXNET_PAGE,
    expected_table,
    fetch,
    free_port,
    mkdocs_serve,
    parameter_tables,
    poll,
    table_as_tuples,
)
from tests.test_journey import GRAPH_PAGE, GRAPH_SPEC, SPEC, edit_conv1, edit_inception3a
from tools.render_markdown import table_rows

pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("live-reload")]

STARTUP_BOUND_S = 600  # first build under serve (the notebook runs in the background: not waited for)
RELOAD_BOUND_S = 120
NOTEBOOK_PAGE = "notebooks/alexnet/"
BROKEN = ("out_channels: 64,", "out_channels: -3,")  # conv1 after the edit below, made invalid
PROBLEM = "spec/alexnet.yaml:"  # the start of the problem's file:line:col line
# GoogLeNet's Inception block made to read a branch that does not exist
GRAPH_BROKEN = ("from: [branch1, branch2, branch3, branch4]", "from: [branch1, branch2, branch3, branch5]")


def shows_table(html: str | None, layers: list[tuple]) -> bool:
    return bool(html) and any(table_as_tuples(t)[0] == layers for t in parameter_tables(html))


def failure_lines(html: str | None) -> list[str]:
    """The code lines of the failure admonition at the top of the page's content (none: no admonition)."""
    match = re.search(r'<div class="admonition failure">.*?<pre><code>(.*?)</code></pre>', html or "", re.S)
    return unescape(match.group(1)).splitlines() if match else []


def notebook_is_current(html: str | None, total: int) -> bool:
    return bool(html) and f"parameters: {total:,} (analysis: {total:,})" in html and "Updating:" not in html


def test_editing_a_spec_updates_the_served_page(tmp_path):
    repo = copy_repo(tmp_path / "repo")
    log = tmp_path / "mkdocs-serve.log"
    port = free_port()
    url = f"http://127.0.0.1:{port}/{ALEXNET_PAGE.removesuffix('index.html')}"
    old = expected_table(table_rows(analyse(load_spec(repo / SPEC, SPEC))))

    with mkdocs_serve(repo, port, log) as server:
        def served(layers):
            assert server.poll() is None, f"mkdocs serve exited ({server.returncode}):\n{log.read_text()[-4000:]}"
            return shows_table(fetch(url), layers)

        assert poll(lambda: served(old), STARTUP_BOUND_S, interval=1), (
            f"{url} never served the alexnet table within {STARTUP_BOUND_S} s:\n{log.read_text()[-4000:]}")
        edit_conv1(repo, 96, 64)
        saved = time.monotonic()
        new = expected_table(table_rows(analyse(load_spec(repo / SPEC, SPEC))))
        assert new != old
        changed = poll(lambda: served(new), RELOAD_BOUND_S, interval=0.25)
        latency = time.monotonic() - saved
        assert changed, f"the page did not show conv1 = 64 within {RELOAD_BOUND_S} s:\n{log.read_text()[-4000:]}"

        # The notebook is executed in the background and the page follows when it is done.
        total = analyse(load_spec(repo / SPEC, SPEC)).total_params
        base = url.removesuffix(ALEXNET_PAGE.removesuffix("index.html"))
        assert poll(lambda: notebook_is_current(fetch(base + NOTEBOOK_PAGE), total), STARTUP_BOUND_S, interval=1), (
            f"the notebook page never showed the edited spec's outputs:\n{log.read_text()[-4000:]}")

        # A broken spec: every page still answers, with the problem on top of the last good content.
        spec = repo / SPEC
        spec.write_text(spec.read_text().replace(*BROKEN, 1))
        assert poll(lambda: failure_lines(fetch(url)), RELOAD_BOUND_S, interval=0.25), (
            f"no failure admonition on {url}:\n{log.read_text()[-4000:]}")
        for page in (url, base, base + NOTEBOOK_PAGE):
            html = fetch(page)
            lines = failure_lines(html)
            assert lines and all(line.startswith(PROBLEM) for line in lines), f"{page}: {lines}"
            assert re.match(r"spec/alexnet\.yaml:\d+:\d+: .*out_channels", lines[0]), lines
        assert shows_table(fetch(url), new), "the page lost its last good content"
        assert server.poll() is None
        terminal = log.read_text()
        assert lines[0] in terminal and "Traceback" not in terminal, terminal[-4000:]

        # Fixed: the problem goes, the page shows the spec as saved.
        spec.write_text(spec.read_text().replace(BROKEN[1], BROKEN[0], 1))
        edit_conv1(repo, 64, 96)
        assert poll(lambda: served(old) and not failure_lines(fetch(url)), RELOAD_BOUND_S, interval=0.25), (
            f"the fixed spec did not show:\n{log.read_text()[-4000:]}")

        # A graph spec follows the same way: a block argument edited, then a branch name broken and fixed.
        graph_url = base + GRAPH_PAGE.removesuffix("index.html")
        graph_old = expected_table(table_rows(analyse(load_spec(repo / GRAPH_SPEC, GRAPH_SPEC))))
        assert shows_table(fetch(graph_url), graph_old), f"{graph_url} does not serve the googlenet table"
        edit_inception3a(repo, 64, 32)
        graph_new = expected_table(table_rows(analyse(load_spec(repo / GRAPH_SPEC, GRAPH_SPEC))))
        assert graph_new != graph_old
        assert poll(lambda: shows_table(fetch(graph_url), graph_new), RELOAD_BOUND_S, interval=0.25), (
            f"the googlenet page did not follow the block argument:\n{log.read_text()[-4000:]}")
        graph = repo / GRAPH_SPEC
        graph.write_text(graph.read_text().replace(*GRAPH_BROKEN, 1))
        assert poll(lambda: failure_lines(fetch(graph_url)), RELOAD_BOUND_S, interval=0.25), (
            f"no failure admonition on {graph_url}:\n{log.read_text()[-4000:]}")
        lines = failure_lines(fetch(graph_url))
        assert re.match(r"spec/googlenet\.yaml:\d+:\d+: .*branch5", lines[0]), lines
        assert shows_table(fetch(graph_url), graph_new), "the graph page lost its last good content"
        graph.write_text(graph.read_text().replace(GRAPH_BROKEN[1], GRAPH_BROKEN[0], 1))
        assert poll(lambda: shows_table(fetch(graph_url), graph_new) and not failure_lines(fetch(graph_url)),
                    RELOAD_BOUND_S, interval=0.25), f"the fixed graph spec did not show:\n{log.read_text()[-4000:]}"
    assert "Kernel is running over TCP" not in log.read_text()
    report = ROOT / "test-artifacts" / "live-reload.json"
    report.parent.mkdir(exist_ok=True)
    report.write_text(json.dumps({"spec_saved_to_page_updated_s": round(latency, 2), "bound_s": RELOAD_BOUND_S}) + "\n")
    print(f"live reload: spec saved -> {url} updated in {latency:.2f} s (bound {RELOAD_BOUND_S} s)")
