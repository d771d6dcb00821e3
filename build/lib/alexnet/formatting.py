"""How figures are printed, in one place. Each name says what it prints.

Shapes are (C, H, W) for feature maps and (features,) for vectors, as the analysis stores them.
"""

from __future__ import annotations


def fmt_chw(shape: tuple[int, ...]) -> str:
    """PyTorch's order without the batch: ``96x55x55`` (channels x height x width), or ``4096`` for a vector."""
    return "x".join(map(str, shape))


def fmt_hwc(shape: tuple[int, ...]) -> str:
    """The seed table's order: ``55x55x96`` (height x width x channels), or ``4096`` for a vector."""
    if len(shape) == 3:
        c, h, w = shape
        return f"{h}x{w}x{c}"
    return fmt_chw(shape)


def fmt_hxw(pair: tuple[int, int]) -> str:
    """A window or map size, always both sides: ``3x3``, ``3x5``."""
    return f"{pair[0]}x{pair[1]}"


def fmt_size(pair: tuple[int, int]) -> str:
    """A size, stride or padding: ``3`` when square, ``3x5`` otherwise."""
    return str(pair[0]) if pair[0] == pair[1] else fmt_hxw(pair)


def fmt_rf(rf: tuple[int, int] | None) -> str:
    """A receptive field: its size, or ``all`` once every output sees the whole input."""
    return "all" if rf is None else fmt_size(rf)


def fmt_number(value: float) -> str:
    """A constant as a reader writes it: ``0.0001``, ``1e-05``, ``0.5``, ``2``."""
    return f"{value:g}"
