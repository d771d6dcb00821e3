"""Graph specs (branches, merges, blocks) against torchvision: the generated ResNet-18, ResNet-50, GoogLeNet
and VGG-16 have torchvision's state_dict keys and shapes, load its weights with strict=True and give equal
outputs in eval mode; their figures equal DESIGN.md's and torchvision's documentation."""

from __future__ import annotations

import pytest
import torch
import torchvision

import alexnet
from alexnet.analysis import analyse
from alexnet.graph import expand
from alexnet.source import SpecError
from alexnet.spec import Spec

TORCHVISION = {  # spec: (builder, parameters, MACs as torchvision documents them, in GMACs ("GFLOPS"))
    "resnet18": (lambda: torchvision.models.resnet18(weights=None), 11_689_512, 1.81),
    "resnet50": (lambda: torchvision.models.resnet50(weights=None), 25_557_032, 4.09),
    "googlenet": (lambda: torchvision.models.googlenet(weights=None, aux_logits=False, transform_input=False,
                                                       init_weights=True), 6_624_904, 1.50),
    "vgg16": (lambda: torchvision.models.vgg16(weights=None), 138_357_544, 15.47),
}


@pytest.mark.parametrize("name", sorted(TORCHVISION))
def test_torchvision_layout_weights_and_outputs(name, analyses):
    build, params, gmacs = TORCHVISION[name]
    torch.manual_seed(0)
    reference = build().eval()
    model = alexnet.load_model(name).eval()
    assert {k: v.shape for k, v in model.state_dict().items()} == \
        {k: v.shape for k, v in reference.state_dict().items()}
    model.load_state_dict(reference.state_dict(), strict=True)
    x = torch.randn(1, 3, 224, 224)
    with torch.no_grad():
        assert torch.equal(model(x), reference(x))
    assert analyses[name].total_params == params == sum(p.numel() for p in model.parameters())
    assert round(analyses[name].total_macs / 1e9, 2) == gmacs


def _spec(sections: dict, blocks: dict | None = None, shape=(3, 8, 8), classes=4) -> Spec:
    return Spec.model_validate({"name": "net", "title": "Net", "class_name": "Net", "input": list(shape),
                                "num_classes": classes, "blocks": blocks or {}, "sections": sections})


def _errors(spec: Spec) -> list[str]:
    with pytest.raises(SpecError) as caught:
        analyse(spec)
    return [p.message for p in caught.value.problems]


def test_receptive_field_is_the_largest_over_all_paths():
    spec = _spec({"body": [
        {"name": "wide", "kind": "conv", "out_channels": 4, "kernel_size": 5, "padding": 2},
        {"name": "narrow", "kind": "conv", "out_channels": 4, "kernel_size": 1, "from": "input"},
        {"name": "join", "kind": "add", "from": ["wide", "narrow"]},
        {"name": "pool", "kind": "adaptive_avgpool", "output_size": 1},
        {"name": "flat", "kind": "flatten"}]}, classes=4)
    rows = {r.name: r for r in analyse(spec).rows}
    assert rows["join"].receptive_field == (5, 5) and rows["join"].sources == ("wide", "narrow")


def test_graph_mistakes_are_named():
    conv = {"kind": "conv", "out_channels": 4, "kernel_size": 3, "padding": 1}
    assert any("unknown input 'nope'" in m for m in _errors(_spec({"body": [
        {"name": "a", **conv}, {"name": "b", "kind": "add", "from": ["a", "nope"]}, {"name": "f", "kind": "flatten"}]})))
    assert any("is defined later" in m for m in _errors(_spec({"body": [
        {"name": "a", **conv, "from": "b"}, {"name": "b", **conv}, {"name": "f", "kind": "flatten"}]})))
    messages = _errors(_spec({"body": [
        {"name": "a", **conv}, {"name": "b", "kind": "conv", "out_channels": 2, "kernel_size": 1, "from": "input"},
        {"name": "c", "kind": "add", "from": ["a", "b"]}, {"name": "f", "kind": "flatten"}]}))
    assert any("add needs inputs of one shape, got 4x8x8 and 2x8x8 (from a, b)" in m for m in messages), messages
    assert any("its output is never used" in m for m in _errors(_spec({"body": [
        {"name": "a", **conv}, {"name": "b", **conv, "from": "input"}, {"name": "f", "kind": "flatten"}]})))


