"""The documentation site: `mkdocs build --strict` succeeds, the AlexNet page's numbers are the analysis',
citations resolve, the notebook ran, and nothing is loaded from outside the site."""

from __future__ import annotations

import importlib.util
import json
import re
import shutil
from html.parser import HTMLParser
from pathlib import Path

import pytest
import yaml

from tests.conftest import ROOT, SPEC_NAMES, copy_repo, run_python
from tests.site_helpers import ALEXNET_PAGE, expected_table, html_tables, parameter_tables, table_as_tuples
from tools import render_bibliography as bib
from tools.render_markdown import table_rows
from tools.render_site import facts, render_lrn_usage, seed_errors

pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("site")]  # one build, one worker


@pytest.fixture(scope="module")
def site(tmp_path_factory) -> Path:
    """One strict build of a copy of the working tree (the hook may write generated files: not here)."""
    from tests.site_helpers import build_site

    repo = copy_repo(tmp_path_factory.mktemp("site") / "repo")
    shutil.rmtree(repo / ".cache", ignore_errors=True)  # execute the notebook, do not reuse a cached run
    return build_site(repo / "site", cwd=repo)


def read(site: Path, rel: str) -> str:
    return (site / rel).read_text(encoding="utf-8")


def text_of(html: str) -> str:
    """Text with tags dropped (inline ones joined, block ones spaced) and whitespace collapsed."""
    html = re.sub(r"</?(strong|em|code|a|span|sup|b|i)\b[^>]*>", "", html)
    return " ".join(re.sub(r"<[^>]+>", " ", html).split())


# --- the AlexNet page shows the analysis' numbers ---------------------------------------------------------

def test_alexnet_page_table_is_the_analysis(site: Path, analyses):
    tables = [table_as_tuples(t) for t in parameter_tables(read(site, ALEXNET_PAGE))]
    analysis = analyses["alexnet"]
    assert tables == [(expected_table(table_rows(analysis)), (analysis.total_weights, analysis.total_biases,
                                                              analysis.total_params, analysis.total_macs))]


def test_alexnet_page_key_features_are_the_analysis(site: Path, analyses):
    text = text_of(read(site, ALEXNET_PAGE))
    f = facts(analyses["alexnet"])
    assert f"{f['params']:,} parameters" in text
    assert f"{f['macs']:,} multiply-accumulates" in text
    assert f"{f['weighted']} layers with weights: {f['convs']} convolutional and {f['linears']} fully connected" in text
    for layer, before, after in f["lrn"]:
        assert f"{layer.name} between {before} and {after}" in text


def test_seed_errors_admonition_figures_come_from_the_specs(site: Path, analyses):
    html = read(site, ALEXNET_PAGE)
    match = re.search(r'<div class="admonition warning">.*?</div>', html, re.S)
    assert match, "no warning admonition on the AlexNet page"
    text = text_of(match.group())
    e = seed_errors(list(analyses.values()))
    seed = analyses["alexnet"]
    for fc in e["fcs"]:
        assert f"{fc['display']} gives {fc['output']}" in text
        assert f"{fc['display']} {fc['filter']}" in text
    assert f"flattened into {e['fcs'][0]['input']:,} values" in text
    assert e["fcs"][0]["input"] == seed.row("pool3").activations
    conv1 = e["conv1"]
    assert f"= {conv1['out']} positions with padding {conv1['p']}, but only {conv1['out_unpadded']}" in text
    assert conv1["out"] == seed.row("conv1").output[1] and conv1["out_unpadded"] != conv1["out"]
    assert f"{seed.total_params:,} is the count of a single-tower network" in text
    if "alexnet_paper" in analyses:
        paper = analyses["alexnet_paper"]
        assert f"removes {seed.total_weights - paper.total_weights:,} weights" in text
        assert f"it has {paper.total_params:,} parameters" in text


def test_lrn_conventions_and_usage_are_on_the_page(site: Path, analyses):
    html = read(site, ALEXNET_PAGE)
    usage = [t for t in html_tables(html) if t and t[0][:2] == ["Spec", "Layer"]]
    assert len(usage) == 1
    expected = [line for line in render_lrn_usage(list(analyses.values())).splitlines() if line.startswith("| `")]
    assert len(usage[0]) - 1 == len(expected)
    conventions = [t for t in html_tables(html) if t and t[0][0] == "Implementation"]
    assert conventions and {row[-1] for row in conventions[0][1:]} == {"paper", "divided_by_n"}


