"""The graph views (branches side by side, shortcuts in lanes, runs of one block drawn once), checked on the
written SVG's geometry: no edge through a box, branches in one band, a shape beside every edge."""

from __future__ import annotations

import itertools
import re
import xml.etree.ElementTree as ET

import pytest

from alexnet.analysis import Analysis, analyse
from alexnet.formatting import fmt_chw
from alexnet.source import SpecError
from alexnet.spec import Spec, load_spec
from tests.conftest import ROOT, SPEC_NAMES, load_analysis
from tools.svg import render_compact, render_detailed
from tools.svg.structure import structure

NS = "{http://www.w3.org/2000/svg}"
VIEWS = {"compact": render_compact, "detailed": render_detailed}
FILES = {"compact": "architecture.svg", "detailed": "architecture-detailed.svg"}
GRAPHS = ["googlenet", "resnet18", "resnet50"]
SHAPE_OFFSET = 8  # compact_graph.SHAPE_OFFSET: a label starts this far right of its edge


@pytest.fixture(scope="module")
def graphs() -> dict[str, Analysis]:
    return {name: load_analysis(name) for name in GRAPHS}


def parse(svg: str) -> ET.Element:
    return ET.fromstring(svg)


def points(element: ET.Element) -> list[tuple[float, float]]:
    if element.tag == f"{NS}line":
        return [(float(element.get("x1")), float(element.get("y1"))), (float(element.get("x2")), float(element.get("y2")))]
    return [tuple(map(float, p.split(","))) for p in element.get("points").split()]


def edges(root: ET.Element) -> list[ET.Element]:
    return [e for e in root.iter() if e.tag in (f"{NS}line", f"{NS}polyline") and e.get("class") == "edge"]


def solid_boxes(root: ET.Element) -> list[tuple[float, float, float, float]]:
    """(left, top, right, bottom) of every box, badge and volume face, the legend's swatches left out."""
    out = []
    for group in root.findall(f"{NS}g"):
        if group.get("class") == "legend":
            continue
        for element in group.iter():
            cls = (element.get("class") or "").split()
            if element.tag == f"{NS}rect" and ("box" in cls or "front" in cls):
                x, y = float(element.get("x")), float(element.get("y"))
                out.append((x, y, x + float(element.get("width")), y + float(element.get("height"))))
            elif element.tag == f"{NS}polygon" and ("top" in cls or "side" in cls):
                xs, ys = zip(*points(element), strict=True)
                out.append((min(xs), min(ys), max(xs), max(ys)))
    return out


def crosses(a: tuple[float, float], b: tuple[float, float], box, inset: float = 0.5) -> bool:
    """Whether segment a-b enters the interior of ``box`` (Liang-Barsky clipping against the inset box)."""
    left, top, right, bottom = box[0] + inset, box[1] + inset, box[2] - inset, box[3] - inset
    if left >= right or top >= bottom:
        return False
    dx, dy = b[0] - a[0], b[1] - a[1]
    t0, t1 = 0.0, 1.0
    for p, q in ((-dx, a[0] - left), (dx, right - a[0]), (-dy, a[1] - top), (dy, bottom - a[1])):
        if p == 0:
            if q <= 0:
                return False
            continue
        t = q / p
        if p < 0:
            t0 = max(t0, t)
        else:
            t1 = min(t1, t)
        if t0 >= t1:
            return False
    return True


def test_the_crossing_check_catches_a_crossing():
    box = (10, 10, 50, 30)
    assert crosses((30, 0), (30, 40), box) and crosses((0, 20), (60, 20), box) and crosses((0, 0), (60, 40), box)
    assert not crosses((30, 0), (30, 10), box) and not crosses((10, 0), (10, 40), box)  # touching an edge is fine
    assert not crosses((60, 0), (60, 40), box)


@pytest.mark.parametrize("view", VIEWS)
@pytest.mark.parametrize("name", GRAPHS)
def test_no_edge_crosses_a_box(graphs, name, view):
    root = parse(VIEWS[view](graphs[name]))
    boxes, drawn = solid_boxes(root), edges(root)
    assert len(boxes) > 30 and len(drawn) > 30
    for edge in drawn:
        path = points(edge)
        for a, b in itertools.pairwise(path):
            assert a[0] == b[0] or a[1] == b[1], (name, path)  # routed in horizontal and vertical runs
            for box in boxes:
                assert not crosses(a, b, box), (name, view, path, box)


