"""What a reader sees in a real browser: every page loads cleanly and offline, and the AlexNet page shows the
diagram, the analysis' numbers, rendered math, a readable dark theme and search results."""

from __future__ import annotations

import re
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from alexnet.formatting import fmt_chw, fmt_hwc
from tests.browser.conftest import BROWSER
from tests.browser.probe import Visit, broken_images, text_contrasts
from tests.conftest import ROOT, SPEC_NAMES
from tests.site_helpers import ALEXNET_PAGE, expected_table, page_urls, parameter_tables, table_as_tuples
from tools.render_markdown import in_parameter_table, table_rows

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


def assert_clean(seen: Visit) -> None:
    assert not seen.problems, f"{seen.url}:\n" + "\n".join(seen.problems)


def test_every_page_loads_cleanly_and_offline(site_dir: Path, site_url: str, browse):
    pages = page_urls(site_dir, site_url)
    missing = [rel for rel in KEY_PAGES.values() if rel not in pages]
    assert not missing, f"key pages missing from the built site: {missing}"
    site = browse(site_url)
    failures = []
    for url in pages.values():
        seen = site.visit(url)
        if seen.status != 200:
            seen.problems.append(f"HTTP status {seen.status}")
        seen.problems.extend(broken_images(seen.page))
        failures.extend(f"{url}: {problem}" for problem in seen.problems)
        seen.page.close()
    assert not failures, f"{len(failures)} problem(s) on {len(pages)} pages:\n" + "\n".join(failures)


@pytest.mark.parametrize("scheme", ["default", "slate"])
def test_screenshots_of_key_pages(site_url: str, browse, scheme: str):
    """Screenshots for people to look at, in each Material palette (chosen from the OS preference)."""
    site = browse(site_url, "light" if scheme == "default" else "dark")
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    for name, rel in KEY_PAGES.items():
        seen = site.visit(url_of(site_url, rel))
        assert seen.page.get_attribute("body", "data-md-color-scheme") == scheme
        path = SCREENSHOTS / f"{name}-{'light' if scheme == 'default' else 'dark'}.png"
        seen.page.evaluate("window.scrollTo(0, 0)")
        seen.page.screenshot(path=str(path), full_page=True)
        assert path.stat().st_size > 10_000, f"{path} looks empty"
        assert_clean(seen)


def test_alexnet_diagram_is_visible_and_its_text_is_in_the_dom(site_url: str, browse, analyses):
    seen = browse(site_url).visit(url_of(site_url, ALEXNET_PAGE))
    diagrams = seen.page.locator(DIAGRAM)
    assert diagrams.count() >= 1, "no inline SVG with <text> on the AlexNet page"
    shown = set()  # each diagram must be visible, and big enough to read, in one of the content tabs
    tabs = seen.page.locator("article .tabbed-labels > label")
    for i in range(max(tabs.count(), 1)):
        if tabs.count():
            tabs.nth(i).click()
        for d in range(diagrams.count()):
            box = diagrams.nth(d).bounding_box() if diagrams.nth(d).is_visible() else None
            if box and box["width"] > 100 and box["height"] > 100:
                shown.add(d)
    assert shown == set(range(diagrams.count())), f"diagrams never shown: {set(range(diagrams.count())) - shown}"
    for d in range(diagrams.count()):
        text = diagrams.nth(d).text_content()
        for row in analyses["alexnet"].rows:
            if in_parameter_table(row):
                assert fmt_chw(row.output) in text or fmt_hwc(row.output) in text, (
                    f"diagram {d}: {row.name}'s output shape {fmt_chw(row.output)} is not in its text")
    assert_clean(seen)


def spec_pages() -> dict[str, str]:
    """Pages that show a spec's parameter table: the AlexNet page and one generated page per spec."""
    return {ALEXNET_PAGE: "alexnet", **{f"generated/{name}/index.html": name for name in SPEC_NAMES}}


def test_parameter_tables_equal_the_analysis(site_url: str, browse, analyses):
    site = browse(site_url)
    for rel, name in spec_pages().items():
        seen = site.visit(url_of(site_url, rel))
        tables = [table_as_tuples(t) for t in parameter_tables(seen.page.content())]
        analysis = analyses[name]
        assert tables, f"no parameter table on {rel}"
        for layers, total in tables:
            assert layers == expected_table(table_rows(analysis)), f"{rel}: rows differ from the analysis of {name}"
            assert total == (analysis.total_weights, analysis.total_biases, analysis.total_params, analysis.total_macs)
        assert_clean(seen)
        seen.page.close()


