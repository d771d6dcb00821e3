"""MkDocs hook: keep the site generated from the specs, on `mkdocs build` and under `mkdocs serve`.

- on_config: run the generator (a separate process that writes only files whose content changed, so serve
  does not rebuild forever) and list one page per spec under "Networks", grouped by family.
- on_pre_build: point mkdocs-jupyter at the notebooks executed for the current specs (tools/site_notebooks.py);
  under serve, on_post_build starts the run for the current specs in the background when there is none.
- on_page_markdown: turn `[@key]` citations into footnotes from docs/bibliography.yaml.
- on_page_content: the notices of a serve that is not current; drop the CDN scripts mkdocs-jupyter's template
  adds (MathJax, mermaid): the site makes no request outside its origin.

A bad spec fails `mkdocs build` with its `file:line:col: message` lines. Under `mkdocs serve` it does not stop
the server: the generator writes nothing, every page shows the lines on top of the last good content, and the
terminal shows the same lines (no traceback).

MkDocs loads this file once per process (serve keeps it across rebuilds), so the module state below lives as
long as the server: the command, the background notebook run, the watched folder.
"""

from __future__ import annotations

import importlib
import re
from pathlib import Path

from mkdocs.exceptions import PluginError

from tools import site_generation, site_notices
from tools.site_notebooks import FINISHED, RUNS, Background, Notebooks, run_now

ROOT = Path(__file__).resolve().parent.parent
SPECS_SECTION = "Networks"
CDN_SCRIPT = re.compile(
    r"<script\b[^>]*\bsrc=\"https?://[^\"]*\"[^>]*>\s*</script>"          # <script src="https://cdn...">
    r"|<script type=\"text/x-mathjax-config\">.*?</script>"                # MathJax 2 configuration
    r"|<script type=\"module\">(?:(?!</script>).)*https?://(?:(?!</script>).)*</script>",  # mermaid import
    re.S,
)


class _State:
    def __init__(self) -> None:
        self.command: str | None = None  # "serve" or "build" (on_startup); None when a test calls events directly
        self.problems: list[str] = []    # spec problems of this build (serve only: a build raises instead)
        self.notebook_notice = ""         # HTML put on top of the notebook pages (serve only)
        self.notebooks: Notebooks | None = None
        self.start: str | None = None    # the notebook run to start once this build is served (serve only)
        self.background = Background()


STATE = _State()


def _serving() -> bool:
    return STATE.command == "serve"


def on_startup(command, dirty):
    STATE.command = command


def on_shutdown():
    STATE.background.stop(STATE.notebooks)


def on_serve(server, config, builder):
    # A background notebook run ends by writing its marker here: that rebuilds the site with its outputs.
    finished = ROOT / RUNS / FINISHED
    finished.mkdir(parents=True, exist_ok=True)
    server.watch(str(finished))
    return server


def on_config(config):
    result = site_generation.generate(ROOT)
    problems = result.problems or (
        [f"the generator failed: {result.crash.splitlines()[-1]} (run `python -m tools.generate` for details)"]
        if result.crash else [])
    if problems and not _serving():
        raise PluginError("invalid spec:\n" + "\n".join(result.problems) if result.problems
                          else "the generator failed:\n" + result.crash)
    STATE.problems = problems
    terminal = site_notices.terminal()
    for line in problems:
        terminal.warning(line)
    if problems:
        terminal.warning("the site shows the last valid specs until these lines are fixed")
    for line in result.changed:
        terminal.info(line)
    _add_spec_pages(config["nav"], site_generation.spec_titles(ROOT))
    return config


def on_pre_build(config):
    notebooks = STATE.notebooks = Notebooks.of(config, ROOT)
    STATE.notebook_notice, STATE.start = "", None
    if notebooks is None:
        return
    key = notebooks.digest()
    current = notebooks.runs / key
    if notebooks.complete(current):
        notebooks.use(current)
        notebooks.forget_others(key, markers=not _serving())
        return
    if not _serving():
        failure = run_now(notebooks, key)
        if failure:
            raise PluginError(f"a notebook failed:\n{failure}")
        notebooks.use(current)
        return
    earlier = notebooks.earlier_result(key)
    notebooks.use(earlier)
    shown = ("The outputs below come from an earlier version of the specs." if earlier
             else "It is shown without outputs until then.")
    if STATE.problems:
        return  # nothing to execute: the page keeps the last valid specs' outputs, under the spec notice
    failure = notebooks.failure(current)
    if failure:
        site_notices.terminal().warning("a notebook fails with the current specs: %s", failure.splitlines()[-1])
        STATE.notebook_notice = site_notices.admonition(
            "failure", "This notebook fails with the current specs", shown, failure.splitlines()[-12:])
        return
    STATE.start = key  # in on_post_build: the run would compete with this build for the CPU
    STATE.notebook_notice = site_notices.admonition(
        "info", "Updating: this notebook is being executed for the current specs",
        f"The page reloads by itself when it is done. {shown}")


def on_post_build(config):
    key, STATE.start = STATE.start, None
    # A run that finished is started again only if it left neither outputs nor a failure: its inputs changed
    # while it ran, and now they are back to what the key names.
    if key and STATE.notebooks and not STATE.notebooks.complete(STATE.notebooks.runs / key) \
            and not STATE.notebooks.failure(STATE.notebooks.runs / key):
        STATE.background.ensure(STATE.notebooks, key)


def _add_spec_pages(nav: list | None, titles: dict[str, tuple[str, str]]) -> None:
    """Append docs/generated/<name>/index.md for every spec to the nav section SPECS_SECTION, one group per
    family (AlexNet first), so the nav does not grow into one long list as specs are added.

    The nav gets the spec's title explicitly: MkDocs only learns a page's H1 when it renders that page,
    so pages rendered earlier would list it as "Index".
    """
    for item in nav or []:
        if isinstance(item, dict) and SPECS_SECTION in item:
            section = item[SPECS_SECTION]
            listed = {next(iter(entry.values())) if isinstance(entry, dict) else entry for entry in section}
            families: dict[str, list] = {}
            for name, (title, family) in titles.items():
                if (page := f"generated/{name}/index.md") not in listed:
                    families.setdefault(family, []).append({title: page})
            for family in sorted(families, key=lambda f: (f != "AlexNet", f)):
                section.append({family: families[family]})
            return
    raise PluginError(f"mkdocs.yml: the nav has no section {SPECS_SECTION!r} for the spec pages")


def on_page_markdown(markdown, page, config, files):
    bibliography = importlib.import_module("tools.render_bibliography")
    try:
        entries = bibliography.load()
        markdown = bibliography.link_citations(markdown, entries, page.file.src_path)
    except bibliography.CitationError as exc:
        raise PluginError(str(exc)) from None
    if "<!-- bibliography: all -->" in markdown:
        markdown = markdown.replace("<!-- bibliography: all -->", bibliography.render_all(entries))
    return markdown


def on_page_content(html, page, config, files):
    if page.file.src_path.endswith(".ipynb"):
        html = STATE.notebook_notice + CDN_SCRIPT.sub("", html)
    if STATE.problems:
        html = site_notices.spec_problems(STATE.problems) + html
    return html
