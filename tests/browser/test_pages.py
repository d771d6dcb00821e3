"""What a reader sees in a real browser: every page loads cleanly and offline, and the AlexNet page shows the
diagram, the analysis' numbers, rendered math, a readable dark theme and search results."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from alexnet.analysis import fmt_nchw, fmt_shape
from tests.browser.conftest import BROWSER
from tests.browser.probe import broken_images, text_contrasts, visit
from tests.conftest import ROOT
from tests.site_helpers import ALEXNET_PAGE, expected_table, page_urls, parameter_tables, table_as_tuples
from tools.render_markdown import table_rows

pytestmark = BROWSER

SCREENSHOTS = ROOT / "test-artifacts" / "screenshots"
# Pages a reader must find, by path in the built site (mkdocs.yml nav).
KEY_PAGES = {"home": "index.html", "alexnet": ALEXNET_PAGE, "comparison": "alexnets/index.html",
             "tutorial": "edit-the-spec/index.html", "notebook": "notebooks/alexnet/index.html"}
# The generated diagram: an inline SVG in the article (Material's icons are SVGs too, but have no <text>).
DIAGRAM = "article svg:has(text)"
MIN_CONTRAST = 4.5  # WCAG 2 AA for normal text
RAW_TEX = re.compile(r"\\(frac|sum|alpha|beta|left|right|mathrm|cdot)\b|\$\$")


def url_of(site_url: str, rel: str) -> str:
    return site_url + rel.removesuffix("index.html")


def assert_clean(visit_) -> None:
    assert not visit_.problems, f"{visit_.url}:\n" + "\n".join(visit_.problems)


def test_every_page_loads_cleanly_and_offline(site_dir: Path, site_url: str, new_context):
    pages = page_urls(site_dir, site_url)
    missing = [rel for rel in KEY_PAGES.values() if rel not in pages]
    assert not missing, f"key pages missing from the built site: {missing}"
    context = new_context()
    failures = []
    for url in pages.values():
        page = visit(context, url, site_url)
        if page.status != 200:
            page.problems.append(f"HTTP status {page.status}")
        page.problems.extend(broken_images(page.page))
        failures.extend(f"{url}: {problem}" for problem in page.problems)
        page.page.close()
    assert not failures, f"{len(failures)} problem(s) on {len(pages)} pages:\n" + "\n".join(failures)


@pytest.mark.parametrize("scheme", ["default", "slate"])
def test_screenshots_of_key_pages(site_url: str, new_context, scheme: str):
    """Screenshots for people to look at, in each Material palette (chosen from the OS preference)."""
    context = new_context("light" if scheme == "default" else "dark")
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    for name, rel in KEY_PAGES.items():
        page = visit(context, url_of(site_url, rel), site_url)
        assert page.page.get_attribute("body", "data-md-color-scheme") == scheme
        path = SCREENSHOTS / f"{name}-{'light' if scheme == 'default' else 'dark'}.png"
        page.page.screenshot(path=str(path), full_page=True)
        assert path.stat().st_size > 10_000, f"{path} looks empty"
        assert_clean(page)


def test_alexnet_diagram_is_visible_and_its_text_is_in_the_dom(site_url: str, new_context, analyses):
    page = visit(new_context(), url_of(site_url, ALEXNET_PAGE), site_url)
    diagrams = page.page.locator(DIAGRAM)
    assert diagrams.count() >= 1, "no inline SVG with <text> on the AlexNet page"
    first = diagrams.first
    first.scroll_into_view_if_needed()
    assert first.is_visible()
    box = first.bounding_box()
    assert box and box["width"] > 100 and box["height"] > 100, f"diagram too small: {box}"
    text = " ".join(diagrams.evaluate_all("svgs => svgs.map(s => s.textContent)"))
    for row in analyses["alexnet"].rows:
        if row.in_table:
            assert fmt_nchw(row.output) in text or fmt_shape(row.output) in text, (
                f"{row.name}'s output shape {fmt_nchw(row.output)} is not in the diagram's text")
    assert_clean(page)


def test_alexnet_parameter_table_equals_the_analysis(site_url: str, new_context, analyses):
    page = visit(new_context(), url_of(site_url, ALEXNET_PAGE), site_url)
    tables = [table_as_tuples(t) for t in parameter_tables(page.page.content())]
    analysis = analyses["alexnet"]
    expected = (expected_table(table_rows(analysis)),
                (analysis.total_weights, analysis.total_biases, analysis.total_params, analysis.total_macs))
    assert tables, "no parameter table on the AlexNet page"
    for layers, total in tables:
        assert layers == expected[0]
        assert total == expected[1]
    assert_clean(page)


def test_lrn_formula_is_rendered_as_math(site_url: str, new_context):
    page = visit(new_context(), url_of(site_url, ALEXNET_PAGE), site_url)
    formulas = page.page.locator("article math").evaluate_all(
        "ms => ms.map(m => ({text: m.textContent, w: m.getBoundingClientRect().width,"
        " h: m.getBoundingClientRect().height}))")
    lrn = [m for m in formulas if "β" in m["text"] and "α" in m["text"] and "∑" in m["text"]]
    assert lrn, f"no MathML formula with alpha, beta and a sum (the LRN formula) among {len(formulas)} math elements"
    assert all(m["w"] > 0 and m["h"] > 0 for m in lrn), "the LRN formula takes no space (not rendered)"
    visible_text = page.page.locator("article").inner_text()
    assert not RAW_TEX.search(visible_text), f"raw TeX on the page: {RAW_TEX.search(visible_text).group()}"
    assert_clean(page)


def test_dark_palette_keeps_diagram_text_readable(site_url: str, new_context):
    page = visit(new_context("light"), url_of(site_url, ALEXNET_PAGE), site_url)
    assert page.page.get_attribute("body", "data-md-color-scheme") == "default"
    for scheme in ("default", "slate"):
        if scheme == "slate":
            page.page.locator("label[title='Switch to dark mode']").click()
            page.page.wait_for_selector("body[data-md-color-scheme='slate']")
            SCREENSHOTS.mkdir(parents=True, exist_ok=True)
            page.page.screenshot(path=str(SCREENSHOTS / "alexnet-dark-toggled.png"), full_page=True)
        contrasts = text_contrasts(page.page, DIAGRAM)
        assert len(contrasts) >= 10, f"only {len(contrasts)} visible diagram texts measured in {scheme}"
        poor = [(text, round(ratio, 2)) for text, ratio in contrasts if ratio < MIN_CONTRAST]
        assert not poor, f"{scheme}: diagram text below {MIN_CONTRAST}:1 contrast: {poor[:10]}"
    assert_clean(page)


def test_search_for_lrn_lists_the_alexnet_page(site_url: str, new_context):
    page = visit(new_context(), site_url, site_url)
    box = page.page.locator("input.md-search__input")
    box.click()
    box.press_sequentially("LRN", delay=50)
    results = page.page.locator(".md-search-result__item a")
    results.first.wait_for(timeout=30_000)
    hrefs = results.evaluate_all("links => links.map(a => a.href)")
    target = url_of(site_url, ALEXNET_PAGE)
    assert any(href.split("#")[0] == target for href in hrefs), f"{target} not among the results {hrefs}"
    assert_clean(page)


def test_notebook_page_shows_executed_outputs(site_url: str, new_context):
    page = visit(new_context(), url_of(site_url, KEY_PAGES["notebook"]), site_url)
    prompts = page.page.locator(".jp-CodeCell .jp-InputPrompt").all_inner_texts()
    assert prompts, "no code cells on the notebook page"
    unexecuted = [p for p in prompts if not re.search(r"\[\d+\]", p)]
    assert not unexecuted, f"{len(unexecuted)} of {len(prompts)} code cells were not executed: {unexecuted[:3]}"
    outputs = page.page.locator(".jp-OutputArea-output")
    assert outputs.count() > 0, "no cell output on the notebook page"
    assert page.page.locator(".jp-OutputArea-output img").count() >= 1, "no plot among the outputs"
    text = " ".join(outputs.all_inner_texts())
    assert "Traceback" not in text, "an output shows an exception"
    assert_clean(page)
