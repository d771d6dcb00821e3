"""``num_classes`` changes the class count of any spec that ends in a classifier, whatever its last weighted
layer, and is refused with a plain message where no single layer sets the output size."""

from __future__ import annotations

import pytest
import torch

from alexnet import build_model
from alexnet.analysis import analyse
from alexnet.codegen import render_model
from alexnet.spec import Spec

CONV_HEAD = [  # a network that ends in a 1x1 convolution and a global average pool (no linear layer)
    {"name": "conv1", "kind": "conv", "out_channels": 8, "kernel_size": 3},
    {"name": "relu1", "kind": "relu"},
    {"name": "head", "kind": "conv", "out_channels": 10, "kernel_size": 1},
    {"name": "pool", "kind": "adaptive_avgpool", "output_size": 1},
    {"name": "flatten", "kind": "flatten"},
]
LINEAR_THEN_BATCHNORM = [
    {"name": "flatten", "kind": "flatten"},
    {"name": "fc", "kind": "linear", "out_features": 10},
    {"name": "bn", "kind": "batchnorm"},
    {"name": "softmax", "kind": "softmax"},
]
FLATTEN_OF_MAPS = [  # 10 outputs = 2 channels x 5 x 1 positions: no single layer sets the class count
    {"name": "conv", "kind": "conv", "out_channels": 2, "kernel_size": [4, 12]},
    {"name": "flatten", "kind": "flatten"},
]


def model_class(layers: list[dict], input_shape=(3, 8, 8)):
    spec = Spec.model_validate({"name": "net", "title": "Net", "class_name": "Net", "input": list(input_shape),
                                "num_classes": 10, "sections": {"body": layers}})
    namespace: dict = {}
    exec(compile(render_model(analyse(spec)), "net.py", "exec"), namespace)  # our generated code only
    return namespace["Net"]


@pytest.mark.parametrize("layers", [CONV_HEAD, LINEAR_THEN_BATCHNORM], ids=["conv_head", "linear_then_batchnorm"])
def test_num_classes_changes_the_output(layers):
    model = build_model(model_class(layers), num_classes=3).eval()
    assert model(torch.randn(2, 3, 8, 8)).shape == (2, 3)
    assert build_model(model_class(layers)).eval()(torch.randn(2, 3, 8, 8)).shape == (2, 10)


def test_num_classes_is_refused_where_no_layer_sets_it():
    cls = model_class(FLATTEN_OF_MAPS, input_shape=(3, 8, 12))
    assert cls()(torch.randn(1, 3, 8, 12)).shape == (1, 10)
    with pytest.raises(ValueError, match="num_classes cannot be changed"):
        build_model(cls, num_classes=3)
