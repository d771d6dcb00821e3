"""The analysis (pure Python) agrees with the real generated nn.Module for every spec in spec/."""

import pytest
import torch

import alexnet
from alexnet import load_spec, spec_path
from tests.conftest import SPEC_NAMES
from tests.model_utils import module_of, real_rows


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


@pytest.mark.parametrize("name", [n for n in SPEC_NAMES if load_spec(spec_path(n)).init.weights == "normal"])
def test_init_scheme_follows_the_spec(name, analyses):
    """Weights N(0, std) and constant biases as the spec's init and bias_init say (the paper's scheme)."""
    spec = analyses[name].spec
    torch.manual_seed(0)
    model = alexnet.load_model(name)
    for row in analyses[name].rows:
        if row.kind not in ("conv", "linear"):
            continue
        module, layer = module_of(model, row), row.layer
        if module.weight.numel() > 10_000:  # enough draws for the sample std to be within 2%
            assert abs(module.weight.std().item() - spec.init.std) < 0.02 * spec.init.std, row.name
        expected_bias = spec.init.bias if layer.bias_init is None else layer.bias_init
        assert module.bias.eq(expected_bias).all(), row.name


def test_paper_specs_put_bias_one_where_the_paper_does(analyses):
    for name in ("alexnet", "alexnet_paper"):
        ones = [layer.name for _, _, layer in analyses[name].spec.layers() if getattr(layer, "bias_init", None) == 1.0]
        assert ones == ["conv2", "conv4", "conv5", "fc1", "fc2"], name


def test_unknown_model_name():
    with pytest.raises(ValueError, match="no generated model"):
        alexnet.load_model("../etc/passwd")
