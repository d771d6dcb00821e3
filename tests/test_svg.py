"""The architecture SVGs: valid, complete, escaped, deterministic, small, and no two texts overlap.

Text boxes are recomputed from the written SVG's attributes (x, y, font-size, text-anchor) with the
documented per-character width, so the checks see what a browser gets, not the layout's intentions.
"""

from __future__ import annotations

import itertools
import re
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from alexnet.analysis import Analysis, analyse
from alexnet.formatting import fmt_chw, fmt_hwc
from alexnet.spec import Spec
from tests.conftest import ROOT, SPEC_NAMES, load_analysis
from tools.render_markdown import in_parameter_table, table_rows
from tools.svg import render_compact, render_detailed
from tools.svg.figure import Box, Text, text_box
from tools.svg.labels import badge_label, layer_label
from tools.svg.repeats import layer_names, repeated_runs

NS = "{http://www.w3.org/2000/svg}"
VIEWS = {"compact": render_compact, "detailed": render_detailed}
FILES = {"compact": "architecture.svg", "detailed": "architecture-detailed.svg"}


def spec_from(sections: dict, input_shape: list[int], num_classes: int, **meta) -> Spec:
    return Spec.model_validate({"name": meta.pop("name", "synthetic"), "title": meta.pop("title", "Synthetic"),
                                "class_name": "Synthetic", "input": input_shape, "num_classes": num_classes,
                                "sections": sections, **meta})


def deep_spec() -> Spec:
    """42 layers: eleven conv, batch norm, ReLU blocks with three pools, then a classifier."""
    features = []
    for block in range(11):
        features += [{"name": f"conv{block}", "kind": "conv", "out_channels": 16 * (block % 3 + 1), "kernel_size": 3,
                      "padding": 1},
                     {"name": f"bn{block}", "kind": "batchnorm"},
                     {"name": f"act{block}", "kind": "relu"}]
        if block % 3 == 2:
            features.append({"name": f"pool{block}", "kind": "avgpool" if block == 5 else "maxpool", "kernel_size": 2})
    classifier = [{"name": "fc1", "kind": "linear", "out_features": 64}, {"name": "fc1_act", "kind": "tanh"},
                  {"name": "drop", "kind": "dropout", "p": 0.25}, {"name": "fc2", "kind": "linear", "out_features": 7},
                  {"name": "out_act", "kind": "sigmoid"}]
    spec = spec_from({"features": features, "flat": [{"name": "flat", "kind": "flatten"}], "classifier": classifier},
                     [3, 64, 64], 7, name="deep")
    assert len(spec.layers()) >= 40
    return spec


def mlp_spec() -> Spec:
    """A 1-D input: vectors only."""
    return spec_from({"net": [{"name": "fc1", "kind": "linear", "out_features": 32}, {"name": "act", "kind": "relu"},
                              {"name": "fc2", "kind": "linear", "out_features": 3}]}, [20], 3, name="mlp")


def four_tower_spec() -> Spec:
    """groups=4 convolutions with an adaptive pool: four towers, cross lines where groups is 1."""
    features = [{"name": "c1", "kind": "conv", "out_channels": 32, "kernel_size": 5, "stride": 2},
                {"name": "c2", "kind": "conv", "out_channels": 64, "kernel_size": 3, "groups": 4, "padding": 1},
                {"name": "c3", "kind": "conv", "out_channels": 64, "kernel_size": 3, "dilation": 2},
                {"name": "lrn", "kind": "lrn", "size": 3, "alpha": 1e-4, "beta": 0.75, "k": 1.0,
                 "convention": "divided_by_n"},
                {"name": "c4", "kind": "conv", "out_channels": 32, "kernel_size": [3, 1], "groups": 4}]
    return spec_from({"features": features, "pool": [{"name": "pool", "kind": "adaptive_avgpool", "output_size": 4}],
                      "flat": [{"name": "flat", "kind": "flatten"}],
                      "head": [{"name": "fc", "kind": "linear", "out_features": 10}]}, [1, 48, 40], 10, name="towers")


