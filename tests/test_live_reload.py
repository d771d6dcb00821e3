"""Live regeneration under `mkdocs serve`: edit a spec in a throw-away copy and watch the served page follow.

The measured latency (spec saved -> page serves the new table) is printed and written to
test-artifacts/live-reload.json; the bound is generous because two shared cores rebuild the whole site.
"""

from __future__ import annotations

import json
import time

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
from tests.test_journey import SPEC, edit_conv1
from tools.render_markdown import table_rows

pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("live-reload")]

STARTUP_BOUND_S = 600  # first build under serve: generator + executed notebook
RELOAD_BOUND_S = 120


def shows_table(html: str | None, layers: list[tuple]) -> bool:
    return bool(html) and any(table_as_tuples(t)[0] == layers for t in parameter_tables(html))


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
    report = ROOT / "test-artifacts" / "live-reload.json"
    report.parent.mkdir(exist_ok=True)
    report.write_text(json.dumps({"spec_saved_to_page_updated_s": round(latency, 2), "bound_s": RELOAD_BOUND_S}) + "\n")
    print(f"live reload: spec saved -> {url} updated in {latency:.2f} s (bound {RELOAD_BOUND_S} s)")