@pytest.mark.parametrize("name", GRAPHS)
def test_committed_graph_svgs_are_xml_and_under_150_kb(name):
    for view, file in FILES.items():
        data = (ROOT / "docs/generated" / name / file).read_bytes()
        assert len(data) < 150_000, (name, view, len(data))
        parse(data.decode().partition("\n")[2])


def layer_group(root: ET.Element, layer: str) -> ET.Element:
    return next(g for g in root.iter(f"{NS}g") if g.get("data-layer") == layer)


def test_inception_branches_stand_side_by_side_and_join_below(graphs):
    heads = [f"inception3a.{b}" for b in ("branch1.conv", "branch2.0.conv", "branch3.0.conv", "branch4.0")]
    for view, render in VIEWS.items():
        root = parse(render(graphs["googlenet"]))
        if view == "compact":
            spans = [next(r for r in layer_group(root, h) if r.tag == f"{NS}rect") for h in heads]
            tops = [float(r.get("y")) for r in spans]
            lefts = [float(r.get("x")) for r in spans]
            rights = [x + float(r.get("width")) for x, r in zip(lefts, spans, strict=True)]
        else:  # the name line beside each volume, and the volume's front face
            tops = [float(next(t for t in layer_group(root, h) if t.tag == f"{NS}text").get("y")) for h in heads]
            fronts = [layer_group(root, h).find(f".//{NS}rect[@class='front']") for h in heads]
            lefts = [float(r.get("x")) for r in fronts]
            rights = [x + float(r.get("width")) for x, r in zip(lefts, fronts, strict=True)]
        assert len(set(tops)) == 1, (view, tops)  # one band
        # Columns, left to right in the spec's order.
        assert all(right < left for right, left in zip(rights, lefts[1:], strict=False)), (view, lefts, rights)
        concat = layer_group(root, "inception3a.concat")
        below = min(float(t.get("y")) for t in concat.iter(f"{NS}text"))
        assert below > tops[0] + 40, view


def test_identity_shortcuts_run_in_a_lane_beside_the_block(graphs):
    root = parse(render_compact(graphs["resnet18"]))
    boxes = solid_boxes(root)
    skips = [points(e) for e in edges(root) if len(points(e)) == 6]
    # layer1's two identical blocks are drawn once; layer2.1, layer3.1 and layer4.1 have identity shortcuts.
    assert len(skips) == 4
    for path in skips:
        lane, top, bottom = path[2][0], path[2][1], path[3][1]
        beside = [b for b in boxes if b[1] < bottom and b[3] > top]
        assert beside and all(b[2] < lane for b in beside)  # right of every box it runs along


def test_every_edge_has_its_shape_beside_it(graphs):
    for analysis in graphs.values():
        root = parse(render_compact(analysis))
        for group in root.iter(f"{NS}g"):
            own = [e for e in group if e.tag in (f"{NS}line", f"{NS}polyline") and e.get("class") == "edge"]
            if not own:
                continue
            layer = group.get("data-layer")
            shape = fmt_chw(analysis.row(layer).output) if layer else fmt_chw(analysis.input)
            labels = [(float(t.get("x")), float(t.get("y"))) for t in group
                      if t.tag == f"{NS}text" and t.get("class") == "shape" and t.text == shape]
            for edge in own:
                path = points(edge)
                x, y = path[0]
                assert any(lx == x + SHAPE_OFFSET and y < ly < y + 40 for lx, ly in labels), (layer, path, labels)
                if len(path) == 6:  # a shortcut: its shape once more, beside its lane
                    lane, top, bottom = path[2][0], path[2][1], path[3][1]
                    assert any(lx == lane + 6 and top < ly < bottom for lx, ly in labels), (layer, path)


def test_repeated_blocks_are_drawn_once_in_compact_and_all_in_detailed(graphs):
    def markers(root):
        return [t.text for t in root.iter(f"{NS}text") if re.fullmatch(r"x \d+", t.text or "")]

    resnet50 = graphs["resnet50"]
    compact, detailed = parse(render_compact(resnet50)), parse(render_detailed(resnet50))
    assert markers(compact) == ["x 2", "x 3", "x 5", "x 2"] and markers(detailed) == []
    assert markers(parse(render_compact(graphs["resnet18"]))) == ["x 2"]
    assert markers(parse(render_compact(graphs["googlenet"]))) == []  # every Inception module has its own args
    shown = {g.get("data-layer") for g in compact.iter(f"{NS}g")}
    assert "layer1.1.conv1" in shown and "layer1.2.conv1" not in shown and "layer3.5.add" not in shown
    frames = {g.get("id") for g in detailed.iter(f"{NS}g") if g.get("class") == "block"}
    for _section, _index, entry in resnet50.graph.entries:
        if hasattr(entry, "block"):
            assert f"resnet50-detailed-block-{'.'.join(map(str, entry.path))}" in frames
    assert len(frames) == 16


