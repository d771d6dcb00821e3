"""Layers the generated models use beyond torch.nn: the paper's local response normalization.

``F.local_response_norm`` squares the input, pads it, and runs ``avg_pool3d`` over a 5-D view; on a CPU
that costs about three times the convolution it follows. Here the window sum over channels is one
reduction over an unfolded view of the zero-padded squares, ``d ** -0.75`` is two roots instead of a
``pow``, and the backward pass is the analytic gradient instead of autograd's chain of intermediates.
"""

from __future__ import annotations

import torch
from torch import nn

from .kinds import torch_alpha  # re-exported: the conversion is pure Python, the site uses it too


def _into(out: torch.Tensor, op, *args: torch.Tensor, **kwargs) -> torch.Tensor:
    """``op(*args, **kwargs, out=out)``: results go straight into a view of a larger buffer. Dynamo refuses
    ``out=`` into a non-contiguous view, so compiled code copies instead (Inductor fuses the copy)."""
    if torch.compiler.is_compiling():
        return out.copy_(op(*args, **kwargs))
    return op(*args, **kwargs, out=out)


def _scaled_product_into(out: torch.Tensor, a: torch.Tensor, b: torch.Tensor, value: float) -> torch.Tensor:
    """``out = value * a * b`` in one pass (each pass over the tensor costs, most of all on a busy CPU)."""
    return _into(out, torch.addcmul, a.new_zeros(()), a, b, value=value)


def _padded(x: torch.Tensor, before: int, after: int) -> tuple[torch.Tensor, torch.Tensor]:
    """An uninitialised buffer with ``before``/``after`` zero channels around ``x``'s, and its middle part."""
    channels = x.shape[1]
    padded = x.new_empty((x.shape[0], channels + before + after, *x.shape[2:]))
    padded[:, :before].zero_()
    padded[:, before + channels:].zero_()
    return padded, padded[:, before:before + channels]


def _window_sums(padded: torch.Tensor, size: int) -> torch.Tensor:
    """``out[:, c] = sum(padded[:, c:c + size])``: one reduction over a strided view, same terms as
    ``avg_pool3d`` sums (no cumulative sum, whose differences would cancel)."""
    return padded.unfold(1, size, 1).sum(-1)


def _inverse_power(d: torch.Tensor, beta: float, out: torch.Tensor, scratch: torch.Tensor) -> torch.Tensor:
    """``out = d ** -beta`` (``out`` may be ``d``; ``scratch``, shaped like ``d``, is overwritten). A general
    ``pow`` costs several times the rest of the layer on a CPU, so the exponents LRN uses (AlexNet and
    Caffe: 0.75) go through correctly rounded roots instead."""
    if beta == 0.75:  # d^-1/2 * d^-1/4
        root = _into(scratch, torch.rsqrt, d)
        return _into(out, torch.sqrt, root).mul_(root)
    if beta == 0.5:
        return _into(out, torch.rsqrt, d)
    if beta == 1.0:
        return _into(out, torch.reciprocal, d)
    return _into(out, torch.pow, d, -beta)


def _denominator(x: torch.Tensor, size: int, a: float, k: float) -> tuple[torch.Tensor, torch.Tensor]:
    """``d = k + a * window_sum(x^2)`` over F.local_response_norm's window (c - size//2 .. c + (size-1)//2),
    and a scratch tensor shaped like ``x`` that the caller may overwrite."""
    padded, middle = _padded(x, size // 2, (size - 1) // 2)
    _scaled_product_into(middle, x, x, a)
    return _window_sums(padded, size).add_(k), middle


def _forward(x: torch.Tensor, size: int, a: float, beta: float, k: float) -> torch.Tensor:
    """Inference: nothing kept, two new tensors in all (fresh memory costs a page fault per 4 KiB)."""
    d, scratch = _denominator(x, size, a, k)
    return _inverse_power(d, beta, d, scratch).mul_(x)


class _LRNFunction(torch.autograd.Function):
    """``y = x * d^-beta`` with ``d = k + a * window_sum(x^2)``; ``a`` is alpha per channel (already / n)."""

    @staticmethod
    def forward(ctx, x: torch.Tensor, size: int, a: float, beta: float, k: float) -> torch.Tensor:
        d, scratch = _denominator(x, size, a, k)
        scale = _inverse_power(d, beta, torch.empty_like(d), scratch)
        y = x * scale
        ctx.save_for_backward(x, d, scale, y)
        ctx.size, ctx.a, ctx.beta = size, a, beta
        return y

    @staticmethod
    @torch.autograd.function.once_differentiable
    def backward(ctx, grad: torch.Tensor):
        # dy_c/dx_i = [i == c] d_c^-beta - 2 a beta x_i x_c d_c^(-beta-1) [i in window(c)], and
        # "i in window(c)" is "c in the mirrored window of i", hence the swapped padding below.
        x, d, scale, y = ctx.saved_tensors
        padded, middle = _padded(x, (ctx.size - 1) // 2, ctx.size // 2)
        _scaled_product_into(middle, grad, y, -2.0 * ctx.a * ctx.beta).div_(d)  # -2 a beta grad_c y_c / d_c
        grad_x = _window_sums(padded, ctx.size).mul_(x).addcmul_(grad, scale)
        return grad_x, None, None, None, None


def local_response_norm(x: torch.Tensor, size: int, alpha: float, beta: float = 0.75, k: float = 1.0) -> torch.Tensor:
    """Drop-in for ``F.local_response_norm`` (same arguments, alpha divided by ``size``), faster."""
    if x.dim() < 3:
        raise ValueError(f"expected an input with 3 or more dimensions (N, C, ...), got {x.dim()}")
    if torch.is_grad_enabled() and x.requires_grad:
        return _LRNFunction.apply(x, size, alpha / size, beta, k)
    return _forward(x, size, alpha / size, beta, k)


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
