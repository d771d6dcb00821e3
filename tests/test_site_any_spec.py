"""Every valid spec goes through the site: random valid edits of the bundled specs (a layer kind dropped, layers
dropped, titles and descriptions with Markdown-ish text) run through every renderer of the generator and the
site (`tools.generate.plan`), show their text as written, and run the notebook's code.

An edit that `validate` refuses is not a case here (tests/test_bad_specs.py covers refusals).
"""

from __future__ import annotations

import contextlib
import io
import json
import re
import types
from html import unescape
from pathlib import Path

import markdown
import markdown.extensions.footnotes
import pytest
import yaml
from hypothesis import HealthCheck, assume, example, given, settings
from hypothesis import strategies as st

from alexnet.source import SpecError
from tests.conftest import ROOT, SPEC_NAMES
from tools.generate import plan
from tools.render_bibliography import FOOTNOTES_MARKER

PLAIN = "ABCXYZabcxyz0189 _.,:;()/+'\"#&*-"  # the characters spec text may hold (alexnet/spec.py PLAIN_TEXT)
TEXT = st.one_of(st.text(PLAIN, min_size=1, max_size=40),
                 st.sampled_from(["///Footnotes Go Here///", "a //b/// c", "#1 *x* _y_", "&amp; &lt;b&gt;", "x: y | z"]))
NOTEBOOK = ROOT / "docs" / "notebooks" / "alexnet.ipynb"
MD_EXTENSIONS = ["abbr", "admonition", "attr_list", "md_in_html", "tables", "pymdownx.superfences",
                 markdown.extensions.footnotes.FootnoteExtension(PLACE_MARKER=FOOTNOTES_MARKER)]  # as mkdocs.yml


def _layers(data: dict) -> list[tuple[str, int, dict]]:
    return [(section, i, layer) for section, layers in data["sections"].items() for i, layer in enumerate(layers)]


