"""Layers that move or drop values without learning: flatten and dropout."""

from __future__ import annotations

import math
from typing import Literal

from .base import Inferred, Layer, Shape
from .fields import Fraction


class Flatten(Layer):
    kind: Literal["flatten"]
    family = "reshape"
    functional = "torch.flatten(x, 1)"  # torchvision's style between features and classifier

    def infer(self, shape: Shape) -> Inferred:
        return Inferred((math.prod(shape),))

    def torch_module(self, shape: Shape, in_channels: str, out: str | None) -> str:
        return "nn.Flatten()"

    def diagram_label(self, output: Shape) -> str:
        return "flatten"


class Dropout(Layer):
    kind: Literal["dropout"]
    family = "dropout"
    elementwise = True
    p: Fraction = 0.5

    def torch_module(self, shape: Shape, in_channels: str, out: str | None) -> str:
        return f"nn.Dropout(p={self.p!r})"

    def diagram_label(self, output: Shape) -> str:
        return f"dropout {self.p:g}"