SAME_ARGS = """
name: same
title: Same
class_name: Same
input: [3, 8, 8]
num_classes: 4
blocks:
  cb:
    params: {out: null}
    layers:
      - {name: conv, kind: conv, out_channels: $out, kernel_size: 3, padding: 1}
      - {name: relu, kind: relu}
sections:
  body:
    - {name: body, block: cb, repeat: 3, args: {out: 16}}
  pool:
    - {name: pool, kind: adaptive_avgpool, output_size: 1}
  flat:
    - {name: flat, kind: flatten}
  fc:
    - {name: fc, kind: linear, out_features: 4}
"""


def test_same_args_are_not_enough_the_shapes_must_match_too(tmp_path):
    path = tmp_path / "same.yaml"
    path.write_text(SAME_ARGS)
    root = parse(render_compact(analyse(load_spec(path))))
    # The first use maps 3 channels to 16, the next two 16 to 16: only those two are one run.
    assert [t.text for t in root.iter(f"{NS}text") if t.text == "x 2"] == ["x 2"]
    shown = {g.get("data-layer") for g in root.iter(f"{NS}g")}
    assert {"body.0.conv", "body.1.conv"} <= shown and "body.2.conv" not in shown


def big_graph(pairs: int) -> Spec:
    """A residual block and a four-branch module taking turns: 21 layers per pair."""
    blocks = {
        "res": {"params": {"planes": None}, "layers": [
            {"name": "conv1", "kind": "conv", "out_channels": "$planes", "kernel_size": 3, "padding": 1},
            {"name": "bn1", "kind": "batchnorm"}, {"name": "relu1", "kind": "relu"},
            {"name": "conv2", "kind": "conv", "out_channels": "$planes", "kernel_size": 3, "padding": 1},
            {"name": "bn2", "kind": "batchnorm"},
            {"name": "add", "kind": "add", "from": ["bn2", "input"]}, {"name": "relu2", "kind": "relu"}]},
        "inc": {"params": {"c": None}, "layers": [
            {"name": "a", "kind": "conv", "out_channels": "$c", "kernel_size": 1, "from": "input"},
            {"name": "a_act", "kind": "relu"},
            {"name": "b", "kind": "conv", "out_channels": "$c", "kernel_size": 1, "from": "input"},
            {"name": "b_act", "kind": "relu"},
            {"name": "b2", "kind": "conv", "out_channels": "$c", "kernel_size": 3, "padding": 1},
            {"name": "b2_act", "kind": "relu"},
            {"name": "c", "kind": "conv", "out_channels": "$c", "kernel_size": 1, "from": "input"},
            {"name": "c_act", "kind": "relu"},
            {"name": "c2", "kind": "conv", "out_channels": "$c", "kernel_size": 3, "padding": 1},
            {"name": "c2_act", "kind": "relu"},
            {"name": "d", "kind": "maxpool", "kernel_size": 3, "stride": 1, "padding": 1, "from": "input"},
            {"name": "d2", "kind": "conv", "out_channels": "$c", "kernel_size": 1},
            {"name": "d2_act", "kind": "relu"},
            {"name": "cat", "kind": "concat", "from": ["a_act", "b2_act", "c2_act", "d2_act"]}]},
    }
    sections = {"stem": [{"name": "stem", "kind": "conv", "out_channels": 8, "kernel_size": 3, "padding": 1}]}
    for i in range(pairs):
        sections[f"s{i}"] = [{"name": f"r{i}", "block": "res", "args": {"planes": 8}},
                             {"name": f"m{i}", "block": "inc", "args": {"c": 2}}]
    sections["head"] = [{"name": "pool", "kind": "adaptive_avgpool", "output_size": 1},
                        {"name": "flat", "kind": "flatten"}, {"name": "fc", "kind": "linear", "out_features": 3}]
    return Spec.model_validate({"name": "big", "title": "Big", "class_name": "Big", "input": [3, 8, 8],
                                "num_classes": 3, "blocks": blocks, "sections": sections})