def hostile_spec() -> Spec:
    """Every text field at the limit of what validation lets through, plus a title validation would refuse:
    model_copy skips validation, so this proves the renderer escapes on its own."""
    spec = spec_from({"features": [{"name": "conv1", "display": "Conv \"1\" & 'co' #*(x)", "kind": "conv",
                                    "out_channels": 8, "kernel_size": 3},
                                   {"name": "relu1", "display": "R&D", "kind": "relu"}],
                      "flat": [{"name": "flat", "kind": "flatten"}],
                      "head": [{"name": "fc", "display": "fc \"last\" & co", "kind": "linear", "out_features": 2}]},
                     [3, 8, 8], 2, name="hostile", title="Net \"A\" & 'B' #1 (x*y)")
    return spec.model_copy(update={"title": "<script>alert('x')</script> & \"q\" ]]> <!-- --> <b>"})


def clashing_names_spec() -> Spec:
    """Layers named like the drawing's own ids (title, desc, input, output) and like its CSS classes."""
    layers = [{"name": "input", "kind": "conv", "out_channels": 4, "kernel_size": 3},
              {"name": "title", "kind": "relu"}, {"name": "desc", "kind": "maxpool", "kernel_size": 2},
              {"name": "layer", "kind": "flatten"}, {"name": "output", "kind": "linear", "out_features": 2}]
    return spec_from({"features": layers}, [1, 10, 10], 2, name="clash")


SYNTHETIC = {"clash": clashing_names_spec, "deep": deep_spec, "mlp": mlp_spec, "towers": four_tower_spec, "hostile": hostile_spec}


@pytest.fixture(scope="module")
def bundled() -> dict[str, Analysis]:
    return {name: load_analysis(name) for name in SPEC_NAMES}


def all_analyses(bundled) -> list[Analysis]:
    return [*bundled.values(), *(analyse(make()) for make in SYNTHETIC.values())]


def parse(svg: str) -> ET.Element:
    return ET.fromstring(svg)


def texts(root: ET.Element) -> list[ET.Element]:
    return list(root.iter(f"{NS}text"))


def box_of(element: ET.Element) -> Box:
    return text_box(float(element.get("x")), float(element.get("y")), element.text or "",
                    float(element.get("font-size")), element.get("text-anchor", "start"))


def layer_groups(root: ET.Element) -> dict[str, ET.Element]:
    return {g.get("data-layer"): g for g in root.iter(f"{NS}g") if g.get("data-layer")}


def own_texts(group: ET.Element) -> list[str]:
    """Texts of a layer's group, without those of nested layer groups."""
    out = []
    for child in group:
        if child.tag == f"{NS}text":
            out.append(child.text)
        elif child.tag == f"{NS}g" and not child.get("data-layer"):
            out += own_texts(child)
    return out


@pytest.mark.parametrize("view", VIEWS)
@pytest.mark.parametrize("name", SPEC_NAMES)
def test_committed_file_is_well_formed_and_self_contained(name, view):
    svg = (ROOT / "docs/generated" / name / FILES[view]).read_text()
    first, _, rest = svg.partition("\n")
    assert first == f"<!-- Generated from spec/{name}.yaml by `python -m tools.generate`; do not edit. -->"
    assert not svg.startswith("<?xml") and rest.startswith("<svg ")
    root = parse(svg)
    prefix = f"{name}-{view}-"
    assert root.get("role") == "img" and re.fullmatch(r"0 0 [\d.]+ [\d.]+", root.get("viewBox"))
    assert f"arch-{name}-{view}" in root.get("class").split()
    title, desc = root[0], root[1]
    assert (title.tag, desc.tag) == (f"{NS}title", f"{NS}desc") and title.text and desc.text
    assert root.get("aria-labelledby") == title.get("id") == prefix + "title"
    assert root.get("aria-describedby") == desc.get("id") == prefix + "desc"
    ids = [e.get("id") for e in root.iter() if e.get("id")]
    assert len(ids) == len(set(ids)) and all(i.startswith(prefix) for i in ids)
    # No scripts, no links, nothing fetched: the file renders the same offline and inlined.
    assert not any(e.tag in (f"{NS}script", f"{NS}a", f"{NS}image", f"{NS}foreignObject", f"{NS}use")
                   for e in root.iter())
    assert not any(k.startswith("on") or "href" in k for e in root.iter() for k in e.attrib)
    assert "url(" not in svg and "@import" not in svg and svg.count("http") == 1  # the xmlns only


