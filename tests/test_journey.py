"""The journey a user takes, end to end in a throw-away copy of the repository: edit spec/alexnet.yaml
(conv1 96 -> 64 channels), see `--check` fail, regenerate, and find 64 and the new totals in the model code,
the table, the SVG, the comparison and the built site; the real model must have the table's parameter count.
The same copy also edits a graph spec: one argument of GoogLeNet's first Inception block (ch1x1 64 -> 32),
which must narrow that block's concatenation and everything that reads it."""

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
GRAPH_SPEC = "spec/googlenet.yaml"
GRAPH_FILES = ("alexnet/models/googlenet.py", "docs/generated/googlenet/parameters.md",
               "docs/generated/googlenet/architecture.svg", "docs/generated/googlenet/architecture-detailed.svg")
GRAPH_PAGE = "generated/googlenet/index.html"


def num(n: int) -> str:
    return f"{n:,}"


def analysis_of(repo: Path, spec: str = SPEC) -> Analysis:
    return analyse(load_spec(repo / spec, spec))


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


def edit_inception3a(repo: Path, old: int, new: int) -> None:
    """Change one argument of a block use, on its one line."""
    path = repo / GRAPH_SPEC
    text = path.read_text()
    line = f"{{name: inception3a, block: inception, args: {{ch1x1: {old},"
    assert text.count(line) == 1, f"expected one inception3a line with ch1x1: {old} in {GRAPH_SPEC}"
    path.write_text(text.replace(line, line.replace(f"ch1x1: {old},", f"ch1x1: {new},")))


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
    before, graph_before = analysis_of(repo), analysis_of(repo, GRAPH_SPEC)
    originals = {rel: (repo / rel).read_text() for rel in (MODEL, TABLE, SVG, SVG_DETAILED, COMPARISON, *GRAPH_FILES)
                 if (repo / rel).exists()}
    edit_conv1(repo, 96, 64)
    edit_inception3a(repo, 64, 32)
    check_before = run_python("-m", "tools.generate", "--check", cwd=repo)
    generated = run_python("-m", "tools.generate", cwd=repo)
    if generated.returncode != 0:  # nothing downstream can be checked
        pytest.fail(f"python -m tools.generate failed after the edit:\n{generated.stderr[-4000:]}")
    check_after = run_python("-m", "tools.generate", "--check", cwd=repo)
    return {"repo": repo, "before": before, "after": analysis_of(repo), "originals": originals,
            "graph_before": graph_before, "graph_after": analysis_of(repo, GRAPH_SPEC),
            "check_before": check_before, "generated": generated, "check_after": check_after}


def test_the_edit_changes_the_analysis(journey):
    conv1 = next(r for r in journey["after"].rows if r.name == "conv1")
    assert conv1.output[0] == 64
    assert journey["after"].total_params != journey["before"].total_params
    assert journey["after"].total_macs != journey["before"].total_macs


def test_check_fails_before_regeneration_and_passes_after(journey):
    before, generated, after = journey["check_before"], journey["generated"], journey["check_after"]
    assert before.returncode == 1, before.stdout + before.stderr
    for rel in (MODEL, TABLE, SVG, SVG_DETAILED, *GRAPH_FILES):
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


def model_in_copy(repo: Path, name: str, channels: str, build: str = "") -> tuple[int, int]:
    """Build spec ``name``'s generated model in a new interpreter in the copy: its parameter count and the
    ``out_channels`` of the module at ``channels``; fails if the code imported is not the copy's."""
    program = (f"import alexnet, torch; torch.manual_seed(0); m = alexnet.load_model({name!r}{build}); "
               f"print(alexnet.__file__); print(sum(p.numel() for p in m.parameters())); print(m.{channels}.out_channels)")
    result = run_python("-c", program, cwd=repo)
    assert result.returncode == 0, result.stderr
    where, count, out_channels = result.stdout.split()
    assert Path(where).resolve().is_relative_to(repo.resolve()), f"imported {where}, not the copy"
    return int(count), int(out_channels)


def test_generated_model_has_the_table_total(journey):
    """Count the parameters of the real nn.Module built from the regenerated code in the copy."""
    repo = journey["repo"]
    count, channels = model_in_copy(repo, "alexnet", "features[0]", ", init_weights=False")
    _, table_total = table_as_tuples(markdown_table((repo / TABLE).read_text()))
    assert count == table_total[2] == journey["after"].total_params
    assert channels == 64


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
    graph = journey["graph_after"]
    graph_tables = [table_as_tuples(t) for t in parameter_tables((site / GRAPH_PAGE).read_text())]
    assert (expected_table(table_rows(graph)),
            (graph.total_weights, graph.total_biases, graph.total_params, graph.total_macs)) in graph_tables, (
        f"{GRAPH_PAGE} does not show the table of the edited graph spec")
    old_layers = expected_table(table_rows(before))
    stale_pages = [p.relative_to(site).as_posix() for p in site.rglob("*.html")
                   if any(layers == old_layers for layers, _ in map(table_as_tuples, parameter_tables(p.read_text())))]
    assert not stale_pages, f"pages still show the old alexnet table: {stale_pages}"


def test_graph_edit_narrows_the_concatenation_and_its_readers(journey):
    before, after = journey["graph_before"], journey["graph_after"]
    concat_before, concat_after = before.row("inception3a.concat"), after.row("inception3a.concat")
    assert (concat_before.output[0], concat_after.output[0]) == (256, 224)
    reader = after.row("inception3b.branch1.conv")  # reads the concatenation: 224 input maps now
    assert reader.inputs[0][0] == 224 and reader.weights == 128 * 224
    assert after.total_params < before.total_params


def test_graph_edit_shows_in_the_model_the_table_and_the_diagrams(journey):
    repo, before, after = journey["repo"], journey["graph_before"], journey["graph_after"]
    code = (repo / GRAPH_FILES[0]).read_text()
    assert "Inception(192, ch1x1=32, ch3x3red=96," in code and "Inception(224, ch1x1=128," in code
    assert "192x28x28 -> 224x28x28" in code
    assert num(after.total_params) in code and num(before.total_params) not in code
    layers, total = table_as_tuples(markdown_table((repo / GRAPH_FILES[1]).read_text()))
    assert layers == expected_table(table_rows(after))
    assert total[2] == after.total_params
    new, old = (fmt_chw(a.row("inception3a.concat").output) for a in (after, before))
    assert all(fmt_chw(row.output) != old for row in after.rows), "the old shape is still made elsewhere"
    for svg in GRAPH_FILES[2:]:
        assert old in "\n".join(svg_texts(journey["originals"][svg])), f"{svg} never showed {old}: test is vacuous"
        texts = "\n".join(svg_texts((repo / svg).read_text()))
        assert new in texts and old not in texts, f"{svg} does not show the concatenation's new shape {new}"


def test_generated_graph_model_has_the_table_total(journey):
    count, channels = model_in_copy(journey["repo"], "googlenet", "inception3a.branch1.conv")
    assert count == journey["graph_after"].total_params and channels == 32
