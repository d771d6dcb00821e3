"""Layers that move, add or drop values without learning: flatten, dropout and zero padding."""

from __future__ import annotations

import math
from typing import Annotated, Any, ClassVar, Literal

from pydantic import BeforeValidator, Field

from .base import Inferred, Layer, NotExpressible, Shape, need_maps, no_inplace
from .fields import Fraction, NonNegative


class Flatten(Layer):
    """(C, H, W) maps to one vector of C*H*W features."""

    kind: Literal["flatten"]
    family = "reshape"
    functional = "torch.flatten({x}, 1)"  # torchvision's style between features and classifier
    may_alias_input = True  # torch.flatten returns a view
    in_blocks = False  # its output size is the product of a shape, which a block class does not know
    torch_classes = ("torch.nn.Flatten",)

    @classmethod
    def from_torch(cls, module) -> dict:
        if (module.start_dim, module.end_dim) != (1, -1):
            raise NotExpressible(f"start_dim={module.start_dim}, end_dim={module.end_dim} (a spec flattens all "
                                 "but the batch dimension)")
        return {}

    def infer(self, shape: Shape) -> Inferred:
        return Inferred((math.prod(shape),))

    def torch_module(self, shape: Shape, in_channels: str, out: str | None) -> str:
        return "nn.Flatten()"

    def diagram_label(self, output: Shape) -> str:
        return "flatten"


class Dropout(Layer):
    """Zeroes each value with probability p while training, scaling the rest by 1/(1-p)."""

    kind: Literal["dropout"]
    family = "dropout"
    may_alias_input = True  # in eval mode it returns its input
    elementwise = True
    p: Fraction = 0.5
    torch_classes = ("torch.nn.Dropout",)

    @classmethod
    def from_torch(cls, module) -> dict:
        no_inplace(module)
        return {"p": module.p}

    def torch_module(self, shape: Shape, in_channels: str, out: str | None) -> str:
        return f"nn.Dropout(p={self.p!r})"

    def diagram_label(self, output: Shape) -> str:
        return f"dropout {self.p:g}"


def _four_sides(value: Any) -> Any:
    """``2`` -> ``(2, 2, 2, 2)``; a list -> a tuple; anything else is left for pydantic to reject."""
    if isinstance(value, int) and not isinstance(value, bool):
        return (value,) * 4
    return tuple(value) if isinstance(value, list) else value


FourSides = tuple[NonNegative, NonNegative, NonNegative, NonNegative]


class ZeroPad(Layer):
    """Adds rows and columns of zeros around each map (nn.ZeroPad2d)."""

    kind: Literal["zero_pad"]
    family = "reshape"
    table_row = True
    example: ClassVar[dict] = {"padding": [1, 2, 0, 3]}
    torch_classes = ("torch.nn.ZeroPad2d",)
    padding: Annotated[FourSides, BeforeValidator(_four_sides, json_schema_input_type=NonNegative | FourSides)] = Field(
        description="Zeros added on each side: one integer for all four, or [left, right, top, bottom] "
                          "as in PyTorch's ZeroPad2d.")

    @classmethod
    def from_torch(cls, module) -> dict:
        return {"padding": list(module.padding)}  # (left, right, top, bottom), as the spec writes it

    def infer(self, shape: Shape) -> Inferred:
        c, h, w = need_maps(self, shape)
        left, right, top, bottom = self.padding
        return Inferred((c, h + top + bottom, w + left + right))

    def torch_module(self, shape: Shape, in_channels: str, out: str | None) -> str:
        same = len(set(self.padding)) == 1
        return f"nn.ZeroPad2d({self.padding[0] if same else tuple(self.padding)!r})"

    def filter_text(self, shape: Shape) -> str:
        return "pad " + ", ".join(map(str, self.padding))

    def diagram_label(self, output: Shape) -> str:
        same = len(set(self.padding)) == 1
        return f"zero pad {self.padding[0]}" if same else "zero pad " + "/".join(map(str, self.padding))