@pytest.mark.parametrize("view", VIEWS)
@pytest.mark.parametrize("name", SPEC_NAMES)
def test_css_is_scoped_to_its_own_root_class(name, view):
    root = parse((ROOT / "docs/generated" / name / FILES[view]).read_text())
    css = root.find(f"{NS}style").text
    scope = f".arch-{name}-{view}"
    selectors = [s.strip() for block in re.findall(r"([^{}]+)\{[^{}]*\}", css) for s in block.split(",")]
    assert selectors
    for selector in selectors:
        assert selector.startswith((scope, f":root{scope}", f'[data-md-color-scheme="slate"] {scope}')), selector
    assert "@media (prefers-color-scheme: dark)" in css and "var(--md-default-fg-color" in css


def collapsed(analysis: Analysis) -> set[str]:
    """The layers the compact view leaves out: every use of a run of identical block uses but the first."""
    return {name for run in repeated_runs(analysis) for use in run.uses[1:] for name in layer_names(use)}


def is_graph(analysis: Analysis) -> bool:
    return not analysis.graph.is_sequential


@pytest.mark.parametrize("name", SPEC_NAMES)
def test_compact_view_shows_every_layer_with_the_table_labels_and_shapes(bundled, name):
    analysis = bundled[name]
    root = parse(render_compact(analysis))
    groups = layer_groups(root)
    hidden = collapsed(analysis)
    assert set(groups) == {r.name for r in analysis.rows} - hidden
    table = {row["display"]: row for row in table_rows(analysis)}
    for row in analysis.rows:
        if row.name in hidden:
            continue
        shown = own_texts(groups[row.name])
        assert any(text.startswith(layer_label(row)) or text == badge_label(row) for text in shown), row.name
        if len(shown) == 1 and row.kind in ("relu", "tanh", "sigmoid", "batchnorm"):
            continue  # a badge inside the box of the layer before; that box shows the shape
        assert fmt_chw(row.output) in shown, (row.name, shown)
        # A box in a frame (a block use) leaves its name to the tooltip: no room beside parallel columns.
        title = groups[row.name].find(f"{NS}title").text
        assert row.display in shown or (is_graph(analysis) and title.startswith(row.display + ":")), (row.name, shown)
        if in_parameter_table(row):  # the table prints H x W x C; the drawing C x H x W: same numbers
            assert fmt_hwc(tuple(map(int, fmt_chw(row.output).split("x")))) == table[row.display]["shape"]
    arrow_shapes = [e.text for e in root.iter(f"{NS}text") if e.get("class") == "shape"]
    assert arrow_shapes[0] == fmt_chw(analysis.input) and arrow_shapes[-1] == str(analysis.spec.num_classes)


def test_compact_labels_read_like_the_seed(bundled):
    shown = {t.text for t in texts(parse(render_compact(bundled["alexnet"])))}
    assert {"11x11 conv, 96, /4", "3x3 max pool, /2", "fc, 4096", "dropout 0.5", "LRN n=5", "ReLU",
            "5x5 conv, 256", "96x55x55", "256x6x6", "9216"} <= shown
    paper = {t.text for t in texts(parse(render_compact(bundled["alexnet_paper"])))}
    assert "5x5 conv, 256, 2 groups" in paper and "3x227x227" in paper


