"""The journey a user takes, end to end in a throw-away copy of the repository: edit spec/alexnet.yaml
(conv1 96 -> 64 channels), see `--check` fail, regenerate, and find 64 and the new totals in the model code,
the table, the SVG, the comparison and the built site; the real model must have the table's parameter count."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from alexnet.analysis import Analysis, analyse
from alexnet.formatting import fmt_chw, fmt_hwc
from alexnet.spec import load_spec
from tests.conftest import copy_repo, run_python
from tests.site_helpers import (
    ALEXNET_PAGE,
    build_site,
    expected_table,
    parameter_tables,
    table_as_tuples,
)
from tools.render_markdown import table_rows

pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("journey")]

SPEC = "spec/alexnet.yaml"
MODEL = "alexnet/models/alexnet.py"
TABLE = "docs/generated/alexnet/parameters.md"
SVG = "docs/generated/alexnet/architecture.svg"
SVG_DETAILED = "docs/generated/alexnet/architecture-detailed.svg"
SPEC_PAGE = "generated/alexnet/index.html"  # the generated per-spec page
NOTEBOOK_PAGE = "notebooks/alexnet/index.html"  # executed at build time; prints the summary of spec/alexnet.yaml
COMPARISON = "docs/generated/comparison.md"


def num(n: int) -> str:
    return f"{n:,}"


def analysis_of(repo: Path) -> Analysis:
    return analyse(load_spec(repo / SPEC, SPEC))


def standalone(number: str) -> re.Pattern:
    """``number`` not glued to other digits ('96' matches in '55x55x96', not in '9216')."""
    return re.compile(rf"(?<![\d,]){re.escape(number)}(?![\d,])")


def edit_conv1(repo: Path, old: int, new: int) -> None:
    """Change conv1's out_channels in place, the way a user edits the YAML (one line, nothing else)."""
    path = repo / SPEC
    lines = path.read_text().splitlines(keepends=True)
    hits = [i for i, line in enumerate(lines) if "name: conv1," in line and f"out_channels: {old}," in line]
    assert len(hits) == 1, f"expected one conv1 line with out_channels: {old} in {SPEC}"
    lines[hits[0]] = lines[hits[0]].replace(f"out_channels: {old},", f"out_channels: {new},")
    path.write_text("".join(lines))


def markdown_table(text: str) -> list[list[str]]:
    """Rows of the pipe table in a generated Markdown file, the separator row left out."""
    rows = [[cell.strip() for cell in line.strip().strip("|").split("|")]
            for line in text.splitlines() if line.startswith("|")]
    return [row for row in rows if not all(set(cell) <= set(":- ") for cell in row)]


def svg_texts(svg: str) -> list[str]:
    """The content of every <text> element of an SVG document."""
    root = ET.fromstring(svg)
    return ["".join(el.itertext()).strip() for el in root.iter() if el.tag.rsplit("}", 1)[-1] == "text"]


@pytest.fixture(scope="module")
def journey(tmp_path_factory) -> dict:
    """Run the journey once; the tests below each check one place where the change must show."""
    repo = copy_repo(tmp_path_factory.mktemp("journey") / "repo")
    before = analysis_of(repo)
    originals = {rel: (repo / rel).read_text() for rel in (MODEL, TABLE, SVG, SVG_DETAILED, COMPARISON) if (repo / rel).exists()}
    edit_conv1(repo, 96, 64)
    check_before = run_python("-m", "tools.generate", "--check", cwd=repo)
    generated = run_python("-m", "tools.generate", cwd=repo)
    if generated.returncode != 0:  # nothing downstream can be checked
        pytest.fail(f"python -m tools.generate failed after the edit:\n{generated.stderr[-4000:]}")
    check_after = run_python("-m", "tools.generate", "--check", cwd=repo)
    return {"repo": repo, "before": before, "after": analysis_of(repo), "originals": originals,
            "check_before": check_before, "generated": generated, "check_after": check_after}


def test_the_edit_changes_the_analysis(journey):
    conv1 = next(r for r in journey["after"].rows if r.name == "conv1")
    assert conv1.output[0] == 64
    assert journey["after"].total_params != journey["before"].total_params
    assert journey["after"].total_macs != journey["before"].total_macs


def test_check_fails_before_regeneration_and_passes_after(journey):
    before, generated, after = journey["check_before"], journey["generated"], journey["check_after"]
    assert before.returncode == 1, before.stdout + before.stderr
    for rel in (MODEL, TABLE, SVG, SVG_DETAILED):
        assert f"stale: {rel}" in before.stdout, f"--check did not name {rel}:\n{before.stdout}"
    assert generated.returncode == 0, generated.stderr
    assert f"wrote {MODEL}" in generated.stdout and f"wrote {TABLE}" in generated.stdout
    assert after.returncode == 0, after.stdout + after.stderr