def test_formulas_are_mathml_not_tex(site: Path):
    html = read(site, ALEXNET_PAGE)
    assert html.count("<math") >= 5
    article = text_of(re.search(r"<article.*?</article>", html, re.S).group())
    assert not re.search(r"\\(frac|sum|alpha|beta|max)\b|\$\$|#!math", article)


def test_every_spec_has_a_page_in_the_nav(site: Path, analyses):
    home = read(site, "index.html")
    for name in SPEC_NAMES:
        page = read(site, f"generated/{name}/index.html")
        assert analyses[name].spec.title in text_of(page)
        assert f'href="generated/{name}/"' in home  # listed in the navigation of every page
        assert "<svg" in page and f"arch-{name}-compact" in page, f"{name}: the diagram is not inlined"
        assert f"class {analyses[name].spec.class_name}" in text_of(page), f"{name}: the model code is not shown"


# --- the notebook ran -------------------------------------------------------------------------------------

def test_notebook_was_executed_with_current_outputs(site: Path, analyses):
    html = read(site, "notebooks/alexnet/index.html")
    text = text_of(html)
    total = analyses["alexnet"].total_params
    assert f"parameters: {total:,} (analysis: {total:,})" in text
    assert "largest difference between the outputs: 0.0" in text
    assert "missing: [] unexpected: []" in text
    assert html.count('src="data:image/png') >= 2, "the LRN and dropout plots are missing"
    assert "Traceback" not in text and "jp-OutputArea-error" not in html


# --- offline: no resource from another origin ------------------------------------------------------------

FETCHED = {"script": "src", "img": "src", "iframe": "src", "source": "src", "audio": "src", "video": "src",
           "embed": "src", "object": "data"}


class _Resources(HTMLParser):
    """URLs a browser would fetch on its own: scripts, stylesheets, fonts, images, frames, media."""

    def __init__(self):
        super().__init__()
        self.urls: list[str] = []

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag in FETCHED and attrs.get(FETCHED[tag]):
            self.urls.append(attrs[FETCHED[tag]])
        if tag == "link" and set((attrs.get("rel") or "").split()) & {"stylesheet", "preload", "modulepreload",
                                                                       "icon", "manifest", "prefetch"}:
            self.urls.append(attrs.get("href") or "")


EXTERNAL = re.compile(r"^(https?:)?//", re.I)
CSS_EXTERNAL = re.compile(r"(@import\s+(url\()?|url\()\s*['\"]?(https?:)?//", re.I)
JS_IMPORT = re.compile(r"""\bimport\s*\(?\s*['"](https?:)?//""")


def test_no_script_stylesheet_or_font_from_outside_the_site(site: Path):
    problems = []
    for path in sorted(site.rglob("*.html")):
        html = path.read_text(encoding="utf-8")
        parser = _Resources()
        parser.feed(html)
        problems += [f"{path.relative_to(site)}: {url}" for url in parser.urls if EXTERNAL.match(url)]
        for block in re.findall(r"<style[^>]*>(.*?)</style>", html, re.S):
            problems += [f"{path.relative_to(site)}: CSS {m.group()}" for m in CSS_EXTERNAL.finditer(block)]
        for block in re.findall(r"<script(?![^>]*\bsrc=)[^>]*>(.*?)</script>", html, re.S):
            problems += [f"{path.relative_to(site)}: script {m.group()}" for m in JS_IMPORT.finditer(block)]
    for path in sorted(site.rglob("*.css")):
        problems += [f"{path.relative_to(site)}: {m.group()}" for m in CSS_EXTERNAL.finditer(path.read_text())]
    assert not problems, "\n".join(problems)


def test_the_hook_strips_mkdocs_jupyter_cdn_scripts():
    hook = _load_hook()
    html = ('<script src="https://cdnjs.cloudflare.com/mathjax/latest.js"> </script><p>kept</p>'
            '<script type="text/x-mathjax-config">MathJax.Hub.Config({});</script>'
            '<script type="module">const m = (await import("https://cdn/mermaid.mjs")).default;</script>'
            '<script src="../assets/local.js"></script>')
    page = type("Page", (), {"file": type("File", (), {"src_path": "notebooks/x.ipynb"})()})()
    assert hook.on_page_content(html, page, None, None) == '<p>kept</p><script src="../assets/local.js"></script>'


# --- citations ----------------------------------------------------------------------------------------------

def _pages() -> dict[str, str]:
    return {p.relative_to(ROOT / "docs").as_posix(): p.read_text(encoding="utf-8")
            for p in sorted((ROOT / "docs").rglob("*.md")) if "generated" not in p.parts}


