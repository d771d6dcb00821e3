"""Normalization layers: the paper's local response normalization, and batch norm."""

from __future__ import annotations

from typing import ClassVar, Literal

from pydantic import Field

from .base import Inferred, Layer, NotExpressible, Shape, need_maps
from .fields import FloatPositive, Fraction, Positive


def torch_alpha(size: int, alpha: float, convention: str) -> float:
    """The ``alpha`` to give PyTorch (which divides by ``size``) for a spec's alpha and convention."""
    if convention == "paper":
        return alpha * size
    if convention == "divided_by_n":
        return alpha
    raise ValueError(f"unknown LRN convention {convention!r}")


class LRN(Layer):
    """Local response normalization across neighbouring channels (the 2012 paper, section 3.3)."""

    kind: Literal["lrn"]
    family = "norm"
    elementwise = True
    imports = ("from alexnet.layers import LocalResponseNorm",)
    saves_output = True
    example: ClassVar[dict] = {"size": 5, "alpha": 1e-4, "beta": 0.75, "k": 2, "convention": "paper"}
    torch_classes = ("torch.nn.LocalResponseNorm", "alexnet.layers.LocalResponseNorm")
    size: Positive = Field(description="n, the number of neighbouring channels summed over.")
    alpha: FloatPositive
    beta: FloatPositive
    k: FloatPositive = Field(description="Added to the sum before the power; above 0, or a window of zeros "
                                         "divides 0 by 0.")
    convention: Literal["paper", "divided_by_n"] = Field(
        description="paper: b = a / (k + alpha * sum a^2)^beta, as printed in Krizhevsky et al. 2012 "
        "(TensorFlow's convention). divided_by_n: alpha is divided by size first, as in PyTorch, Caffe, "
        "cuda-convnet and ONNX."
    )

    @classmethod
    def from_torch(cls, module) -> dict:
        # torch.nn.LocalResponseNorm has no convention: its alpha is divided by size.
        return {"size": module.size, "alpha": module.alpha, "beta": module.beta, "k": module.k,
                "convention": getattr(module, "convention", "divided_by_n")}

    def infer(self, shape: Shape) -> Inferred:
        return Inferred(need_maps(self, shape))

    def torch_module(self, shape: Shape, in_channels: str, out: str | None) -> str:
        return (f"LocalResponseNorm({self.size}, alpha={self.alpha!r}, beta={self.beta!r}, k={self.k!r}, "
                f"convention={self.convention!r})")

    def filter_text(self, shape: Shape) -> str:
        return f"n={self.size}"

    def diagram_label(self, output: Shape) -> str:
        return f"LRN n={self.size}"


class BatchNorm(Layer):
    """Batch normalization (nn.BatchNorm2d on maps, nn.BatchNorm1d on vectors)."""

    kind: Literal["batchnorm"]
    family = "norm"
    elementwise = True
    eps: FloatPositive = 1e-5
    momentum: Fraction = 0.1
    torch_classes = ("torch.nn.BatchNorm2d", "torch.nn.BatchNorm1d")

    @classmethod
    def from_torch(cls, module) -> dict:
        if not module.affine or not module.track_running_stats or module.momentum is None:
            raise NotExpressible(f"affine={module.affine}, track_running_stats={module.track_running_stats}, "
                                 f"momentum={module.momentum} (a spec writes affine batch norm with running "
                                 "statistics and a momentum)")
        return {"eps": module.eps, "momentum": module.momentum}

    def infer(self, shape: Shape) -> Inferred:
        return Inferred(shape, shape[0], shape[0])

    def torch_module(self, shape: Shape, in_channels: str, out: str | None) -> str:
        cls = "nn.BatchNorm2d" if len(shape) == 3 else "nn.BatchNorm1d"
        return (f"{cls}({in_channels}" + (f", eps={self.eps!r}" if self.eps != 1e-5 else "")
                + (f", momentum={self.momentum!r}" if self.momentum != 0.1 else "") + ")")

    def filter_text(self, shape: Shape) -> str:
        return f"{shape[0]}"

    def diagram_label(self, output: Shape) -> str:
        return "batch norm"
