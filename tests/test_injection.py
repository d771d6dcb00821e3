"""Spec text cannot inject code: it reaches generated Python only inside string literals or as validated
identifiers, and the Markdown parameter table shows it literally.

The hostile spec below is *valid*: its title, description and table labels use every character the
spec allows that means something to Python or Markdown (quotes, triple quotes, #, *, _, &, ;, parentheses).
"""

from __future__ import annotations

import ast
import html
import html.parser
import io
import json
import tokenize

import markdown
import pytest
import yaml

from alexnet.analysis import analyse
from alexnet.codegen import render_model
from alexnet.spec import load_spec
from tests.conftest import ROOT, SPEC_NAMES
from tools.generate import spec_artifacts
from tools.render_markdown import render_parameters

MARK = "INJ"  # in every hostile string, so a leak is easy to find
HOSTILE_TEXT = {
    "title": f"x\"\"\" + __import__('os').system('echo {MARK}') + \"\"\" # {MARK}",
    "description": f"'''; import os; os.system(\"echo {MARK}\") # \"\"\" {MARK}",
    "conv1": f"**{MARK}** _x_ # &lt;script&gt; (a) 'q' \"d\" *",
    "pool1": f'"""{MARK}""" + 1 #',
    "fc1": f"__{MARK}__: &amp; ; */ -- +",
}


def _spec_data(texts: dict[str, str]) -> dict:
    return {
        "name": "hostile", "title": texts["title"], "description": texts["description"], "class_name": "Hostile",
        "input": [3, 32, 32], "num_classes": 10, "init": {"weights": "normal", "std": 0.01, "bias": 0.0},
        "sections": {
            "features": [
                {"name": "conv1", "display": texts["conv1"], "kind": "conv", "out_channels": 8, "kernel_size": 3,
                 "bias_init": 1.0},
                {"name": "relu1", "kind": "relu", "inplace": True},
                {"name": "norm1", "kind": "lrn", "size": 5, "alpha": 1e-4, "beta": 0.75, "k": 2.0,
                 "convention": "paper"},
                {"name": "pool1", "display": texts["pool1"], "kind": "maxpool", "kernel_size": 2},
            ],
            "flatten": [{"name": "flatten", "kind": "flatten"}],
            "classifier": [{"name": "fc1", "display": texts["fc1"], "kind": "linear", "out_features": 10}],
        },
    }


def _analysis(tmp_path, texts):
    path = tmp_path / "hostile.yaml"
    path.write_text(yaml.safe_dump(_spec_data(texts), sort_keys=False, width=1000))
    return analyse(load_spec(path, "spec/hostile.yaml"))


@pytest.fixture
def hostile(tmp_path):
    return _analysis(tmp_path, HOSTILE_TEXT), HOSTILE_TEXT


def test_hostile_text_is_valid_spec_text(hostile):
    analysis, texts = hostile
    assert analysis.spec.title == texts["title"]
    assert [r.display for r in analysis.rows if r.name in ("conv1", "pool1", "fc1")] == \
        [texts["conv1"], texts["pool1"], texts["fc1"]]


@pytest.mark.parametrize("name", SPEC_NAMES)
def test_every_generated_module_compiles(name):
    committed = (ROOT / "alexnet" / "models" / f"{name}.py").read_text()
    compile(committed, f"{name}.py", "exec")
    rendered = render_model(analyse(load_spec(ROOT / "spec" / f"{name}.yaml")))
    compile(rendered, f"{name}.py", "exec")


def _tokens(source: str):
    return list(tokenize.generate_tokens(io.StringIO(source).readline))


STRING_TOKENS = {tokenize.STRING} | {getattr(tokenize, t) for t in ("FSTRING_START", "FSTRING_MIDDLE", "FSTRING_END")
                                     if hasattr(tokenize, t)}


def test_spec_text_stays_inside_string_literals(hostile):
    analysis, texts = hostile
    source = render_model(analysis)
    compile(source, "hostile.py", "exec")
    for token in _tokens(source):
        if MARK in token.string:
            assert token.type in STRING_TOKENS, f"spec text outside a string literal: {token}"
    names = {t.string for t in _tokens(source) if t.type == tokenize.NAME}
    assert not names & {"__import__", "os", "system", "import_"}
    # The title is the docstring, whole and unchanged.
    assert ast.get_docstring(ast.parse(source)).startswith(texts["title"] + ".\n")


