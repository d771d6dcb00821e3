"""The analysis (pure Python) agrees with the real generated nn.Module for every spec in spec/."""

import pytest
import torch

import alexnet
from tests.conftest import SPEC_NAMES
from tests.model_utils import real_rows


@pytest.mark.parametrize("name", SPEC_NAMES)
def test_per_layer_params_and_shapes(name, analyses):
    analysis = analyses[name]
    with torch.device("meta"):
        model = alexnet.load_model(name)
    real = real_rows(model, analysis)
    for row in analysis.rows:
        if row.name in real:  # functional sections (torch.flatten) have no module
            assert real[row.name] == (row.params, row.output), row.name
    assert sum(p.numel() for p in model.parameters()) == analysis.total_params


@pytest.mark.parametrize("name", SPEC_NAMES)
def test_forward_backward_batch_of_two(name, analyses):
    torch.manual_seed(0)
    model = alexnet.load_model(name)
    model.train()
    x = torch.randn(2, *analyses[name].input)
    out = model(x)
    assert out.shape == (2, analyses[name].spec.num_classes)
    out.logsumexp(dim=1).sum().backward()
    grads = [p.grad for p in model.parameters()]
    assert all(g is not None and torch.isfinite(g).all() for g in grads)


@pytest.mark.parametrize("name", SPEC_NAMES)
def test_num_classes_kwarg(name):
    with torch.device("meta"):
        model = alexnet.load_model(name, num_classes=10)
    assert model(torch.zeros(1, *model_input(name), device="meta")).shape == (1, 10)


def model_input(name):
    import importlib

    return importlib.import_module(f"alexnet.models.{name}").INPUT_SHAPE


def test_paper_init_scheme():
    torch.manual_seed(0)
    model = alexnet.load_model("alexnet")
    conv1, conv2 = model.features[0], model.features[4]
    assert conv1.bias.eq(0).all() and conv2.bias.eq(1).all()
    assert abs(model.classifier[0].weight.std().item() - 0.01) < 1e-4
    assert model.classifier[0].bias.eq(1).all() and model.classifier[6].bias.eq(0).all()


def test_unknown_model_name():
    with pytest.raises(ValueError, match="no generated model"):
        alexnet.load_model("../etc/passwd")