@st.composite
def edited_specs(draw, bases: list[str] = SPEC_NAMES) -> tuple[str, str]:
    """(name, YAML text): a bundled spec with some of these edits (maybe none that changes validity)."""
    name = draw(st.sampled_from(bases))
    data = yaml.safe_load((ROOT / "spec" / f"{name}.yaml").read_text())
    if draw(st.booleans()):  # drop every layer of one kind
        kind = draw(st.sampled_from(sorted({layer["kind"] for _, _, layer in _layers(data)})))
        data["sections"] = {s: [la for la in layers if la["kind"] != kind] for s, layers in data["sections"].items()}
    if draw(st.booleans()):  # drop some layers
        layers = _layers(data)
        gone = draw(st.sets(st.sampled_from([(s, i) for s, i, _ in layers]), max_size=max(1, len(layers) // 3))) \
            if layers else set()
        data["sections"] = {s: [la for i, la in enumerate(ls) if (s, i) not in gone] for s, ls in data["sections"].items()}
    data["sections"] = {s: layers for s, layers in data["sections"].items() if layers}
    if draw(st.booleans()):
        data["title"] = draw(TEXT)
    if draw(st.booleans()):
        data["description"] = draw(TEXT)
    for _, _, layer in _layers(data):
        if "display" in layer and draw(st.integers(0, 4)) == 0:
            layer["display"] = draw(TEXT)
    return name, yaml.safe_dump(data, sort_keys=False)


def _repo_with(tmp: Path, name: str, text: str) -> Path:
    """A minimal root for the generator: the bundled specs, one replaced by the edit."""
    (tmp / "spec").mkdir(parents=True, exist_ok=True)
    for spec in SPEC_NAMES:
        (tmp / "spec" / f"{spec}.yaml").write_text((ROOT / "spec" / f"{spec}.yaml").read_text())
    (tmp / "spec" / f"{name}.yaml").write_text(text)
    return tmp


def _files(tmp: Path, name: str, text: str) -> dict[str, str]:
    try:
        return plan(_repo_with(tmp, name, text)).files
    except SpecError:
        assume(False)  # not a valid spec: not a case for this test
        raise


def visible(html: str) -> str:
    return " ".join(unescape(re.sub(r"<[^>]+>", " ", html)).split())


@settings(suppress_health_check=[HealthCheck.filter_too_much, HealthCheck.too_slow,
                                 HealthCheck.function_scoped_fixture], deadline=None)
@given(edit=edited_specs())
@example(edit=("alexnet_paper", (ROOT / "spec/alexnet_paper.yaml").read_text().replace("kind: conv", "kind: relu")))
def test_every_valid_spec_goes_through_every_renderer_and_shows_its_text(tmp_path_factory, edit):
    name, text = edit
    files = _files(tmp_path_factory.mktemp("repo"), name, text)
    data = yaml.safe_load(text)
    page = markdown.markdown(files[f"docs/generated/{name}/index.md"], extensions=MD_EXTENSIONS)
    h1 = re.search(r"<h1>(.*?)</h1>", page, re.S)
    assert h1 and visible(h1.group(1)) == " ".join(data["title"].split()), "the page title is not the spec's"
    for rel, content in files.items():
        if rel.endswith(".md"):
            # The page's footnotes (its bibliography) stay where the page puts them, whatever the specs say.
            html = markdown.markdown(content + "\n\nA claim.[^k]\n\n[^k]: A source.\n\n" + FOOTNOTES_MARKER + "\n",
                                     extensions=MD_EXTENSIONS)
            assert html.rstrip().endswith("</ol>\n</div>"), f"{rel}: the footnotes left the end of the page"
    comparison = visible(markdown.markdown(files["docs/generated/comparison.md"], extensions=MD_EXTENSIONS))
    assert " ".join(data["title"].split()) in comparison


def _notebook_cells() -> list[str]:
    return ["".join(c["source"]) for c in json.loads(NOTEBOOK.read_text())["cells"] if c["cell_type"] == "code"]


def _model_loader(files: dict[str, str]):
    """load_model for the edited tree: the generated module's code, executed from the plan (not imported)."""
    def load_model(name: str, **kwargs):
        module = types.ModuleType(f"edited_{name}")
        exec(compile(files[f"alexnet/models/{name}.py"], f"alexnet/models/{name}.py", "exec"), module.__dict__)
        return getattr(module, module.__all__[0])(**kwargs)
    return load_model


@pytest.mark.slow
@settings(max_examples=2, suppress_health_check=[HealthCheck.filter_too_much, HealthCheck.too_slow,
                                                 HealthCheck.function_scoped_fixture], deadline=None)
@given(edit=edited_specs(["alexnet", "alexnet_torchvision"]))
@example(edit=("alexnet", re.sub(r".*kind: lrn.*\n", "", (ROOT / "spec/alexnet.yaml").read_text())))
@example(edit=("alexnet", re.sub(r".*kind: dropout.*\n", "", (ROOT / "spec/alexnet.yaml").read_text())))
@example(edit=("alexnet_torchvision", (ROOT / "spec/alexnet_torchvision.yaml").read_text().replace(
    "out_channels: 64,", "out_channels: 32,", 1)))
def test_the_notebook_runs_for_every_valid_spec(tmp_path_factory, monkeypatch, edit):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    import alexnet

    name, text = edit
    root = tmp_path_factory.mktemp("repo")
    files = _files(root, name, text)
    monkeypatch.chdir(root)  # the notebook finds spec/ from its working directory
    monkeypatch.setattr(alexnet, "load_model", _model_loader(files))
    namespace: dict = {"__name__": "__notebook__"}
    out = io.StringIO()
    try:
        with contextlib.redirect_stdout(out):
            for cell in _notebook_cells():
                exec(compile(cell, str(NOTEBOOK), "exec"), namespace)
    finally:
        plt.close("all")
    printed = out.getvalue()
    assert "parameters:" in printed
    assert "does not apply" in printed or "largest difference between the outputs" in printed
    kinds = {layer["kind"] for _, _, layer in _layers(yaml.safe_load(text))}
    if name == "alexnet":  # the parts that do not apply say so
        assert ("has no LRN layer" in printed) == ("lrn" not in kinds)
        assert ("has no dropout layer" in printed) == ("dropout" not in kinds)