def test_block_argument_mistakes_are_named():
    block = {"params": {"width": None, "spare": 1}, "layers": [{"name": "c", "kind": "conv", "out_channels": "$width",
                                                                "kernel_size": 1}]}
    spec = _spec({"body": [{"name": "b", "block": "unit"}, {"name": "f", "kind": "flatten"}]}, {"unit": block})
    messages = [p.message for p in expand(spec).problems]
    assert any("block 'unit' needs the argument 'width'" in m for m in messages), messages
    assert any("param 'spare' is never used" in m for m in messages), messages
    spec = _spec({"body": [{"name": "b", "block": "unit", "args": {"width": 2, "widht": 3}},
                           {"name": "f", "kind": "flatten"}]}, {"unit": block})
    assert any("has no param 'widht' (did you mean 'width'?)" in p.message for p in expand(spec).problems)


def test_a_block_written_once_is_one_class():
    source = (alexnet.SPEC_DIR.parent / "alexnet/models/resnet50.py").read_text()
    assert source.count("class Bottleneck(nn.Module)") == 1 and source.count("Bottleneck(") == 17


def test_key_features_name_residual_adds_and_inception_branches(analyses):
    from tools.render_site import facts

    resnet18, resnet50, googlenet = (facts(analyses[n]) for n in ("resnet18", "resnet50", "googlenet"))
    # torchvision: a projection (downsample) opens layer2-4 in ResNet-18 and every stage in ResNet-50.
    assert (resnet18["adds"], resnet18["identity_adds"], resnet18["batchnorm"]) == (8, 5, 20)
    assert (resnet50["adds"], resnet50["identity_adds"], resnet50["batchnorm"]) == (16, 12, 53)
    assert (googlenet["concats"], googlenet["branches"], googlenet["adds"]) == (9, [4], 0)
    assert facts(analyses["alexnet"])["concats"] == facts(analyses["alexnet"])["batchnorm"] == 0


@pytest.mark.parametrize(("padding", "ceil_mode", "size", "expected"), [
    (0, True, 112, "3x3, /2, ceil"),   # 55 rounded down, 56 up: ceil_mode matters
    (0, True, 113, "3x3, /2"),         # 56 either way: not shown
    (1, False, 56, "3x3, /2, pad 1"),
    (0, False, 112, "3x3, /2"),
])
def test_pool_filter_shows_padding_and_ceil_mode_where_they_matter(padding, ceil_mode, size, expected):
    from alexnet.kinds import KINDS

    layer = KINDS["maxpool"](kind="maxpool", name="pool", kernel_size=3, stride=2, padding=padding,
                             ceil_mode=ceil_mode)
    assert layer.filter_text((8, size, size)) == expected
    floor = torch.nn.MaxPool2d(3, 2, padding, ceil_mode=False)(torch.zeros(1, 8, size, size)).shape
    real = torch.nn.MaxPool2d(3, 2, padding, ceil_mode=ceil_mode)(torch.zeros(1, 8, size, size)).shape
    assert ("ceil" in expected) == (floor != real)


def test_a_section_holding_only_a_merge_makes_no_module_attribute():
    from alexnet.codegen import render_model

    analysis = analyse(_spec({
        "body": [{"name": "stem", "kind": "conv", "out_channels": 8, "kernel_size": 3, "padding": 1},
                 {"name": "side", "kind": "conv", "out_channels": 8, "kernel_size": 1, "from": "stem"}],
        "join": [{"name": "sum", "kind": "add", "from": ["stem", "side"]}],
        "head": [{"name": "pool", "kind": "adaptive_avgpool", "output_size": 1}, {"name": "flat", "kind": "flatten"},
                 {"name": "fc", "kind": "linear", "out_features": 4}]}))
    namespace: dict = {}
    exec(compile(render_model(analysis), "net.py", "exec"), namespace)  # our own generated code
    model = namespace["Net"]().eval()
    assert [name for name, _ in model.named_children()] == ["body", "head"]
    x = torch.randn(1, 3, 8, 8)
    stem = model.body[0](x)
    expected = model.head(stem + model.body[1](stem))
    with torch.no_grad():
        assert torch.allclose(model(x), expected)