def test_model_code_shows_64_and_the_new_totals(journey):
    code = (journey["repo"] / MODEL).read_text()
    after, before = journey["after"], journey["before"]
    conv1 = next(r for r in after.rows if r.name == "conv1")
    assert fmt_chw(conv1.output) in code  # the shape comment, e.g. 64x55x55
    assert not standalone("96").search(code), "the model code still mentions 96 channels"
    assert num(after.total_params) in code and num(after.total_macs) in code
    assert num(before.total_params) not in code


def test_table_equals_the_analysis_of_the_edited_spec(journey):
    after = journey["after"]
    table = markdown_table((journey["repo"] / TABLE).read_text())
    layers, total = table_as_tuples(table)
    assert layers == expected_table(table_rows(after))
    assert total == (after.total_weights, after.total_biases, after.total_params, after.total_macs)
    assert any(row[0] == "Conv1" and "x64" in row[1] and row[2].startswith("64x") for row in table)


@pytest.mark.parametrize("svg", [SVG, SVG_DETAILED])
def test_svg_shows_64(journey, svg):
    path = journey["repo"] / svg
    assert path.exists() and svg in journey["originals"], f"{svg} is not generated"
    texts, old_texts = svg_texts(path.read_text()), svg_texts(journey["originals"][svg])
    conv1_before = next(r for r in journey["before"].rows if r.name == "conv1")
    conv1_after = next(r for r in journey["after"].rows if r.name == "conv1")
    shown = "\n".join(texts)
    assert any(standalone("96").search(t) for t in old_texts), "the original SVG never showed 96: test is vacuous"
    assert not standalone("96").search(shown), "the regenerated SVG still shows 96"
    assert standalone("64").search(shown)
    assert any(s in shown for s in (fmt_chw(conv1_after.output), fmt_hwc(conv1_after.output)))
    assert not any(s in shown for s in (fmt_chw(conv1_before.output), fmt_hwc(conv1_before.output)))
    old_total = num(journey["before"].total_params)
    if any(old_total in t for t in old_texts):  # a diagram that printed the total must print the new one
        assert num(journey["after"].total_params) in shown and old_total not in shown


def test_comparison_shows_the_new_totals(journey):
    path = journey["repo"] / COMPARISON
    assert path.exists(), f"{COMPARISON} is not generated"
    text = path.read_text()
    before, after = journey["before"], journey["after"]
    assert num(before.total_params) in journey["originals"][COMPARISON]
    assert num(after.total_params) in text and num(after.total_macs) in text
    assert num(before.total_params) not in text and num(before.total_macs) not in text


def test_generated_model_has_the_table_total(journey):
    """Count the parameters of the real nn.Module built from the regenerated code in the copy."""
    repo = journey["repo"]
    program = ("import alexnet, torch; torch.manual_seed(0); m = alexnet.load_model('alexnet', init_weights=False); "
               "print(alexnet.__file__); print(sum(p.numel() for p in m.parameters())); print(m.features[0].out_channels)")
    result = run_python("-c", program, cwd=repo)
    assert result.returncode == 0, result.stderr
    where, count, channels = result.stdout.split()
    assert Path(where).resolve().is_relative_to(repo.resolve()), f"imported {where}, not the copy"
    _, table_total = table_as_tuples(markdown_table((repo / TABLE).read_text()))
    assert int(count) == table_total[2] == journey["after"].total_params
    assert int(channels) == 64


def test_built_site_shows_64_and_the_new_totals(journey, tmp_path):
    site = build_site(tmp_path / "site", cwd=journey["repo"])
    before, after = journey["before"], journey["after"]
    new = (expected_table(table_rows(after)),
           (after.total_weights, after.total_biases, after.total_params, after.total_macs))
    conv1 = next(r for r in after.rows if r.name == "conv1")
    for rel in (ALEXNET_PAGE, SPEC_PAGE):
        page = site / rel
        assert page.exists(), f"no {rel} in the built site"
        html = page.read_text()
        tables = [table_as_tuples(t) for t in parameter_tables(html)]
        assert new in tables, f"{rel} does not show the table of the edited spec"
        assert num(after.total_params) in html
        assert fmt_chw(conv1.output) in html or fmt_hwc(conv1.output) in html
    # mkdocs-jupyter caches on the notebook's text, not the spec it reads: the outputs must still follow the edit.
    notebook = (site / NOTEBOOK_PAGE).read_text()
    assert fmt_chw(conv1.output) in notebook and num(after.total_params) in notebook, (
        "the executed notebook does not show the edited spec")
    old_layers = expected_table(table_rows(before))
    stale_pages = [p.relative_to(site).as_posix() for p in site.rglob("*.html")
                   if any(layers == old_layers for layers, _ in map(table_as_tuples, parameter_tables(p.read_text())))]
    assert not stale_pages, f"pages still show the old alexnet table: {stale_pages}"