@pytest.mark.parametrize("name", SPEC_NAMES)
def test_detailed_view_shows_every_layer_and_every_volume_shape(bundled, name):
    analysis = bundled[name]
    root = parse(render_detailed(analysis))
    groups = layer_groups(root)
    assert set(groups) == {r.name for r in analysis.rows}
    for row in analysis.rows:
        shown = own_texts(groups[row.name])
        assert layer_label(row) in [t.removeprefix("+ ") for t in shown]  # graphs list followers as "+ ReLU"
        if row.kind in ("conv", "linear", "maxpool", "avgpool", "adaptive_avgpool"):
            # Inside a frame a layer is named from its block use on: conv1 in the frame of layer1.0.
            assert row.display in shown or (is_graph(analysis) and any(row.display.endswith("." + t) for t in shown))
            assert fmt_chw(row.output) in shown
            assert groups[row.name].findall(f".//{NS}rect[@class='front']")  # its volume


def test_paper_view_draws_two_towers_with_cross_connections(bundled):
    from tools.svg.detailed import _columns, _connected, _rows, tower_count

    analysis = bundled["alexnet_paper"]
    assert tower_count(analysis) == 2 and tower_count(bundled["alexnet"]) == 1
    columns = {c.row.name if c.row else "input": c for c in _columns(analysis, 2)}
    links = {b: _connected(analysis, columns[a], columns[b]) for a, b in itertools.pairwise(columns)}
    own, both = [(0, 0), (1, 1)], [(0, 0), (0, 1), (1, 0), (1, 1)]
    assert links == {"conv1": [(0, 0), (0, 1)], "pool1": own, "conv2": own, "pool2": own, "conv3": both,
                     "conv4": own, "conv5": own, "pool3": own, "fc1": both, "fc2": both, "fc3": [(0, 0), (1, 0)]}
    row_of = {c.row.name if c.row else "input": i for i, row in enumerate(_rows(analysis, list(columns.values())))
              for c in row}
    assert max(row_of.values()) >= 1  # it wraps, but never between a layer that sees both towers and its input
    assert all(row_of[b] == row_of[a] for a, b in itertools.pairwise(columns) if links[b] == both)

    groups = layer_groups(parse(render_detailed(analysis)))

    def volumes(name):
        return len(groups[name].findall(f".//{NS}rect[@class='front']"))

    def edges(name):  # kernel rays draw the own-tower links of a row; edges draw the rest
        return len(groups[name].findall(f".//{NS}line")) + len(groups[name].findall(f".//{NS}polyline[@class='edge']"))

    assert volumes("conv1") == volumes("conv2") == volumes("fc2") == 2 and volumes("fc3") == 1
    assert edges("conv3") > edges("conv4") and edges("fc2") == 4
    assert "2 towers x 48" in own_texts(groups["conv1"])
    one_tower = parse(render_detailed(bundled["alexnet"]))
    assert len(layer_groups(one_tower)["conv2"].findall(f".//{NS}rect[@class='front']")) == 1


@pytest.mark.parametrize("view", VIEWS)
def test_no_two_text_boxes_overlap(bundled, view):
    for analysis in all_analyses(bundled):
        root = parse(VIEWS[view](analysis))
        width, height = map(float, root.get("viewBox").split()[2:])
        boxes = [(t.text, box_of(t)) for t in texts(root)]
        assert len(boxes) > 5
        for text, box in boxes:
            assert box.left >= 0 and box.right <= width and box.top >= 0 and box.bottom <= height, \
                (analysis.spec.name, text, box)
        for (a, box_a), (b, box_b) in itertools.combinations(boxes, 2):
            assert not box_a.overlaps(box_b), (analysis.spec.name, view, a, b)


def test_overlap_check_catches_overlaps():
    here = Text(10, 20, "11x11 conv", 12, "label").box()
    assert here.overlaps(Text(40, 22, "96", 11, "shape").box())
    assert here.overlaps(Text(10, 26, "11x11 conv", 12, "label").box())  # 6 px lower: still overlapping
    assert not here.overlaps(Text(10, 20 + 1.05 * 12, "next line", 12, "label").box())  # touching is fine
    assert text_box(100, 50, "abcd", 10, "end").right == 100 and text_box(100, 50, "abcd", 10, "middle").left < 100