def test_every_citation_resolves_and_every_entry_is_cited():
    entries = bib.load()
    cited = {key: page for page, text in _pages().items() for key in bib.cited_keys(text)}
    assert cited, "no page cites anything"
    assert not set(cited) - set(entries), f"dangling citations: {sorted(set(cited) - set(entries))}"
    assert not set(entries) - set(cited), f"bibliography entries nobody cites: {sorted(set(entries) - set(cited))}"
    seed_refs = {"krizhevsky2012", "hinton2012", "brownlee2018", "anwar2019", "learnopencv2018"}  # the seed post's five
    assert seed_refs <= set(entries)
    for key, entry in entries.items():
        assert entry.get("url") or entry.get("doi"), f"{key} has no link"


def test_citations_are_links_to_footnotes_in_the_built_pages(site: Path):
    for page in ("index.html", ALEXNET_PAGE, "alexnets/index.html"):
        html = read(site, page)
        refs = set(re.findall(r'href="#(fn:[\w-]+)"', html))
        assert refs, f"{page}: no citation links"
        for ref in refs:
            assert f'id="{ref}"' in html, f"{page}: citation link #{ref} has no target"
        assert "[@" not in text_of(html)
        assert bib.FOOTNOTES_MARKER not in text_of(html), f"{page}: the footnotes marker is not mkdocs.yml's"


def test_a_dangling_citation_is_an_error_and_one_in_code_is_left_alone():
    entries = {"known": {"authors": ["A. Author"], "title": "T", "venue": "V", "year": 2000, "url": "https://x"}}
    with pytest.raises(bib.CitationError, match="nosuch"):
        bib.link_citations("Text [@known; @nosuch].", entries, "page.md")
    out = bib.link_citations("A claim [@known].\n\n```\nx = [@nosuch]\n```\nTwice [@known;\n @known].", entries,
                             "page.md")
    assert "A claim [^known]." in out and "x = [@nosuch]" in out
    assert "Twice [^known]<sup>,</sup>[^known]." in out
    assert out.rstrip().endswith("[^known]: A. Author. *T*. V, 2000. <https://x>")


def test_bibliography_entries_are_well_formed(tmp_path: Path):
    bad = tmp_path / "bibliography.yaml"
    bad.write_text(yaml.safe_dump({"k": {"authors": ["A"], "title": "T", "venu": "V"}}))
    with pytest.raises(bib.CitationError, match="unknown"):
        bib.load(bad)


# --- generation inside MkDocs ------------------------------------------------------------------------------

