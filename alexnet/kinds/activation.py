"""Elementwise non-linearities."""

from __future__ import annotations

from typing import ClassVar, Literal

from pydantic import Field, StrictBool, StrictInt

from ..formatting import fmt_chw
from .base import Inferred, Layer, NotExpressible, Shape, ShapeError, no_inplace
from .fields import number


class _Activation(Layer):
    family = "act"
    elementwise = True
    module: ClassVar[str]  # the torch.nn class
    label: ClassVar[str]   # the diagram's label
    def torch_module(self, shape: Shape, in_channels: str, out: str | None) -> str:
        return f"nn.{self.module}()"

    def diagram_label(self, output: Shape) -> str:
        return self.label


class ReLU(_Activation):
    """max(0, x), the paper's non-saturating activation."""

    kind: Literal["relu"]
    saves_output = True  # torch's ReLU backward reads its output (so does an in-place one's)
    module, label = "ReLU", "ReLU"
    torch_classes = ("torch.nn.ReLU",)
    inplace: StrictBool = Field(False, description="Overwrite the input (as torchvision does) to save memory.")

    @classmethod
    def from_torch(cls, module) -> dict:
        return {"inplace": module.inplace}

    def overwrites_input(self) -> bool:
        return self.inplace

    def torch_module(self, shape: Shape, in_channels: str, out: str | None) -> str:
        return "nn.ReLU(inplace=True)" if self.inplace else "nn.ReLU()"


class Tanh(_Activation):
    """Hyperbolic tangent, the saturating activation the paper compares ReLU with."""

    kind: Literal["tanh"]
    saves_output = True
    module, label = "Tanh", "tanh"
    torch_classes = ("torch.nn.Tanh",)


class Sigmoid(_Activation):
    """Logistic sigmoid 1 / (1 + exp(-x))."""

    kind: Literal["sigmoid"]
    saves_output = True
    module, label = "Sigmoid", "sigmoid"
    torch_classes = ("torch.nn.Sigmoid",)


class LeakyReLU(_Activation):
    """x for x > 0, negative_slope * x otherwise."""

    kind: Literal["leaky_relu"]
    example: ClassVar[dict] = {"negative_slope": 0.1}
    negative_slope: number(ge=0) = Field(0.01, description="Slope for negative inputs.")
    torch_classes = ("torch.nn.LeakyReLU",)

    @classmethod
    def from_torch(cls, module) -> dict:
        no_inplace(module)
        return {"negative_slope": module.negative_slope}

    def torch_module(self, shape: Shape, in_channels: str, out: str | None) -> str:
        return f"nn.LeakyReLU({self.negative_slope!r})" if self.negative_slope != 0.01 else "nn.LeakyReLU()"

    def diagram_label(self, output: Shape) -> str:
        return f"leaky ReLU {self.negative_slope:g}"


class GELU(_Activation):
    """x times the standard normal CDF of x."""

    kind: Literal["gelu"]
    module, label = "GELU", "GELU"
    torch_classes = ("torch.nn.GELU",)
    approximate: Literal["none", "tanh"] = Field("none", description="tanh: the faster tanh approximation.")

    @classmethod
    def from_torch(cls, module) -> dict:
        return {"approximate": module.approximate}

    def torch_module(self, shape: Shape, in_channels: str, out: str | None) -> str:
        return "nn.GELU()" if self.approximate == "none" else f"nn.GELU(approximate={self.approximate!r})"


class Softmax(_Activation):
    """exp(x) normalised to sum to 1 along one dimension."""

    kind: Literal["softmax"]
    saves_output = True
    torch_classes = ("torch.nn.Softmax",)
    dim: StrictInt = Field(1, description="The dimension that sums to 1, counted as PyTorch does (0 is the batch, "
                                          "1 the channels or features; negative from the end).")

    @classmethod
    def from_torch(cls, module) -> dict:
        if module.dim is None:
            raise NotExpressible("dim=None (PyTorch's deprecated implicit choice): a spec names the dimension")
        return {"dim": module.dim}

    def infer(self, shape: Shape) -> Inferred:
        if not (1 <= self.dim <= len(shape) or -len(shape) <= self.dim <= -1):
            raise ShapeError("dim", f"dim {self.dim} is not a dimension of the {fmt_chw(shape)} input other than "
                                    f"the batch (1 to {len(shape)}, or -{len(shape)} to -1)")
        return Inferred(shape)

    def torch_module(self, shape: Shape, in_channels: str, out: str | None) -> str:
        return f"nn.Softmax(dim={self.dim})"

    def diagram_label(self, output: Shape) -> str:
        return "softmax" if self.dim == 1 else f"softmax, dim {self.dim}"
