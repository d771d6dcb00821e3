"""MkDocs hook: keep the site generated from the specs, on `mkdocs build` and under `mkdocs serve`.

- on_config: run the generator (it writes only files whose content changed, so serve does not rebuild
  forever) and list one page per spec under "The three AlexNets", so a new spec/<name>.yaml gets a page.
- on_config also keys mkdocs-jupyter's cache on the specs and the library code: its own key is the
  notebook text only, so the executed outputs would go stale when a spec changes.
- on_page_markdown: turn `[@key]` citations into footnotes from docs/bibliography.yaml.
- on_page_content: drop the CDN scripts mkdocs-jupyter's template adds (MathJax, mermaid): the site
  makes no request outside its origin, and notebooks here use no math or mermaid output.
"""

from __future__ import annotations

import hashlib
import importlib
import logging
import re
import shutil
import sys
from pathlib import Path

from mkdocs.exceptions import PluginError

ROOT = Path(__file__).resolve().parent.parent
SPECS_SECTION = "The three AlexNets"
log = logging.getLogger("mkdocs.hooks.alexnet")

# Under `mkdocs serve` this hook is re-executed on every rebuild, but imported modules are cached: drop
# ours so edits to renderers and templates in tools/ (watched) take effect without restarting the server.
_OWN_MODULES = re.compile(r"^(alexnet|tools)(\.|$)")
CDN_SCRIPT = re.compile(
    r"<script\b[^>]*\bsrc=\"https?://[^\"]*\"[^>]*>\s*</script>"          # <script src="https://cdn...">
    r"|<script type=\"text/x-mathjax-config\">.*?</script>"                # MathJax 2 configuration
    r"|<script type=\"module\">(?:(?!</script>).)*https?://(?:(?!</script>).)*</script>",  # mermaid import
    re.S,
)


def _fresh(module: str):
    for name in [n for n in sys.modules if _OWN_MODULES.match(n) and n != "tools.site_math"]:
        del sys.modules[name]
    return importlib.import_module(module)


def on_config(config):
    generate = _fresh("tools.generate")
    try:
        changed = generate.generate(ROOT)
    except generate.SpecError as exc:
        raise PluginError("invalid spec:\n" + "\n".join(str(p) for p in exc.problems)) from None
    for rel in changed:
        log.info("regenerated %s", rel)
    titles = {a.spec.name: a.spec.title for a in generate.load_all(generate.spec_paths(ROOT), ROOT)}
    _add_spec_pages(config["nav"], titles)
    _key_notebook_cache(config)
    return config


def _key_notebook_cache(config) -> None:
    """Point mkdocs-jupyter's cache at a folder named after what the notebook reads; drop older folders."""
    jupyter = config.plugins.get("mkdocs-jupyter")
    if jupyter is None or not jupyter.config["cache"]:
        return
    digest = hashlib.sha256()
    for path in sorted([*ROOT.glob("spec/*.yaml"), *ROOT.glob("alexnet/**/*.py")]):
        digest.update(path.relative_to(ROOT).as_posix().encode() + b"\0" + path.read_bytes() + b"\0")
    base = Path(jupyter.config["cache_dir"])
    base = base if base.is_absolute() else ROOT / base
    jupyter.config["cache_dir"] = str(base / digest.hexdigest()[:16])
    for old in base.glob("*"):
        if old.is_dir() and old.name != digest.hexdigest()[:16]:
            shutil.rmtree(old, ignore_errors=True)


def _add_spec_pages(nav: list | None, titles: dict[str, str]) -> None:
    """Append docs/generated/<name>/index.md for every spec to the nav section SPECS_SECTION.

    The nav gets the spec's title explicitly: MkDocs only learns a page's H1 when it renders that page,
    so pages rendered earlier would list it as "Index".
    """
    for item in nav or []:
        if isinstance(item, dict) and SPECS_SECTION in item:
            section = item[SPECS_SECTION]
            listed = {next(iter(entry.values())) if isinstance(entry, dict) else entry for entry in section}
            section.extend({title: page} for name, title in titles.items()
                           if (page := f"generated/{name}/index.md") not in listed)
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
        html = CDN_SCRIPT.sub("", html)
    return html
