"""Layers with weights that set the channel count: convolution and fully connected (linear)."""

from __future__ import annotations

from typing import Annotated, ClassVar, Literal

from pydantic import Field, StrictBool

from ..formatting import fmt_hxw, fmt_size
from .base import Inferred, Layer, NotExpressible, Shape, ShapeError, need_vector
from .fields import Float, NonNegativePair, Positive, PositivePair
from .geometry import dilated, slide


def size_arg(pair: tuple[int, int]) -> str:
    """A size as PyTorch code: ``3`` when square, ``(3, 5)`` otherwise."""
    return repr(pair[0]) if pair[0] == pair[1] else repr(tuple(pair))


def kwargs(**items: object) -> str:
    """``, key=value`` for every item that is not None (arguments left at PyTorch's default are omitted)."""
    return "".join(f", {key}={value}" for key, value in items.items() if value is not None)


def stride_note(stride: tuple[int, int]) -> str:
    return "" if stride == (1, 1) else f", /{fmt_size(stride)}"


BiasInit = Annotated[Float | None, Field(description="Constant for the bias, overriding the spec's init.")]


class _Biased(Layer):
    """A layer with an optional bias; subclasses declare ``bias: StrictBool = True`` and
    ``bias_init: BiasInit = None`` after their own fields (the order the spec reference lists them)."""

    def rule_problems(self) -> list[tuple[str, str]]:
        return [("bias_init", "bias_init needs bias: true")] if self.bias_init is not None and not self.bias else []

    def sets_channels(self) -> bool:
        return True

    def bias_override(self) -> float | None:
        return self.bias_init


class Conv(_Biased):
    """2-D convolution (nn.Conv2d); with groups, each group of outputs sees only its share of the inputs."""

    kind: Literal["conv"]
    family = "conv"
    torch_classes = ("torch.nn.Conv2d",)
    example: ClassVar[dict] = {"out_channels": 6, "kernel_size": 3, "stride": 2, "padding": 1}
    table_row = True
    out_channels: Positive
    kernel_size: PositivePair
    stride: PositivePair = (1, 1)
    padding: NonNegativePair = (0, 0)
    dilation: PositivePair = (1, 1)
    groups: Positive = 1
    bias: StrictBool = True
    bias_init: BiasInit = None

    @classmethod
    def from_torch(cls, module) -> dict:
        if isinstance(module.padding, str) or module.padding_mode != "zeros":
            raise NotExpressible(f"padding={module.padding!r}, padding_mode={module.padding_mode!r} (a spec writes "
                                 "numeric zero padding)")
        return {"out_channels": module.out_channels, "kernel_size": module.kernel_size, "stride": module.stride,
                "padding": module.padding, "dilation": module.dilation, "groups": module.groups,
                "bias": module.bias is not None}

    def rule_problems(self) -> list[tuple[str, str]]:
        problems = super().rule_problems()
        if self.out_channels % self.groups:
            problems.append(("groups", f"groups {self.groups} does not divide the {self.out_channels} output channels"))
        return problems

    def infer(self, shape: Shape) -> Inferred:
        h, w = slide(self, shape, self.kernel_size, self.stride, self.padding, self.dilation)
        if shape[0] % self.groups:
            raise ShapeError("groups", f"groups {self.groups} does not divide the {shape[0]} input channels")
        kh, kw = self.kernel_size
        weights = self.out_channels * (shape[0] // self.groups) * kh * kw
        return Inferred((self.out_channels, h, w), weights, self.out_channels if self.bias else 0,
                        (self.kernel_span(), self.stride))

    def macs(self, inferred: Inferred) -> int:
        return inferred.output[1] * inferred.output[2] * inferred.weights

    def kernel_span(self) -> tuple[int, int]:
        return dilated(self.kernel_size, self.dilation)

    def sets_channels(self) -> bool:
        return self.groups == 1  # with groups, the class count would have to be a multiple of them

    def channel_groups(self) -> int:
        return self.groups

    def channels_expr(self, inputs: list[str]) -> str:
        return str(self.out_channels)

    def torch_module(self, shape: Shape, in_channels: str, out: str | None) -> str:
        return (f"nn.Conv2d({in_channels}, {out or self.out_channels}, kernel_size={size_arg(self.kernel_size)}"
                + kwargs(stride=size_arg(self.stride) if self.stride != (1, 1) else None,
                         padding=size_arg(self.padding) if self.padding != (0, 0) else None,
                         dilation=size_arg(self.dilation) if self.dilation != (1, 1) else None,
                         groups=self.groups if self.groups != 1 else None,
                         bias=None if self.bias else "False") + ")")

    def filter_text(self, shape: Shape) -> str:
        kh, kw = self.kernel_size
        text = f"{self.out_channels}x{shape[0] // self.groups}x{kh}x{kw}"
        if self.stride != (1, 1):
            text += f", /{fmt_size(self.stride)}"
        return text + (f", {self.groups} groups" if self.groups > 1 else "")

    def diagram_label(self, output: Shape) -> str:
        text = f"{fmt_hxw(self.kernel_size)} conv, {self.out_channels}{stride_note(self.stride)}"
        if self.dilation != (1, 1):
            text += f", dilation {fmt_size(self.dilation)}"
        return text + (f", {self.groups} groups" if self.groups > 1 else "")


class Linear(_Biased):
    """Fully connected layer (nn.Linear) on a flat input."""

    kind: Literal["linear"]
    family = "fc"
    torch_classes = ("torch.nn.Linear",)
    example: ClassVar[dict] = {"out_features": 5}
    table_row = True
    out_features: Positive
    bias: StrictBool = True
    bias_init: BiasInit = None

    @classmethod
    def from_torch(cls, module) -> dict:
        return {"out_features": module.out_features, "bias": module.bias is not None}

    def infer(self, shape: Shape) -> Inferred:
        need_vector(self, shape)
        return Inferred((self.out_features,), self.out_features * shape[0], self.out_features if self.bias else 0)

    def macs(self, inferred: Inferred) -> int:
        return inferred.weights

    def channel_groups(self) -> int:
        return 1

    def channels_expr(self, inputs: list[str]) -> str:
        return str(self.out_features)

    def torch_module(self, shape: Shape, in_channels: str, out: str | None) -> str:
        return f"nn.Linear({in_channels}, {out or self.out_features}" + kwargs(bias=None if self.bias else "False") + ")"

    def filter_text(self, shape: Shape) -> str:
        return f"{self.out_features}x{shape[0]}"

    def diagram_label(self, output: Shape) -> str:
        return f"fc, {self.out_features}"
