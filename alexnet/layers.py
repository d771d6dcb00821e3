"""Layers the generated models use beyond torch.nn: the paper's local response normalization."""

from __future__ import annotations

import torch
from torch import nn
from torch.nn import functional as F


def torch_alpha(size: int, alpha: float, convention: str) -> float:
    """The ``alpha`` to give PyTorch (which divides by ``size``) for a spec's alpha and convention."""
    if convention == "paper":
        return alpha * size
    if convention == "divided_by_n":
        return alpha
    raise ValueError(f"unknown LRN convention {convention!r}")


class LocalResponseNorm(nn.Module):
    """Across-channel LRN: ``b_c = a_c / (k + alpha' * sum_{c' near c} a_c'^2) ** beta``.

    ``convention="paper"`` takes alpha as printed in Krizhevsky et al. (2012), ``alpha' = alpha``;
    ``convention="divided_by_n"`` follows PyTorch, Caffe and cuda-convnet, ``alpha' = alpha / size``.
    The window covers channels ``c - size//2 .. c + (size-1)//2``, as in ``F.local_response_norm``.
    """

    def __init__(self, size: int, alpha: float = 1e-4, beta: float = 0.75, k: float = 1.0,
                 convention: str = "divided_by_n") -> None:
        super().__init__()
        self.size, self.alpha, self.beta, self.k, self.convention = size, alpha, beta, k, convention
        self._torch_alpha = torch_alpha(size, alpha, convention)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return F.local_response_norm(x, self.size, self._torch_alpha, self.beta, self.k)

    def extra_repr(self) -> str:
        return f"{self.size}, alpha={self.alpha}, beta={self.beta}, k={self.k}, convention={self.convention!r}"
