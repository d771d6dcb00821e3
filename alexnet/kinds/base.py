"""What every layer kind is: a validated spec entry that also knows its shapes, counts and renderings.

A kind is one subclass of :class:`Layer` with a ``kind: Literal[...]`` field. Defining the class registers
it (``Layer.registry``); the spec's schema, the analysis, the generated code and the diagrams ask the
class, so adding a kind means adding one class.
"""

from __future__ import annotations

import typing
from dataclasses import dataclass
from typing import Annotated, Any, ClassVar

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field

from ..formatting import fmt_chw
from .fields import IDENTIFIER, Text

Shape = tuple[int, ...]
PARAMETER = r"^\$[A-Za-z_][A-Za-z0-9_]*$"  # a block argument, written $name where a value goes


def _as_list(value: Any) -> Any:
    return [value] if isinstance(value, str) else value


Inputs = Annotated[list[Annotated[str, Field(pattern=IDENTIFIER, max_length=64)]] | None,
                   BeforeValidator(_as_list, json_schema_input_type=str | list[str] | None)]


class NotExpressible(ValueError):
    """A torch module whose settings a kind cannot write (``from_torch``); the message says which."""


class ShapeError(Exception):
    """A layer cannot take the shape it is given; ``key`` is the field to point at."""

    def __init__(self, key: str, message: str):
        super().__init__(message)
        self.key, self.message = key, message


@dataclass(frozen=True)
class Inferred:
    """What a layer makes of its input: output shape, parameter counts and, for sliding windows, the
    (kernel span, stride) pair that grows the receptive field."""

    output: Shape
    weights: int = 0
    biases: int = 0
    window: tuple[tuple[int, int], tuple[int, int]] | None = None


class Layer(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    registry: ClassVar[dict[str, type[Layer]]] = {}
    family: ClassVar[str]           # colour family of the diagrams (tools/svg/labels.py FAMILIES)
    elementwise: ClassVar[bool] = False  # output shape is always the input shape
    table_row: ClassVar[bool] = False    # gets a row in the seed's table and a volume in the detailed diagram
    imports: ClassVar[tuple[str, ...]] = ()  # lines the generated module needs for this kind
    functional: ClassVar[str | None] = None  # a lone layer in a section is written as this call on {x}
    example: ClassVar[dict] = {}  # the keys besides name and kind of a typical layer (tests build one per kind)
    saves_output: ClassVar[bool] = False  # its backward reads its output, so no later layer may overwrite it
    may_alias_input: ClassVar[bool] = False  # may return its input itself or a view of it (dropout in eval, flatten)
    module_free: ClassVar[bool] = False  # written into forward (add, concat): no attribute, no parameters
    in_blocks: ClassVar[bool] = True  # may be used in a block (whose class computes channel counts as code)
    # The torch module classes this kind writes and reads back ("torch.nn.Conv2d"): strings, so that the kinds
    # never import torch; `python -m alexnet import` resolves them.
    torch_classes: ClassVar[tuple[str, ...]] = ()

    name: Annotated[str, Field(pattern=IDENTIFIER, max_length=64, description="Unique identifier, e.g. conv1.")]
    display: Text | None = Field(None, description="Label in the parameter table, e.g. Conv1.")
    inputs: Inputs = Field(None, alias="from", description="The layers this one reads, by name (default: the one "
                           "before it); `input` is the input of the network or of the block.")
    when: Annotated[str, Field(pattern=PARAMETER)] | None = Field(
        None, description="In a block, `$flag` (a true/false argument): when false the layer is left out and its "
                          "input passes on unchanged.")

    @classmethod
    def __pydantic_init_subclass__(cls, **kwargs: Any) -> None:
        super().__pydantic_init_subclass__(**kwargs)
        field = cls.model_fields.get("kind")
        if field is not None:
            for kind in typing.get_args(field.annotation):
                Layer.registry[kind] = cls

    @property
    def display_name(self) -> str:
        """What tables and diagrams call the layer."""
        return self.display or self.name

    def rule_problems(self) -> list[tuple[str, str]]:
        """(field, message) for each rule of this kind its values break; checked with the shapes, so that
        every problem of a spec is reported at once."""
        return []

    # --- shapes and counts ---------------------------------------------------------------------------------
    arity: ClassVar[tuple[int, int | None]] = (1, 1)  # how many inputs: (at least, at most or None)

    def infer(self, shape: Shape) -> Inferred:
        """Output shape and counts for an input of ``shape``; raise :class:`ShapeError` if it cannot work."""
        return Inferred(shape)

    def infer_inputs(self, shapes: list[Shape]) -> Inferred:
        """Like :meth:`infer`, for a layer reading several inputs (merges override it)."""
        return self.infer(shapes[0])

    def torch_call(self, attribute: str, args: list[str]) -> str:
        """The forward expression applying this layer (held in ``attribute``) to the variables ``args``."""
        return f"{attribute}({args[0]})"

    def channels_expr(self, inputs: list[str]) -> str:
        """Its output channel count as code, from its inputs' (``in_channels``, ``planes``...): for block classes."""
        return inputs[0]

    def macs(self, inferred: Inferred) -> int:
        """Multiply-accumulates per image (DESIGN.md's convention: bias and elementwise work excluded)."""
        return 0

    def kernel_span(self) -> tuple[int, int] | None:
        """Input positions one output sees along H and W (dilation included), for windowed layers."""
        return None

    def overwrites_input(self) -> bool:
        """True for an in-place layer: it writes its output over its input tensor."""
        return False

    def sets_channels(self) -> bool:
        """True when the layer's output size is a free argument (so it can be a classifier's last layer)."""
        return False

    def bias_override(self) -> float | None:
        """The constant the spec sets this layer's bias to (``bias_init``), overriding the spec's init."""
        return None

    def channel_groups(self) -> int | None:
        """How its inputs mix channels: None for channel by channel, else the number of groups (1: all)."""
        return None

    # --- from a torch module (`python -m alexnet import`) ----------------------------------------------------
    @classmethod
    def from_torch(cls, module: Any) -> dict:
        """The spec keys (besides name and kind) of ``module``, an instance of one of :attr:`torch_classes`;
        raise :class:`NotExpressible` for settings the kind cannot write. Kinds with fields override this."""
        no_inplace(module)
        return {}

    # --- renderings ----------------------------------------------------------------------------------------
    def torch_module(self, shape: Shape, in_channels: str, out: str | None) -> str:
        """The constructor call in the generated model; ``in_channels`` and ``out`` are expressions
        (``out`` is given only to a layer that :meth:`sets_channels`)."""
        raise NotImplementedError

    def filter_text(self, shape: Shape) -> str:
        """The "filter" cell of the parameter table for an input of ``shape``."""
        return ""

    def diagram_label(self, output: Shape) -> str:
        """The box label of the diagrams, in the seed's style (``11x11 conv, 96, /4``)."""
        raise NotImplementedError


def no_inplace(module: Any) -> None:
    if getattr(module, "inplace", False):
        raise NotExpressible("inplace=True (a spec writes it only for relu)")


def need_maps(layer: Layer, shape: Shape) -> Shape:
    if len(shape) != 3:
        raise ShapeError("kind", f"{layer.kind} needs a (C, H, W) input, got {fmt_chw(shape)}")
    return shape


def need_vector(layer: Layer, shape: Shape) -> Shape:
    if len(shape) != 1:
        raise ShapeError("kind", f"{layer.kind} needs a flat input, got {fmt_chw(shape)}: add a flatten layer first")
    return shape
