"""Layers the generated models use beyond torch.nn: the paper's local response normalization.

``F.local_response_norm`` squares the input, pads it, and runs ``avg_pool3d`` over a 5-D view; on a CPU
that costs about three times the convolution it follows. Here the window sum over channels is a few
shifted slice additions (the same sums in another order, so no cancellation as a cumulative sum would
have), and the backward pass is the analytic gradient, saving autograd's chain of intermediates.
"""

from __future__ import annotations

import torch
from torch import nn


def torch_alpha(size: int, alpha: float, convention: str) -> float:
    """The ``alpha`` to give PyTorch (which divides by ``size``) for a spec's alpha and convention."""
    if convention == "paper":
        return alpha * size
    if convention == "divided_by_n":
        return alpha
    raise ValueError(f"unknown LRN convention {convention!r}")


def _window_sum(t: torch.Tensor, before: int, after: int) -> torch.Tensor:
    """``out[:, c] = sum(t[:, c - before .. c + after])`` over channels that exist (zero padding)."""
    out = t.clone()
    channels = t.shape[1]
    for offset in range(1, min(after, channels - 1) + 1):  # neighbours above c
        out[:, :channels - offset] += t[:, offset:]
    for offset in range(1, min(before, channels - 1) + 1):  # neighbours below c
        out[:, offset:] += t[:, :channels - offset]
    return out


def _inverse_power(d: torch.Tensor, beta: float, out: torch.Tensor) -> torch.Tensor:
    """``d ** -beta`` into ``out``. A general ``pow`` costs several times the rest of the layer on a CPU,
    so the exponents LRN uses (AlexNet and Caffe: 0.75) go through correctly rounded roots instead."""
    if beta == 0.75:  # d^-1/2 * d^-1/4
        torch.rsqrt(d, out=out)
        return out.mul_(out.sqrt())
    if beta == 0.5:
        return torch.rsqrt(d, out=out)
    if beta == 1.0:
        return torch.reciprocal(d, out=out)
    return torch.pow(d, -beta, out=out)


class _LRNFunction(torch.autograd.Function):
    """``y = x * d^-beta`` with ``d = k + a * window_sum(x^2)``; ``a`` is alpha per channel (already / n)."""

    @staticmethod
    def forward(ctx, x: torch.Tensor, size: int, a: float, beta: float, k: float) -> torch.Tensor:
        before, after = size // 2, (size - 1) // 2  # F.local_response_norm's window
        squares = x * x
        d = _window_sum(squares, before, after).mul_(a).add_(k)
        scale = _inverse_power(d, beta, out=squares)  # the squares are summed; reuse their memory
        ctx.save_for_backward(x, d, scale)
        ctx.window, ctx.a, ctx.beta = (before, after), a, beta
        return x * scale

    @staticmethod
    @torch.autograd.function.once_differentiable
    def backward(ctx, grad: torch.Tensor):
        # dy_c/dx_i = [i == c] d_c^-beta - 2 a beta x_i x_c d_c^(-beta-1) [i in window(c)], and
        # "i in window(c)" is "c in the mirrored window of i", hence the swapped before/after below.
        x, d, scale = ctx.saved_tensors
        before, after = ctx.window
        t = (grad * x).mul_(scale).div_(d)
        spread = _window_sum(t, after, before)
        grad_x = torch.addcmul(grad * scale, x, spread, value=-2.0 * ctx.a * ctx.beta)
        return grad_x, None, None, None, None


def local_response_norm(x: torch.Tensor, size: int, alpha: float, beta: float = 0.75, k: float = 1.0) -> torch.Tensor:
    """Drop-in for ``F.local_response_norm`` (same arguments, alpha divided by ``size``), faster."""
    if x.dim() < 3:
        raise ValueError(f"expected an input with 3 or more dimensions (N, C, ...), got {x.dim()}")
    return _LRNFunction.apply(x, size, alpha / size, beta, k)


class LocalResponseNorm(nn.Module):
    """Across-channel LRN: ``b_c = a_c / (k + alpha' * sum_{c' near c} a_c'^2) ** beta``.

    ``convention="paper"`` takes alpha as printed in Krizhevsky et al. (2012), ``alpha' = alpha``;
    ``convention="divided_by_n"`` follows PyTorch, Caffe and cuda-convnet, ``alpha' = alpha / size``.
    The window covers channels ``c - size//2 .. c + (size-1)//2``, as in ``F.local_response_norm``,
    whose result this matches (to rounding) in a fraction of the time. Second derivatives are not supported.
    """

    def __init__(self, size: int, alpha: float = 1e-4, beta: float = 0.75, k: float = 1.0,
                 convention: str = "divided_by_n") -> None:
        super().__init__()
        self.size, self.alpha, self.beta, self.k, self.convention = size, alpha, beta, k, convention
        self._torch_alpha = torch_alpha(size, alpha, convention)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return local_response_norm(x, self.size, self._torch_alpha, self.beta, self.k)

    def extra_repr(self) -> str:
        return f"{self.size}, alpha={self.alpha}, beta={self.beta}, k={self.k}, convention={self.convention!r}"
