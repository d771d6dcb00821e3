"""Every layer kind, asked through its class alone: the analysis, the generated constructor and the
diagram agree with the real torch module. A kind added to alexnet/kinds is covered here with no edit."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from alexnet.analysis import analyse
from alexnet.kinds import KINDS, ShapeError
from alexnet.layers import LocalResponseNorm
from alexnet.source import SpecError
from alexnet.spec import Spec
from tools.svg.labels import FAMILIES

INPUTS = {"maps": (4, 9, 9), "vector": (16,)}


def _layer(kind: str, **extra):
    return KINDS[kind].model_validate({"name": "layer", "kind": kind, **KINDS[kind].example, **extra})


def _accepted_inputs(kind: str) -> list[tuple[int, ...]]:
    accepted = []
    for shape in INPUTS.values():
        try:
            _layer(kind).infer(shape)
        except ShapeError:
            continue
        accepted.append(shape)
    return accepted


def _build(expr: str) -> nn.Module:
    return eval(expr, {"nn": nn, "torch": torch, "LocalResponseNorm": LocalResponseNorm})  # generated code only


@pytest.mark.parametrize("kind", list(KINDS))
def test_kind_takes_some_input(kind):
    assert _accepted_inputs(kind), f"{kind}: its example accepts neither a (C, H, W) nor a flat input"


@pytest.mark.parametrize("kind", list(KINDS))
def test_analysis_equals_the_torch_module(kind):
    for shape in _accepted_inputs(kind):
        layer = _layer(kind)
        x = torch.randn(2, *shape, requires_grad=True)
        before = x.detach().clone()
        if layer.module_free:  # written into forward: apply its expression to as many inputs as it needs
            reads = ["x"] * layer.arity[0]
            inferred = layer.infer_inputs([shape] * len(reads))
            module = torch.nn.Module()
            y = eval(layer.torch_call("", reads), {"torch": torch, "x": x})  # generated code only
        else:
            inferred = layer.infer(shape)
            module = _build(layer.torch_module(shape, repr(shape[0]), None)).train()
            y = module(x)
        assert tuple(y.shape[1:]) == inferred.output, (kind, shape)
        params = sum(p.numel() for p in module.parameters())
        assert params == inferred.weights + inferred.biases, (kind, shape)
        if not layer.overwrites_input():
            assert torch.equal(x, before), f"{kind} changed its input"
        y.sum().backward()  # and it trains


@pytest.mark.parametrize("kind", list(KINDS))
def test_kind_is_drawn_and_tabled(kind):
    layer = _layer(kind)
    shape = _accepted_inputs(kind)[0]
    output = layer.infer(shape).output
    assert layer.family in FAMILIES
    assert layer.diagram_label(output).strip()
    assert isinstance(layer.filter_text(shape), str)
    assert KINDS[kind] is type(layer)


@pytest.mark.parametrize("kind", [k for k in KINDS if _layer(k).sets_channels()])
def test_classifier_kinds_take_num_classes(kind):
    """A layer that sets the channel count can end a network whose class count is an argument."""
    shape = _accepted_inputs(kind)[0]
    layer = _layer(kind)
    module = _build(layer.torch_module(shape, repr(shape[0]), "7"))
    assert module(torch.randn(1, *shape)).shape[1] == 7


def test_every_kind_is_in_the_spec_schema():
    definitions = Spec.model_json_schema()["$defs"].values()
    assert sorted(d["properties"]["kind"]["const"] for d in definitions if "kind" in d.get("properties", {})) == \
        sorted(KINDS)


def test_a_rule_of_a_kind_is_reported_with_its_field():
    spec = Spec.model_validate({"name": "x", "title": "x", "class_name": "X", "input": [3, 8, 8], "num_classes": 4,
                                "sections": {"f": [{"name": "c", "kind": "conv", "out_channels": 4, "kernel_size": 8,
                                                    "groups": 3}]}})
    with pytest.raises(SpecError, match="groups 3 does not divide the 4 output channels"):
        analyse(spec)


def test_leaky_relu_keeps_its_slope():
    layer = _layer("leaky_relu", negative_slope=0.2)
    module = _build(layer.torch_module((3,), "3", None))
    assert module(torch.tensor([[-1.0, 0.0, 2.0]])).tolist() == [[pytest.approx(-0.2), 0.0, 2.0]]


@pytest.mark.parametrize("approximate", ["none", "tanh"])
def test_gelu_matches_the_functional_form(approximate):
    x = torch.linspace(-3, 3, 13).reshape(1, 13)
    module = _build(_layer("gelu", approximate=approximate).torch_module((13,), "13", None))
    assert torch.allclose(module(x), torch.nn.functional.gelu(x, approximate=approximate))


def test_softmax_sums_to_one_along_its_dim_and_refuses_the_batch():
    module = _build(_layer("softmax", dim=-1).torch_module((4, 9, 9), "4", None))
    assert torch.allclose(module(torch.randn(2, 4, 9, 9)).sum(-1), torch.ones(2, 4, 9))
    with pytest.raises(ShapeError, match="dim 0 is not a dimension"):
        _layer("softmax", dim=0).infer((10,))


def test_zero_pad_adds_zeros_on_the_sides_pytorch_names():
    layer = _layer("zero_pad", padding=[1, 2, 0, 3])  # left, right, top, bottom
    assert layer.infer((1, 2, 2)).output == (1, 5, 5)
    y = _build(layer.torch_module((1, 2, 2), "1", None))(torch.ones(1, 1, 2, 2))[0, 0]
    assert y[:2, 1:3].eq(1).all() and y.sum() == 4 and y[:, 0].eq(0).all() and y[2:, :].eq(0).all()
