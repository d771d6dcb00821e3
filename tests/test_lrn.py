"""alexnet.layers.LocalResponseNorm implements the formula its convention names."""

import pytest
import torch
from torch.nn import functional as F

from alexnet.layers import LocalResponseNorm, torch_alpha


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
