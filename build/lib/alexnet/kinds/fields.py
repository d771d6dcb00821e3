"""Field types shared by the spec and its layer kinds: sizes, pairs, numbers, plain text.

Sizes accept an integer or an ``[height, width]`` pair, as PyTorch's arguments do.
"""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import BeforeValidator, Field, StrictInt

IDENTIFIER = r"^[A-Za-z_][A-Za-z0-9_]*$"
SPEC_NAME = r"^[a-z][a-z0-9_]*$"  # also a file name: no "/", no "..", nothing a shell or a URL treats specially
CLASS_NAME = r"^[A-Z][A-Za-z0-9_]*$"
# Text shown to readers (titles, table labels). Escaped on output anyway; this keeps it plain.
PLAIN_TEXT = r"^[A-Za-z0-9 _.,:;()/+'\"#&*-]*$"


def _pair(value: Any) -> Any:
    """``3`` -> ``(3, 3)``; ``[3, 5]`` -> ``(3, 5)``; anything else is left for pydantic to reject."""
    if isinstance(value, int) and not isinstance(value, bool):
        return (value, value)
    if isinstance(value, list):
        return tuple(value)
    return value


def _no_bool(value: Any) -> Any:
    if isinstance(value, bool):
        raise ValueError("expected a number, not a boolean")
    return value


# Sizes stay below 2^31 (PyTorch's int32 kernels); it also keeps every product short enough to print.
MAX_SIZE = 2**31 - 1
Positive = Annotated[StrictInt, Field(gt=0, le=MAX_SIZE)]
NonNegative = Annotated[StrictInt, Field(ge=0, le=MAX_SIZE)]
# The JSON schema says "an integer, or a pair of them", as a spec may write either.
PositivePair = Annotated[tuple[Positive, Positive],
                         BeforeValidator(_pair, json_schema_input_type=Positive | tuple[Positive, Positive])]
NonNegativePair = Annotated[tuple[NonNegative, NonNegative],
                            BeforeValidator(_pair, json_schema_input_type=NonNegative | tuple[NonNegative, NonNegative])]


def number(**bounds: float) -> Any:
    """A finite number with ``bounds`` (``gt``, ``ge``, ``le``) on the number itself, so that the JSON schema
    states them as ``exclusiveMinimum``, ``minimum``, ``maximum`` (bounds added on top of a validator are not)."""
    return Annotated[float, Field(strict=False, allow_inf_nan=False, **bounds), BeforeValidator(_no_bool)]


Float = number()
FloatPositive = number(gt=0)
Fraction = number(ge=0, le=1)
Text = Annotated[str, Field(pattern=PLAIN_TEXT, max_length=80)]