def test_a_deep_network_wraps_into_rows_and_stays_readable():
    analysis = analyse(deep_spec())
    detailed = parse(render_detailed(analysis))
    assert float(detailed.get("viewBox").split()[2]) <= 1000  # wrapped, not one 3,000 px row
    compact = parse(render_compact(analysis))
    assert len(layer_groups(compact)) == len(analysis.rows) == len(layer_groups(detailed))


def test_four_towers_and_a_vector_network(bundled):
    towers = layer_groups(parse(render_detailed(analyse(four_tower_spec()))))
    assert len(towers["c2"].findall(f".//{NS}rect[@class='front']")) == 4
    assert "2x2 conv" not in "".join(own_texts(towers["c3"])) and "dilation 2" in own_texts(towers["c3"])[1]
    mlp = analyse(mlp_spec())
    for render in VIEWS.values():
        shown = {t.text for t in texts(parse(render(mlp)))}
        assert {"20", "32", "3", "fc, 32", "fc, 3"} <= shown


@pytest.mark.parametrize("view", VIEWS)
def test_ids_are_unique_even_for_layers_named_like_them(view):
    root = parse(VIEWS[view](analyse(clashing_names_spec())))
    ids = [e.get("id") for e in root.iter() if e.get("id")]
    assert len(ids) == len(set(ids)) and {f"clash-{view}-title", f"clash-{view}-layer-title"} <= set(ids)
    assert root.get("aria-labelledby") == f"clash-{view}-title"


@pytest.mark.parametrize("view", VIEWS)
def test_hostile_text_is_escaped(view):
    analysis = analyse(hostile_spec())
    svg = VIEWS[view](analysis)
    root = parse(svg)  # still well-formed XML
    assert not any(e.tag.endswith("script") or e.tag.endswith("}b") for e in root.iter())
    assert "<script" not in svg and "&lt;script&gt;" in svg
    assert root[0].text.startswith("<script>alert('x')</script> & \"q\" ]]>")  # shown literally after parsing
    shown = [t.text for t in texts(root)]
    assert "Conv \"1\" & 'co' #*(x)" in shown
    if view == "compact":
        assert "fc \"last\" & co" in shown


@pytest.mark.parametrize("view", VIEWS)
def test_deterministic_and_small(bundled, view):
    for analysis in bundled.values():
        first, second = VIEWS[view](analysis), VIEWS[view](load_analysis(analysis.spec.name))
        assert first == second
        # AlexNet-sized networks well under 30 KB; ResNet-50 and GoogLeNet (175 and 197 layers) under 150 KB.
        limit = 30_000 if len(analysis.rows) < 50 else 150_000
        assert len(first.encode()) < limit, (analysis.spec.name, len(first.encode()))
        numbers = re.findall(r'(?:x|y|x1|y1|x2|y2|width|height)="(-?[\d.]+)"', first)
        assert numbers and all(re.fullmatch(r"-?\d+(\.\d)?", n) for n in numbers)  # one decimal at most


# --- In Chromium: real text widths, theme colours, contrast; PNGs under test-artifacts/svg/ to look at. ---

ARTIFACTS = ROOT / "test-artifacts" / "svg"
MEASURE = """svg => [...svg.querySelectorAll('text')].map(t => {
  const b = t.getBBox(), x = b.x + b.width / 2, y = b.y + b.height / 2;
  const rect = t.closest('g.layer, g.terminal')?.querySelector(':scope > rect.box');
  const r = rect?.getBBox();
  const inside = r && r.x <= x && x <= r.x + r.width && r.y <= y && y <= r.y + r.height;
  return {text: t.textContent, left: b.x, right: b.x + b.width, fill: getComputedStyle(t).fill,
          box: inside ? getComputedStyle(rect).fill : null};
})"""


def rgb(colour: str, under: str = "rgb(255, 255, 255)") -> tuple[float, ...]:
    """A computed CSS colour as 0..1 RGB, composited over ``under`` when it is translucent (Material's are)."""
    values = [float(v) for v in re.findall(r"[\d.]+", colour)]
    alpha = values[3] if len(values) > 3 else 1.0
    base = rgb(under) if alpha < 1 else (0, 0, 0)
    return tuple(alpha * v / 255 + (1 - alpha) * b for v, b in zip(values[:3], base, strict=True))