def _shape(source: str) -> str:
    """The module's syntax tree with every string constant blanked: the code's structure alone."""
    tree = ast.parse(source)
    for node in ast.walk(tree):
        if isinstance(node, ast.Constant) and isinstance(node.value, str):
            node.value = ""
    return ast.dump(tree)


def test_hostile_text_does_not_change_the_code(hostile, tmp_path):
    """Same structure with plain text: the same syntax tree (names, calls, numbers) and the same comments."""
    analysis, _texts = hostile
    plain = _analysis(tmp_path, dict.fromkeys(HOSTILE_TEXT, "plain text"))
    hostile_source, plain_source = render_model(analysis), render_model(plain)
    assert _shape(hostile_source) == _shape(plain_source)

    def comments(source):
        return [t.string for t in _tokens(source) if t.type == tokenize.COMMENT]

    assert comments(hostile_source) == comments(plain_source)


class _Cells(html.parser.HTMLParser):
    """Text of each table cell, and every tag the Markdown produced."""

    def __init__(self):
        super().__init__()
        self.rows: list[list[str]] = []
        self.tags: set[str] = set()
        self._cell: list[str] | None = None

    def handle_starttag(self, tag, attrs):
        self.tags.add(tag)
        if tag == "tr":
            self.rows.append([])
        elif tag in ("td", "th"):
            self._cell = []

    def handle_endtag(self, tag):
        if tag in ("td", "th") and self._cell is not None:
            self.rows[-1].append("".join(self._cell))
            self._cell = None

    def handle_data(self, data):
        if self._cell is not None:
            self._cell.append(data)


def test_markdown_table_shows_spec_text_literally(hostile):
    analysis, texts = hostile
    table = render_parameters(analysis)
    lines = [line for line in table.splitlines() if line.startswith("|")]
    columns = lines[0].count("|")
    for line in lines:  # an unescaped | in a label would add a column
        assert line.replace("\\|", "").count("|") == columns, line
    parser = _Cells()
    parser.feed(markdown.markdown(table, extensions=["tables"]))
    assert parser.tags <= {"table", "thead", "tbody", "tr", "th", "td", "strong"}, parser.tags
    labels = [row[0] for row in parser.rows[1:]]
    assert [texts["conv1"], texts["pool1"], texts["fc1"]] == [label for label in labels if MARK in label]
    assert all(len(row) == columns - 1 for row in parser.rows)


def test_every_artifact_of_a_hostile_spec_is_well_formed(hostile):
    analysis, _texts = hostile
    for rel, content in spec_artifacts(analysis).items():
        if rel.endswith(".py"):
            compile(content, rel, "exec")
        elif rel.endswith(".json"):
            data = json.loads(content)
            assert data["title"] == analysis.spec.title


def test_markdown_partials_show_display_names_literally(tmp_path):
    """facts.md and the seed-errors admonition name layers by their display text: it must stay literal."""
    from tools.render_site import SEED_SPEC, render_facts, render_seed_errors

    data = _spec_data(HOSTILE_TEXT)
    data["name"] = SEED_SPEC  # the seed-errors partial describes the seed spec
    data["sections"]["features"].insert(3, {"name": "conv2", "display": HOSTILE_TEXT["fc1"], "kind": "conv",
                                            "out_channels": 8, "kernel_size": 1, "groups": 2})
    path = tmp_path / f"{SEED_SPEC}.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False, width=1000))
    analysis = analyse(load_spec(path))
    for partial in (render_facts(analysis), render_seed_errors([analysis])):
        page = markdown.markdown(partial, extensions=["admonition", "md_in_html"])
        assert HOSTILE_TEXT["fc1"] in html.unescape(page)  # conv2 (grouped) and fc1 are named by it
        for tag in ("em", "strong", "script", "a"):
            inside = [m for m in page.split(f"<{tag}")[1:] if MARK in m.split(f"</{tag}>")[0]]
            assert not inside, f"spec text became <{tag}>: {inside[:1]}"
