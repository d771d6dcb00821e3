"""Layers that join branches: the element-wise sum of residual networks and the channel concatenation of
Inception modules. They hold no module: the generated forward adds or concatenates the tensors itself."""

from __future__ import annotations

from typing import ClassVar, Literal

from ..formatting import fmt_chw
from .base import Inferred, Layer, Shape, ShapeError


class _Merge(Layer):
    family = "merge"
    arity: ClassVar[tuple[int, int | None]] = (2, None)
    module_free: ClassVar[bool] = True
    example: ClassVar[dict] = {"from": ["input", "input"]}

    def infer(self, shape: Shape) -> Inferred:
        return self.infer_inputs([shape])

    def torch_module(self, shape: Shape, in_channels: str, out: str | None) -> str:
        raise TypeError(f"{self.kind} has no module: it is written into forward")


class Add(_Merge):
    """Element-wise sum of inputs of one shape: the residual connection of ResNet (He et al. 2015)."""

    kind: Literal["add"]

    def infer_inputs(self, shapes: list[Shape]) -> Inferred:
        if any(shape != shapes[0] for shape in shapes):
            raise ShapeError("from", "add needs inputs of one shape, got " + " and ".join(map(fmt_chw, shapes)))
        return Inferred(shapes[0])

    def torch_call(self, attribute: str, args: list[str]) -> str:
        return " + ".join(args)

    def diagram_label(self, output: Shape) -> str:
        return "add"


class Concat(_Merge):
    """Inputs joined along the channels, as the Inception module joins its branches (Szegedy et al. 2014)."""

    kind: Literal["concat"]

    def infer_inputs(self, shapes: list[Shape]) -> Inferred:
        rest = {shape[1:] for shape in shapes}
        if len(rest) > 1 or len({len(s) for s in shapes}) > 1:
            raise ShapeError("from", "concat needs inputs that differ only in channels, got "
                                     + " and ".join(map(fmt_chw, shapes)))
        return Inferred((sum(shape[0] for shape in shapes), *shapes[0][1:]))

    def torch_call(self, attribute: str, args: list[str]) -> str:
        return f"torch.cat([{', '.join(args)}], 1)"

    def channels_expr(self, inputs: list[str]) -> str:
        return "(" + " + ".join(inputs) + ")"

    def diagram_label(self, output: Shape) -> str:
        return "concat"
