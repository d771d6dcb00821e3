"""alexnet.layers.LocalResponseNorm implements the formula its convention names, and matches PyTorch's."""

import os

import pytest
import torch
from torch.nn import functional as F

from alexnet.layers import LocalResponseNorm, local_response_norm, torch_alpha


def paper_formula(x, size, alpha, beta, k):
    """b_c = a_c / (k + alpha * sum over the window of a^2)^beta, written out channel by channel."""
    channels = x.shape[1]
    out = torch.empty_like(x)
    for c in range(channels):
        lo, hi = max(0, c - size // 2), min(channels, c + (size - 1) // 2 + 1)
        out[:, c] = x[:, c] / (k + alpha * (x[:, lo:hi] ** 2).sum(1)) ** beta
    return out


@pytest.mark.parametrize("convention", ["paper", "divided_by_n"])
@pytest.mark.parametrize("size", [1, 2, 5, 6])
def test_matches_functional_with_converted_alpha(convention, size):
    torch.manual_seed(size)
    x = torch.randn(2, 7, 5, 4, dtype=torch.float64, requires_grad=True)
    layer = LocalResponseNorm(size, alpha=1e-2, beta=0.75, k=2.0, convention=convention)
    reference_alpha = 1e-2 * size if convention == "paper" else 1e-2
    expected = F.local_response_norm(x, size, reference_alpha, 0.75, 2.0)
    got = layer(x)
    torch.testing.assert_close(got, expected, rtol=1e-6, atol=0)
    grad_out = torch.randn_like(expected)
    (g_got,) = torch.autograd.grad(got, x, grad_out)
    (g_exp,) = torch.autograd.grad(expected, x, grad_out)
    torch.testing.assert_close(g_got, g_exp, rtol=1e-6, atol=1e-12)


def test_paper_convention_is_the_printed_formula():
    torch.manual_seed(0)
    x = torch.randn(2, 9, 3, 3, dtype=torch.float64) * 10
    layer = LocalResponseNorm(5, alpha=1e-4, beta=0.75, k=2.0, convention="paper")
    torch.testing.assert_close(layer(x), paper_formula(x, 5, 1e-4, 0.75, 2.0), rtol=1e-12, atol=0)
    divided = LocalResponseNorm(5, alpha=5e-4, beta=0.75, k=2.0, convention="divided_by_n")
    torch.testing.assert_close(divided(x), paper_formula(x, 5, 1e-4, 0.75, 2.0), rtol=1e-12, atol=0)


def test_torch_alpha():
    assert torch_alpha(5, 1e-4, "paper") == pytest.approx(5e-4)
    assert torch_alpha(5, 1e-4, "divided_by_n") == 1e-4
    with pytest.raises(ValueError):
        torch_alpha(5, 1e-4, "tensorflow")


# --- The fast implementation against F.local_response_norm -------------------------------------------------
# ALEXNET_TEST_DEVICE=cuda runs these on a GPU (the layer is device-agnostic); the default is the CPU.
DEVICE = os.environ.get("ALEXNET_TEST_DEVICE", "cpu")
TOLERANCE = 1e-6


def gradient_terms(x, grad_out, size, alpha, beta, k):
    """The two terms whose difference is the input gradient, added in magnitude (float64):
    |g_i| d_i^-beta + 2 (alpha/n) beta |x_i| sum over the windows c holding i of |g_c x_c| d_c^(-beta-1)."""
    x, g, a, channels = x.double(), grad_out.double(), alpha / size, x.shape[1]
    before, after = size // 2, (size - 1) // 2
    d = torch.stack([k + a * (x[:, max(0, c - before):c + after + 1] ** 2).sum(1) for c in range(channels)], 1)
    t = (g * x).abs() * d ** (-beta - 1)
    spread = torch.stack([t[:, max(0, i - after):i + before + 1].sum(1) for i in range(channels)], 1)
    return g.abs() * d ** -beta + 2 * a * beta * x.abs() * spread


def assert_matches_functional(x, size, alpha, beta, k, grad_out=None):
    """Forward within 1e-6 relative error elementwise, in float32 and float64; gradient likewise in float64.

    In float32 the gradient can be ill-conditioned: it subtracts two terms that nearly cancel when
    alpha * sum(a^2) dwarfs k, and no float32 implementation (PyTorch's included) keeps 1e-6 of the
    difference. There the error must be within 1e-6 of those terms' size, against the float64 result.
    """
    x = x.detach().requires_grad_()
    got = local_response_norm(x, size, alpha, beta, k)
    expected = F.local_response_norm(x, size, alpha, beta, k)
    torch.testing.assert_close(got, expected, rtol=TOLERANCE, atol=0)
    with torch.no_grad():  # inference takes its own, leaner path
        torch.testing.assert_close(local_response_norm(x, size, alpha, beta, k), expected, rtol=TOLERANCE, atol=0)
    grad_out = torch.randn_like(expected) if grad_out is None else grad_out
    (g_got,) = torch.autograd.grad(got, x, grad_out)
    if x.dtype == torch.float64:
        (g_exp,) = torch.autograd.grad(expected, x, grad_out)
        torch.testing.assert_close(g_got, g_exp, rtol=TOLERANCE, atol=1e-14)
        return
    x64 = x.detach().double().requires_grad_()
    (truth,) = torch.autograd.grad(F.local_response_norm(x64, size, alpha, beta, k), x64, grad_out.double())
    error = (g_got.double() - truth).abs()
    assert (error <= TOLERANCE * gradient_terms(x, grad_out, size, alpha, beta, k)).all(), error.max()


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
@pytest.mark.parametrize("beta", [0.75, 0.5, 1.0, 0.6])  # the three fast roots and the general pow
@pytest.mark.parametrize(("size", "channels"), [(5, 96), (6, 7), (1, 3), (2, 4), (5, 2), (6, 1), (9, 4)])
def test_fast_matches_functional(dtype, beta, size, channels):
    torch.manual_seed(size * 100 + channels)
    x = (torch.randn(3, channels, 6, 5, dtype=dtype, device=DEVICE) * 4).relu_()
    assert_matches_functional(x, size, 5e-3, beta, 2.0)


@pytest.mark.parametrize("shape", [(2, 6, 10), (2, 6, 3, 4, 5), (1, 5, 1, 1)])
def test_fast_any_rank(shape):
    torch.manual_seed(1)
    assert_matches_functional(torch.randn(shape, dtype=torch.float64, device=DEVICE) * 3, 3, 0.1, 0.75, 1.0)


def test_alexnet_sized_activations_float32():
    torch.manual_seed(2)
    x = (torch.randn(2, 96, 55, 55, device=DEVICE) * 20).relu_()
    assert_matches_functional(x, 5, 5e-4, 0.75, 2.0)


def test_rejects_inputs_without_channels():
    with pytest.raises(ValueError, match="3 or more dimensions"):
        local_response_norm(torch.ones(4, 5), 5, 1e-4)


def test_meta_tensors_give_shapes():
    layer = LocalResponseNorm(5, alpha=1e-4, beta=0.75, k=2.0, convention="paper")
    assert layer(torch.empty(2, 96, 55, 55, device="meta")).shape == (2, 96, 55, 55)


def test_works_under_torch_compile():
    # Dynamo must trace the layer whole (fullgraph) and AOTAutograd its forward and analytic backward. The
    # Inductor backend also works but compiling C++ takes ~50 s on this 2-core machine; it is run by hand.
    torch.manual_seed(3)
    layer = LocalResponseNorm(6, alpha=1e-2, beta=0.75, k=2.0, convention="paper")
    compiled = torch.compile(layer, backend="aot_eager", fullgraph=True, dynamic=False)
    x = torch.randn(2, 7, 5, 4, dtype=torch.float64, device=DEVICE, requires_grad=True)
    got, expected = compiled(x), F.local_response_norm(x, 6, 6e-2, 0.75, 2.0)
    torch.testing.assert_close(got, expected, rtol=TOLERANCE, atol=0)
    grad_out = torch.randn_like(got)
    torch.testing.assert_close(torch.autograd.grad(got, x, grad_out)[0],
                               torch.autograd.grad(expected, x, grad_out)[0], rtol=TOLERANCE, atol=1e-14)
