"""Sliding-window arithmetic shared by convolutions and pooling, as PyTorch computes it."""

from __future__ import annotations

from ..formatting import fmt_hxw, fmt_size
from .base import Layer, Shape, ShapeError, need_maps


def output_size(size: int, kernel: int, stride: int, padding: int, dilation: int = 1, ceil: bool = False) -> int:
    """Output length along one axis of a convolution or pooling window."""
    span = size + 2 * padding - dilation * (kernel - 1) - 1
    if ceil:
        out = -(-span // stride) + 1
        if (out - 1) * stride >= size + padding:  # PyTorch: the last window must start inside the input
            out -= 1
    else:
        out = span // stride + 1
    return out


def dilated(kernel: tuple[int, int], dilation: tuple[int, int]) -> tuple[int, int]:
    """Input positions a dilated kernel spans: d*(k-1)+1 per axis."""
    return (dilation[0] * (kernel[0] - 1) + 1, dilation[1] * (kernel[1] - 1) + 1)


def slide(layer: Layer, shape: Shape, kernel, stride, padding, dilation, ceil: bool = False) -> tuple[int, int]:
    """Output height and width of a window sliding over a (C, H, W) input; ShapeError if it does not fit."""
    need_maps(layer, shape)
    out = []
    for size, k, s, p, d in zip(shape[1:], kernel, stride, padding, dilation, strict=True):
        length = output_size(size, k, s, p, d, ceil)
        if length < 1:  # with ceil_mode a window wider than the padded input still gives one output, as in PyTorch
            note = f" with dilation {fmt_size(dilation)}" if dilation != (1, 1) else ""
            raise ShapeError("kernel_size", f"the {fmt_hxw(kernel)} kernel{note} does not fit the "
                                            f"{shape[1]}x{shape[2]} input with padding {fmt_size(padding)}: "
                                            "the output would be empty")
        out.append(length)
    return out[0], out[1]