def test_pool_shapes_and_refusals_follow_torch_including_windows_wider_than_a_ceil_mode_input():
    """Every small pool: our output shape equals torch's, and we refuse exactly what torch refuses
    (a ceil_mode window wider than the padded input still gives one output)."""
    from alexnet.kinds import KINDS
    from alexnet.kinds.base import ShapeError

    checked = 0
    for size in range(1, 8):
        for k in range(1, 5):
            for s in (1, 2, 3):
                for p in range(k // 2 + 1):
                    for ceil in (False, True):
                        for d in (1, 2):
                            layer = KINDS["maxpool"](kind="maxpool", name="p", kernel_size=k, stride=s, padding=p,
                                                     ceil_mode=ceil, dilation=d)
                            pool = torch.nn.MaxPool2d(k, s, p, dilation=d, ceil_mode=ceil)
                            try:
                                real = tuple(pool(torch.zeros(1, 2, size, size)).shape[1:])
                            except RuntimeError:
                                real = None
                            try:
                                ours = layer.infer((2, size, size)).output
                            except ShapeError:
                                ours = None
                            assert ours == real, (size, k, s, p, ceil, d)
                            checked += real is not None
    assert checked > 500
    assert KINDS["maxpool"](kind="maxpool", name="p", kernel_size=2, stride=2, ceil_mode=True).filter_text(
        (2, 1, 1)) == "2x2, /2, ceil"  # rounded down, nothing would come out
    dilated = KINDS["maxpool"](kind="maxpool", name="p", kernel_size=3, stride=1, dilation=2)
    assert dilated.filter_text((2, 16, 16)) == "3x3, /1, dilation 2" and "dilation 2" in dilated.diagram_label((2,))


@pytest.mark.parametrize(("body", "identity"), [
    # two computed paths from one fork: a projection, even when one of them is read again later
    ([{"name": "main", "kind": "conv", "out_channels": 8, "kernel_size": 3, "padding": 1, "from": "c0"},
      {"name": "proj", "kind": "conv", "out_channels": 8, "kernel_size": 1, "from": "c0"},
      {"name": "j", "kind": "add", "from": ["main", "proj"]},
      {"name": "tap", "kind": "conv", "out_channels": 8, "kernel_size": 1, "from": "main"},
      {"name": "j2", "kind": "add", "from": ["j", "tap"]}], 0),
    ([{"name": "j", "kind": "add", "from": ["c0", "c0"]}], 0),  # x + x adds no shortcut
    ([{"name": "main", "kind": "conv", "out_channels": 8, "kernel_size": 3, "padding": 1},
      {"name": "j", "kind": "add", "from": ["main", "c0"]}], 1),
])
def test_identity_shortcuts_are_inputs_added_back_to_what_was_computed_from_them(body, identity):
    from tools.render_site import facts

    spec = _spec({"body": [{"name": "c0", "kind": "conv", "out_channels": 8, "kernel_size": 3, "padding": 1},
                           *body],
                  "head": [{"name": "pool", "kind": "adaptive_avgpool", "output_size": 1},
                           {"name": "flat", "kind": "flatten"}, {"name": "fc", "kind": "linear", "out_features": 4}]})
    assert facts(analyse(spec))["identity_adds"] == identity


def test_the_table_explains_pad_ceil_and_dilation_only_where_a_pool_uses_them(analyses):
    """The notes under the table are found by the marks filter_text writes: a change of either side shows here."""
    from tools.render_markdown import FILTER_NOTES, render_parameters

    googlenet, alexnet_table = render_parameters(analyses["googlenet"]), render_parameters(analyses["alexnet"])
    assert "3x3, /2, ceil" in googlenet and FILTER_NOTES[", ceil"] in googlenet
    assert not any(note in alexnet_table for note in FILTER_NOTES.values())
    dilated = analyse(_spec({"body": [
        {"name": "pool", "kind": "maxpool", "kernel_size": 3, "stride": 1, "padding": 1, "dilation": 2},
        {"name": "flat", "kind": "flatten"}, {"name": "fc", "kind": "linear", "out_features": 4}]}))
    table = render_parameters(dilated)
    assert FILTER_NOTES[", pad "] in table and FILTER_NOTES[", dilation "] in table