def luminance(colour: tuple[float, ...]) -> float:
    return sum(w * (c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4)
               for w, c in zip((0.2126, 0.7152, 0.0722), colour, strict=True))


def contrast(text: str, background: str) -> float:
    """WCAG contrast ratio of a text colour on an (opaque) background colour."""
    high, low = sorted((luminance(rgb(text, background)), luminance(rgb(background))), reverse=True)
    return (high + 0.05) / (low + 0.05)


def material_css() -> str:
    """Material for MkDocs' own stylesheets, so the inlined SVG meets the real palette variables."""
    import material

    folder = Path(material.__file__).parent / "templates/assets/stylesheets"
    return "".join(path.read_text() for pattern in ("main.*.min.css", "palette.*.min.css")
                   for path in sorted(folder.glob(pattern)))


PLAIN_BACKGROUND = {"default": "#ffffff", "slate": "#1e2129"}


@pytest.mark.browser
@pytest.mark.parametrize("view", VIEWS)
@pytest.mark.parametrize("name", [*SPEC_NAMES, "deep", "towers"])
def test_in_chromium_widths_fit_estimates_and_both_themes_are_readable(chromium_browser, bundled, name, view):
    chromium = chromium_browser
    analysis = bundled[name] if name in bundled else analyse(SYNTHETIC[name]())
    svg = VIEWS[view](analysis)
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    estimated = [box_of(t) for t in texts(parse(svg))]
    fills: dict[str, set] = {"default": set(), "slate": set()}
    for page_css, scheme in itertools.product(("plain", "material"), fills):
        style = material_css() if page_css == "material" else f"body {{ background: {PLAIN_BACKGROUND[scheme]} }}"
        page = chromium.new_page(device_scale_factor=1.5)
        page.set_content(f'<style>{style}</style><body data-md-color-scheme="{scheme}" style="margin:0">{svg}</body>')
        background = page.evaluate("getComputedStyle(document.body).backgroundColor")
        measured = page.locator("svg").evaluate(MEASURE)
        page.locator("svg").screenshot(path=str(ARTIFACTS / f"{name}-{view}-{page_css}-{scheme}.png"))
        page.close()
        assert [m["text"] for m in measured] == [t.text for t in texts(parse(svg))]
        for real, guess in zip(measured, estimated, strict=True):
            # The layout's width estimate must hold in a real browser font, or its no-overlap proof is void.
            assert guess.left - 0.5 <= real["left"] and real["right"] <= guess.right + 0.5, (real, guess)
            on = real["box"] or background
            assert contrast(real["fill"], on) >= 4.5, (page_css, scheme, real, on)
        fills[scheme] |= {m["fill"] for m in measured}
    assert fills["default"].isdisjoint(fills["slate"])  # every text follows the palette toggle

    width, height = (int(float(v)) + 1 for v in parse(svg).get("viewBox").split()[2:])
    page = chromium.new_page(color_scheme="dark", viewport={"width": width, "height": height})  # follows the OS
    path = ARTIFACTS / f"{name}-{view}.svg"
    path.write_text(svg)
    page.goto(path.as_uri())
    background = page.locator("rect.bg").evaluate("r => getComputedStyle(r).fill")
    for real in page.locator("svg").evaluate(MEASURE):
        assert contrast(real["fill"], real["box"] or background) >= 4.5, real
    page.screenshot(path=str(ARTIFACTS / f"{name}-{view}-standalone-dark.png"))
    page.close()


def test_a_spec_edit_reaches_both_drawings(tmp_path):
    from alexnet.spec import load_spec

    edited = tmp_path / "alexnet.yaml"
    edited.write_text((ROOT / "spec/alexnet.yaml").read_text().replace("out_channels: 96,", "out_channels: 64,", 1))
    analysis = analyse(load_spec(edited))
    for render in VIEWS.values():
        shown = {t.text for t in texts(parse(render(analysis)))}
        assert {"11x11 conv, 64, /4", "64x55x55"} <= shown and "96x55x55" not in shown
