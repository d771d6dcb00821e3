"""Pooling: windows of max or average, and the adaptive average pool that fixes the output size."""

from __future__ import annotations

from typing import ClassVar, Literal

from pydantic import Field, StrictBool

from ..formatting import fmt_hxw, fmt_size
from .base import Inferred, Layer, NotExpressible, Shape, ShapeError, need_maps
from .fields import NonNegativePair, PositivePair
from .geometry import dilated, slide
from .weighted import kwargs, size_arg, stride_note


class _Pool(Layer):
    family = "pool"
    table_row = True
    kernel_size: PositivePair
    stride: PositivePair | None = Field(None, description="Defaults to kernel_size, as in PyTorch.")
    padding: NonNegativePair = (0, 0)
    ceil_mode: StrictBool = False

    def rule_problems(self) -> list[tuple[str, str]]:
        if any(p > k // 2 for k, p in zip(self.kernel_size, self.padding, strict=True)):
            return [("padding", f"padding {fmt_size(self.padding)} must be at most half the kernel "
                                f"{fmt_hxw(self.kernel_size)} (PyTorch refuses more)")]
        return []

    @property
    def window_stride(self) -> tuple[int, int]:
        """The stride in effect: PyTorch's default is the kernel size."""
        return self.stride or self.kernel_size

    @property
    def window_dilation(self) -> tuple[int, int]:
        return (1, 1)

    def infer(self, shape: Shape) -> Inferred:
        h, w = slide(self, shape, self.kernel_size, self.window_stride, self.padding, self.window_dilation,
                     self.ceil_mode)
        return Inferred((shape[0], h, w), window=(self.kernel_span(), self.window_stride))

    def kernel_span(self) -> tuple[int, int]:
        return dilated(self.kernel_size, self.window_dilation)

    @classmethod
    def _window_from_torch(cls, module) -> dict:
        """kernel_size, stride (left out when it is the kernel size, PyTorch's default), padding, ceil_mode."""
        def pair(value) -> tuple:  # torch keeps what it was given: 3 or (3, 3)
            return (value, value) if isinstance(value, int) else tuple(value)

        kernel, stride = pair(module.kernel_size), pair(module.stride)
        return {"kernel_size": kernel, **({} if stride == kernel else {"stride": stride}),
                "padding": module.padding, "ceil_mode": module.ceil_mode}

    def _module(self, cls: str, **extra) -> str:
        stride = self.window_stride
        return (f"{cls}(kernel_size={size_arg(self.kernel_size)}"
                + kwargs(stride=size_arg(stride) if stride != self.kernel_size else None,
                         padding=size_arg(self.padding) if self.padding != (0, 0) else None,
                         **extra, ceil_mode="True" if self.ceil_mode else None) + ")")

    def filter_text(self, shape: Shape) -> str:
        text = f"{fmt_hxw(self.kernel_size)}, /{fmt_size(self.window_stride)}"
        if self.padding != (0, 0):
            text += f", pad {fmt_size(self.padding)}"
        if self.window_dilation != (1, 1):
            text += f", dilation {fmt_size(self.window_dilation)}"
        return text + (", ceil" if self.ceil_matters(shape) else "")

    def ceil_matters(self, shape: Shape) -> bool:
        """True when ``ceil_mode`` changes the output size of this input (it keeps a last, partial window)."""
        if not self.ceil_mode:
            return False
        floor = self.model_copy(update={"ceil_mode": False})
        try:
            return self.infer(shape).output != floor.infer(shape).output
        except ShapeError:  # rounded down, the window would not fit at all
            return True


class MaxPool(_Pool):
    """Maximum over each window (nn.MaxPool2d); the paper overlaps windows: kernel 3, stride 2."""

    kind: Literal["maxpool"]
    example: ClassVar[dict] = {"kernel_size": 3, "stride": 2}
    dilation: PositivePair = (1, 1)
    torch_classes = ("torch.nn.MaxPool2d",)

    @classmethod
    def from_torch(cls, module) -> dict:
        if module.return_indices:
            raise NotExpressible("return_indices=True (a layer of a spec returns one tensor)")
        return {**cls._window_from_torch(module), "dilation": module.dilation}

    @property
    def window_dilation(self) -> tuple[int, int]:
        return self.dilation

    def torch_module(self, shape: Shape, in_channels: str, out: str | None) -> str:
        return self._module("nn.MaxPool2d", dilation=size_arg(self.dilation) if self.dilation != (1, 1) else None)

    def diagram_label(self, output: Shape) -> str:
        dilation = f", dilation {fmt_size(self.dilation)}" if self.dilation != (1, 1) else ""
        return f"{fmt_hxw(self.kernel_size)} max pool{stride_note(self.window_stride)}{dilation}"


class AvgPool(_Pool):
    """Mean over each window (nn.AvgPool2d)."""

    kind: Literal["avgpool"]
    example: ClassVar[dict] = {"kernel_size": 2}
    torch_classes = ("torch.nn.AvgPool2d",)

    @classmethod
    def from_torch(cls, module) -> dict:
        if not module.count_include_pad or module.divisor_override is not None:
            raise NotExpressible(f"count_include_pad={module.count_include_pad}, divisor_override="
                                 f"{module.divisor_override} (a spec averages over the padded window)")
        return cls._window_from_torch(module)

    def torch_module(self, shape: Shape, in_channels: str, out: str | None) -> str:
        return self._module("nn.AvgPool2d")

    def diagram_label(self, output: Shape) -> str:
        return f"{fmt_hxw(self.kernel_size)} avg pool{stride_note(self.window_stride)}"


class AdaptiveAvgPool(Layer):
    """Mean over windows chosen to give a fixed output size (nn.AdaptiveAvgPool2d)."""

    kind: Literal["adaptive_avgpool"]
    family = "pool"
    table_row = True
    output_size: PositivePair
    example: ClassVar[dict] = {"output_size": 2}
    torch_classes = ("torch.nn.AdaptiveAvgPool2d",)

    @classmethod
    def from_torch(cls, module) -> dict:
        size = module.output_size
        if size is None or (isinstance(size, tuple) and None in size):
            raise NotExpressible(f"output_size={size!r} (a spec fixes both output sizes)")
        return {"output_size": size}

    def infer(self, shape: Shape) -> Inferred:
        need_maps(self, shape)
        # Windows vary in size; the largest one and the mean step bound the receptive field.
        pairs = list(zip(shape[1:], self.output_size, strict=True))
        kernel = tuple(1 if size == out else -(-size // out) + (size % out != 0) for size, out in pairs)
        stride = tuple(max(size // out, 1) for size, out in pairs)
        return Inferred((shape[0], *self.output_size), window=(kernel, stride))

    def torch_module(self, shape: Shape, in_channels: str, out: str | None) -> str:
        return f"nn.AdaptiveAvgPool2d({tuple(self.output_size)!r})"

    def filter_text(self, shape: Shape) -> str:
        return f"to {fmt_hxw(self.output_size)}"

    def diagram_label(self, output: Shape) -> str:
        return f"adaptive avg pool, to {fmt_hxw(self.output_size)}"