def _load_hook(root: Path = ROOT):
    """The hook as MkDocs loads it: from its file, not as a package module."""
    spec = importlib.util.spec_from_file_location("mkdocs_hook_under_test", root / "tools" / "mkdocs_hook.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_hook_regenerates_only_what_changed_lists_spec_pages_and_keys_the_notebook_cache(repo_copy: Path):
    script = r"""
import json, sys
from pathlib import Path
from mkdocs.config import load_config
from tools.site_notebooks import Notebooks

def mtimes():
    paths = set(Path("docs/generated").rglob("*.*")) | set(Path("alexnet/models").glob("*.py"))
    return {str(p): p.stat().st_mtime_ns for p in paths}

def run():
    config = load_config("mkdocs.yml")
    config = config.plugins.on_config(config)
    return config

before = mtimes()
config = run()
unchanged = mtimes() == before
cache_before = Notebooks.of(config, Path.cwd()).digest()
spec = Path("spec/alexnet.yaml")
spec.write_text(spec.read_text().replace("out_channels: 96,", "out_channels: 64,", 1))
cache_after = Notebooks.of(run(), Path.cwd()).digest()
after = mtimes()
changed = sorted(p for p in after if after[p] != before.get(p))
nav = [item for item in config["nav"] if isinstance(item, dict) and "Networks" in item][0]
print(json.dumps({"unchanged": unchanged, "changed": changed, "nav": nav["Networks"],
                  "cache": [cache_before, cache_after]}))
"""
    result = run_python("-c", script, cwd=repo_copy)
    assert result.returncode == 0, result.stderr
    out = json.loads(result.stdout.strip().splitlines()[-1])
    assert out["unchanged"], "a build with nothing to regenerate rewrote files (mkdocs serve would loop)"
    assert "docs/generated/alexnet/parameters.md" in out["changed"]
    assert "alexnet/models/alexnet.py" in out["changed"]
    assert not any("alexnet_torchvision" in p for p in out["changed"])
    groups = [next(iter(entry.values())) for entry in out["nav"][1:]]  # after the comparison: one per family
    pages = [next(iter(page.values())) for group in groups for page in group]
    assert sorted(pages) == sorted(f"generated/{name}/index.md" for name in SPEC_NAMES)
    assert next(iter(out["nav"][1])) == "AlexNet"
    assert "64x3x11x11" in (repo_copy / "docs/generated/alexnet/parameters.md").read_text()
    cache_before, cache_after = out["cache"]
    assert cache_before != cache_after, "the notebook's cached outputs would survive a spec change"


# --- generated partials -------------------------------------------------------------------------------------

def test_spec_reference_documents_every_kind_and_key():
    from alexnet.kinds import KINDS
    from alexnet.spec import Spec, schema
    from tools.render_site import render_spec_reference

    text = render_spec_reference(schema())
    for kind in KINDS:
        assert f"`kind: {kind}`" in text
        for key in (info.alias or name for name, info in KINDS[kind].model_fields.items()):
            assert f"| `{key}` |" in text or key == "kind", f"{kind}.{key} is not documented"
    for key in Spec.model_fields:
        assert f"| `{key}` |" in text


def test_lrn_usage_gives_a_torch_call_that_computes_the_same(analyses):
    import torch

    from alexnet.layers import LocalResponseNorm

    calls = re.findall(r"`nn\.LocalResponseNorm\((\d+), alpha=([\d.e-]+), beta=([\d.e-]+), k=([\d.e-]+)\)`",
                       render_lrn_usage(list(analyses.values())))
    layers = [layer for a in analyses.values() for _, _, layer in a.spec.layers() if layer.kind == "lrn"]
    assert len(calls) == len(layers) > 0
    x = torch.rand(2, 16, 5, 5, dtype=torch.float64) * 50
    for (size, alpha, beta, k), layer in zip(calls, layers, strict=True):
        ours = LocalResponseNorm(layer.size, layer.alpha, layer.beta, layer.k, convention=layer.convention)
        theirs = torch.nn.LocalResponseNorm(int(size), alpha=float(alpha), beta=float(beta), k=float(k))
        torch.testing.assert_close(ours(x), theirs(x))


def test_seed_errors_without_the_paper_spec_still_render(analyses):
    from tools.render_site import render_seed_errors

    text = render_seed_errors([analyses["alexnet"]])
    assert "13x13x256" in text and f"{analyses['alexnet'].total_params:,}" in text
    assert "removes" not in text


def test_tutorial_page_shows_what_the_edit_really_gives(site: Path, tmp_path: Path):
    from alexnet.analysis import analyse
    from alexnet.spec import load_spec

    edited = tmp_path / "alexnet.yaml"
    edited.write_text((ROOT / "spec" / "alexnet.yaml").read_text().replace("out_channels: 96,", "out_channels: 64,", 1))
    analysis = analyse(load_spec(edited))
    text = text_of(read(site, "edit-the-spec/index.html"))
    assert f"→ {analysis.total_params:,}" in text and f"→ {analysis.total_macs:,}" in text
    assert "+ nn.Conv2d(3, 64, kernel_size=11" in text
    assert "11x11 conv, 64" in text  # the edited network's diagram
    assert "skip4 = relu3 + relu4" in text and "The parameter table does not change" in text  # the second edit


def test_a_new_spec_gets_its_page_and_nav_entry(repo_copy: Path):
    source = (repo_copy / "spec" / "alexnet.yaml").read_text()
    (repo_copy / "spec" / "tiny.yaml").write_text(
        source.replace("name: alexnet", "name: tiny").replace("class_name: AlexNet", "class_name: Tiny")
        .replace("title: AlexNet (one tower, as in the seed table)", "title: Tiny test network"))
    script = """
import json
from mkdocs.config import load_config
config = load_config("mkdocs.yml")
config = config.plugins.on_config(config)
section = [item for item in config["nav"] if isinstance(item, dict) and "Networks" in item][0]
print(json.dumps(section["Networks"]))
"""
    result = run_python("-c", script, cwd=repo_copy)
    assert result.returncode == 0, result.stderr
    groups = [next(iter(entry.values())) for entry in json.loads(result.stdout.strip().splitlines()[-1])[1:]]
    assert any({"Tiny test network": "generated/tiny/index.md"} in group for group in groups)
    page = (repo_copy / "docs" / "generated" / "tiny" / "index.md").read_text()
    assert "# Tiny test network" in page and '--8<-- "alexnet/models/tiny.py"' in page