def test_lrn_formula_is_rendered_as_math(site_url: str, browse):
    seen = browse(site_url).visit(url_of(site_url, ALEXNET_PAGE))
    formulas = seen.page.locator("article math").evaluate_all(
        "ms => ms.map(m => ({text: m.textContent, w: m.getBoundingClientRect().width,"
        " h: m.getBoundingClientRect().height}))")
    lrn = [m for m in formulas if "β" in m["text"] and "α" in m["text"] and "∑" in m["text"]]
    assert lrn, f"no MathML formula with alpha, beta and a sum (the LRN formula) among {len(formulas)} math elements"
    assert all(m["w"] > 0 and m["h"] > 0 for m in lrn), "the LRN formula takes no space (not rendered)"
    visible_text = seen.page.locator("article").inner_text()
    assert not RAW_TEX.search(visible_text), f"raw TeX on the page: {RAW_TEX.search(visible_text).group()}"
    assert_clean(seen)


def diagram_contrasts(page) -> list[tuple[str, float]]:
    """Contrast of every diagram text, opening each content tab in turn (hidden tabs have no layout)."""
    tabs = page.locator("article .tabbed-labels > label")
    results = []
    for i in range(max(tabs.count(), 1)):
        if tabs.count():
            tabs.nth(i).click()
        results.extend(text_contrasts(page, DIAGRAM))
    return results


def test_dark_palette_keeps_diagram_text_readable(site_url: str, browse):
    seen = browse(site_url, "light").visit(url_of(site_url, ALEXNET_PAGE))
    assert seen.page.get_attribute("body", "data-md-color-scheme") == "default"
    light_background = seen.page.evaluate("getComputedStyle(document.body).backgroundColor")
    seen.page.locator("label[title='Switch to dark mode']").click()
    seen.page.wait_for_selector("body[data-md-color-scheme='slate']")
    assert seen.page.evaluate("getComputedStyle(document.body).backgroundColor") != light_background
    seen.page.evaluate("window.scrollTo(0, 0)")  # else the sticky header lands mid-screenshot
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    seen.page.screenshot(path=str(SCREENSHOTS / "alexnet-dark-toggled.png"), full_page=True)
    assert_diagram_text_readable(seen.page, "dark")
    assert_clean(seen)


def test_light_palette_diagram_text_is_readable(site_url: str, browse):
    seen = browse(site_url, "light").visit(url_of(site_url, ALEXNET_PAGE))
    assert_diagram_text_readable(seen.page, "light")
    assert_clean(seen)


def test_search_for_lrn_lists_the_alexnet_page(site_url: str, browse):
    seen = browse(site_url).visit(site_url)
    box = seen.page.locator("input.md-search__input")
    box.click()
    box.press_sequentially("LRN", delay=50)
    results = seen.page.locator(".md-search-result__item a")
    results.first.wait_for(timeout=30_000)
    hrefs = results.evaluate_all("links => links.map(a => a.href)")
    target = url_of(site_url, ALEXNET_PAGE)
    # Results link to the page or one of its sections, with Material's ?h= highlight query.
    assert any(urlsplit(href)._replace(query="", fragment="").geturl() == target for href in hrefs), (
        f"{target} not among the results {hrefs}")
    assert_clean(seen)


def test_notebook_page_shows_executed_outputs(site_url: str, browse):
    seen = browse(site_url).visit(url_of(site_url, KEY_PAGES["notebook"]))
    prompts = seen.page.locator(".jp-CodeCell .jp-InputPrompt").all_inner_texts()
    assert prompts, "no code cells on the notebook page"
    unexecuted = [p for p in prompts if not re.search(r"\[\d+\]", p)]
    assert not unexecuted, f"{len(unexecuted)} of {len(prompts)} code cells were not executed: {unexecuted[:3]}"
    outputs = seen.page.locator(".jp-OutputArea-output")
    assert outputs.count() > 0, "no cell output on the notebook page"
    assert seen.page.locator(".jp-OutputArea-output img").count() >= 1, "no plot among the outputs"
    text = " ".join(outputs.all_inner_texts())
    assert "Traceback" not in text, "an output shows an exception"
    assert_clean(seen)


def assert_diagram_text_readable(page, theme: str) -> None:
    """Every visible diagram text reaches MIN_CONTRAST against what is drawn under it."""
    contrasts = diagram_contrasts(page)
    assert len(contrasts) >= 20, f"only {len(contrasts)} visible diagram texts measured"
    poor = [(text, round(ratio, 2)) for text, ratio in contrasts if ratio < MIN_CONTRAST]
    assert not poor, f"{theme} theme: diagram text below {MIN_CONTRAST}:1 contrast: {poor[:10]}"
    print(f"{theme}: {len(contrasts)} diagram texts, lowest contrast {min(r for _, r in contrasts):.2f}:1")