def test_a_thousand_layer_graph_is_laid_out_the_same_every_time():
    """Its speed is measured by `make bench` (the 1,000-node synthetic graph), not here."""
    analysis = analyse(big_graph(48))
    assert len(analysis.rows) > 1000
    first = {view: render(analysis) for view, render in VIEWS.items()}
    assert first == {view: render(analysis) for view, render in VIEWS.items()}
    root = parse(first["compact"])
    assert len([e for e in edges(root) if len(points(e)) == 6]) == 48  # every residual block's shortcut


def test_branches_that_do_not_nest_fall_back_to_a_column():
    # b reads the input and is read both inside the first join and by the second: no nesting of columns.
    assert structure([(), (0,), (0,), (1, 2), (2, 3), (4,)]) is None
    assert structure([(), (0,), (0,), (1, 2), (3,)]) is not None
    spec = Spec.model_validate({"name": "cross", "title": "Cross", "class_name": "Cross", "input": [2, 4, 4],
                                "num_classes": 2, "sections": {"body": [
                                    {"name": "a", "kind": "conv", "out_channels": 2, "kernel_size": 1},
                                    {"name": "b", "kind": "conv", "out_channels": 2, "kernel_size": 1, "from": "input"},
                                    {"name": "s", "kind": "add", "from": ["a", "b"]},
                                    {"name": "t", "kind": "add", "from": ["b", "s"]},
                                    {"name": "flat", "kind": "flatten"},
                                    {"name": "fc", "kind": "linear", "out_features": 2}]}})
    analysis = analyse(spec)
    for view, render in VIEWS.items():
        root = parse(render(analysis))
        assert {g.get("data-layer") for g in root.iter(f"{NS}g")} >= {"a", "b", "s", "t", "fc"}, view
    assert "\u2190 b, s" in render_compact(analysis)  # the column names what each join reads


@pytest.mark.parametrize("path", sorted((ROOT / "tests/hostile_graphs").glob("*.yaml")), ids=lambda p: p.stem)
def test_accepted_hostile_graphs_render(path):
    try:
        analysis = analyse(load_spec(path))
    except SpecError:
        return
    for render in VIEWS.values():
        parse(render(analysis))


def test_every_bundled_graph_spec_gets_the_graph_views():
    for name in SPEC_NAMES:
        analysis = load_analysis(name)
        root = parse(render_compact(analysis))
        framed = any(g.get("class") == "block" for g in root.iter(f"{NS}g"))
        assert framed == (not analysis.graph.is_sequential and bool(analysis.graph.instances)), name


def test_a_run_of_uses_inside_a_branch_is_drawn_use_by_use():
    """Runs are drawn once only where a frame carries their "x N"; inside a branch (here under the skip
    from c0 to j) there is no frame, so every use is drawn and no marker or legend line claims otherwise."""
    conv = {"kind": "conv", "from": "input"}
    spec = Spec.model_validate({
        "name": "net", "title": "Net", "class_name": "Net", "input": [3, 16, 16], "num_classes": 10,
        "blocks": {"inc": {"layers": [
            {"name": "b1", **conv, "out_channels": 4, "kernel_size": 1},
            {"name": "b2", **conv, "out_channels": 4, "kernel_size": 3, "padding": 1},
            {"name": "b3", **conv, "out_channels": 8, "kernel_size": 5, "padding": 2},
            {"name": "cat", "kind": "concat", "from": ["b1", "b2", "b3"]}]}},
        "sections": {"body": [
            {"name": "c0", "kind": "conv", "out_channels": 16, "kernel_size": 3, "padding": 1},
            {"name": "c1", "kind": "conv", "out_channels": 16, "kernel_size": 1},
            {"name": "i1", "block": "inc"}, {"name": "i2", "block": "inc"},
            {"name": "j", "kind": "add", "from": ["i2", "c0"]}],
            "head": [{"name": "pool", "kind": "adaptive_avgpool", "output_size": 1}, {"name": "flat", "kind": "flatten"},
                     {"name": "fc", "kind": "linear", "out_features": 10}]}})
    analysis = analyse(spec)
    svg = render_compact(analysis)
    drawn = set(re.findall(r'data-layer="([^"]+)"', svg))
    assert {row.name for row in analysis.rows} <= drawn
    assert not re.search(r">x \d+<", svg) and "x N:" not in svg
