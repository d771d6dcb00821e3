"""The spec format: a network as named sections of layers, validated with pydantic.

The vocabulary is generic (nothing here knows about AlexNet). Field names follow PyTorch's
(``out_channels``, ``kernel_size``, ...) so a spec reads like the module it becomes. Sizes accept an
integer or an ``[height, width]`` pair. ``spec/schema.json`` is generated from these classes.
"""

from __future__ import annotations

import difflib
import keyword
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    PrivateAttr,
    StrictBool,
    StrictInt,
    ValidationError,
    model_validator,
)

from .source import Problem, Source, SpecError, read_source

IDENTIFIER = r"^[A-Za-z_][A-Za-z0-9_]*$"
# Text shown to readers (titles, table labels). Escaped on output anyway; this keeps it plain.
PLAIN_TEXT = r"^[A-Za-z0-9 _.,:;()/+'\"#&*-]*$"
# Attributes an nn.Module already has: a section with one of these names would shadow it.
RESERVED_SECTIONS = frozenset("""
    forward training train eval to cuda cpu half float double type apply modules children parameters buffers
    state_dict load_state_dict zero_grad register_buffer register_module add_module requires_grad_ named_parameters
    named_modules named_children named_buffers extra_repr reset_parameters dump_patches call_super_init
    get_submodule get_parameter get_buffer compile share_memory
""".split())


def _pair(value: Any) -> Any:
    """``3`` -> ``(3, 3)``; ``[3, 5]`` -> ``(3, 5)``; anything else is left for pydantic to reject."""
    if isinstance(value, int) and not isinstance(value, bool):
        return (value, value)
    if isinstance(value, list):
        return tuple(value)
    return value


Positive = Annotated[StrictInt, Field(gt=0)]
NonNegative = Annotated[StrictInt, Field(ge=0)]
PositivePair = Annotated[tuple[Positive, Positive], BeforeValidator(_pair)]
NonNegativePair = Annotated[tuple[NonNegative, NonNegative], BeforeValidator(_pair)]
Number = Annotated[float, Field(strict=False, allow_inf_nan=False)]
PositiveNumber = Annotated[float, Field(gt=0, allow_inf_nan=False)]
Text = Annotated[str, Field(pattern=PLAIN_TEXT, max_length=80)]


def _no_bool(value: Any) -> Any:
    if isinstance(value, bool):
        raise ValueError("expected a number, not a boolean")
    return value


Float = Annotated[Number, BeforeValidator(_no_bool)]
FloatPositive = Annotated[PositiveNumber, BeforeValidator(_no_bool)]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class _Layer(_Strict):
    name: Annotated[str, Field(pattern=IDENTIFIER, max_length=64, description="Unique identifier, e.g. conv1.")]
    display: Text | None = Field(None, description="Label in the parameter table, e.g. Conv1.")


class Conv(_Layer):
    kind: Literal["conv"]
    out_channels: Positive
    kernel_size: PositivePair
    stride: PositivePair = (1, 1)
    padding: NonNegativePair = (0, 0)
    dilation: PositivePair = (1, 1)
    groups: Positive = 1
    bias: StrictBool = True
    bias_init: Float | None = Field(None, description="Constant for the bias, overriding the spec's init.")


class Linear(_Layer):
    kind: Literal["linear"]
    out_features: Positive
    bias: StrictBool = True
    bias_init: Float | None = Field(None, description="Constant for the bias, overriding the spec's init.")


class Activation(_Layer):
    kind: Literal["relu", "tanh", "sigmoid"]
    inplace: StrictBool = Field(False, description="ReLU only: overwrite the input (as torchvision does).")


class LRN(_Layer):
    kind: Literal["lrn"]
    size: Positive = Field(description="n, the number of neighbouring channels summed over.")
    alpha: FloatPositive
    beta: FloatPositive
    k: Annotated[Float, Field(ge=0)]
    convention: Literal["paper", "divided_by_n"] = Field(
        description="paper: b = a / (k + alpha * sum a^2)^beta, as printed in Krizhevsky et al. 2012 "
        "(TensorFlow's convention). divided_by_n: alpha is divided by size first, as in PyTorch, Caffe, "
        "cuda-convnet and ONNX."
    )


class MaxPool(_Layer):
    kind: Literal["maxpool"]
    kernel_size: PositivePair
    stride: PositivePair | None = Field(None, description="Defaults to kernel_size, as in PyTorch.")
    padding: NonNegativePair = (0, 0)
    dilation: PositivePair = (1, 1)
    ceil_mode: StrictBool = False


class AvgPool(_Layer):
    kind: Literal["avgpool"]
    kernel_size: PositivePair
    stride: PositivePair | None = Field(None, description="Defaults to kernel_size, as in PyTorch.")
    padding: NonNegativePair = (0, 0)
    ceil_mode: StrictBool = False


class AdaptiveAvgPool(_Layer):
    kind: Literal["adaptive_avgpool"]
    output_size: PositivePair


class Flatten(_Layer):
    kind: Literal["flatten"]


class Dropout(_Layer):
    kind: Literal["dropout"]
    p: Annotated[Float, Field(ge=0, le=1)] = 0.5


class BatchNorm(_Layer):
    kind: Literal["batchnorm"]
    eps: FloatPositive = 1e-5
    momentum: Annotated[Float, Field(ge=0, le=1)] = 0.1


Layer = Annotated[
    Conv | Linear | Activation | LRN | MaxPool | AvgPool | AdaptiveAvgPool | Flatten | Dropout | BatchNorm,
    Field(discriminator="kind"),
]
LAYER_KINDS = ("conv", "linear", "relu", "tanh", "sigmoid", "lrn", "maxpool", "avgpool", "adaptive_avgpool",
               "flatten", "dropout", "batchnorm")


class Init(_Strict):
    """How weights start. ``default`` keeps PyTorch's; ``normal`` draws N(0, std) as the 2012 paper did."""

    weights: Literal["default", "normal"] = "default"
    std: FloatPositive = 0.01
    bias: Float = 0.0


class Spec(_Strict):
    """A network: metadata plus ordered sections of layers."""

    name: Annotated[str, Field(pattern=r"^[a-z][a-z0-9_]*$", max_length=64,
                               description="Must equal the file name without .yaml.")]
    title: Text
    description: Annotated[str, Field(pattern=PLAIN_TEXT, max_length=400)] = ""
    class_name: Annotated[str, Field(pattern=r"^[A-Z][A-Za-z0-9_]*$", max_length=64)]
    input: Annotated[list[Positive], Field(min_length=1, max_length=3,
                                           description="[channels, height, width] or [features].")]
    num_classes: Positive
    init: Init = Init()
    sections: Annotated[dict[str, Annotated[list[Layer], Field(min_length=1)]], Field(min_length=1)] = Field(
        description="Each section becomes an attribute of the model: an nn.Sequential, the module itself when "
        "it holds one layer, or torch.flatten(x, 1) when it holds one flatten layer."
    )

    _source: Source | None = PrivateAttr(None)

    @model_validator(mode="after")
    def _check_names(self) -> Spec:
        for section in self.sections:
            if not section.isidentifier() or keyword.iskeyword(section) or section.startswith("_") \
                    or section in RESERVED_SECTIONS:
                raise ValueError(f"section name {section!r} cannot be a model attribute")
        return self

    @property
    def file(self) -> str:
        return self._source.file if self._source else f"{self.name}.yaml"

    def layers(self) -> list[tuple[str, int, Any]]:
        """Every layer in order as ``(section, index in section, layer)``."""
        return [(s, i, layer) for s, layers in self.sections.items() for i, layer in enumerate(layers)]

    def problem(self, path: tuple, message: str) -> Problem:
        """A problem located at ``path`` (e.g. ``("sections", "features", 0, "kernel_size")``)."""
        if self._source is None:
            return Problem(self.file, 1, 1, message)
        return self._source.problem(path, message)


def layer_where(spec_or_data: Any, section: str, index: int) -> str:
    """``layer 'conv1' (features[0])``: how messages name a layer."""
    if isinstance(spec_or_data, Spec):
        name = spec_or_data.sections[section][index].name
    else:
        try:
            name = spec_or_data["sections"][section][index].get("name")
        except (KeyError, IndexError, TypeError, AttributeError):
            name = None
    label = f"layer {name!r}" if isinstance(name, str) else "layer"
    return f"{label} ({section}[{index}])"


def load_spec(path: str | Path, display_name: str | None = None) -> Spec:
    """Read and validate ``path``; raise :class:`SpecError` listing every problem."""
    return spec_from_source(read_source(path, display_name))


def spec_from_source(source: Source) -> Spec:
    if not isinstance(source.data, dict):
        raise SpecError([source.problem((), "a spec must be a mapping (name: ..., sections: ...)")])
    try:
        spec = Spec.model_validate(source.data)
    except ValidationError as exc:
        raise SpecError([_problem_from_error(error, source) for error in exc.errors()]) from None
    spec._source = source
    return spec


_FIELDS_BY_KIND = {
    kind: model for model in (Conv, Linear, Activation, LRN, MaxPool, AvgPool, AdaptiveAvgPool, Flatten, Dropout,
                              BatchNorm) for kind in model.model_fields["kind"].annotation.__args__
}


def _data_path(loc: tuple, data: Any) -> tuple:
    """Map pydantic's error location onto the document, dropping union tags such as ``'conv'``."""
    path: list = []
    node = data
    for part in loc:
        in_dict = isinstance(node, dict) and part in node
        if in_dict or (isinstance(node, list) and isinstance(part, int) and 0 <= part < len(node)):
            path.append(part)
            node = node[part]
        elif isinstance(node, dict) and part not in node and ((isinstance(part, str) and part in LAYER_KINDS)
                                                              or part in ("function-after", "function-before")):
            continue  # a tag pydantic inserts, not a key of the document
        else:
            path.append(part)
            node = None
    return tuple(path)


def _describe(value: Any) -> str:
    kind = {bool: "boolean", int: "integer", float: "number", str: "string", list: "list", dict: "mapping",
            type(None): "null"}.get(type(value), type(value).__name__)
    shown = repr(value) if not isinstance(value, (list, dict)) else kind
    return shown if kind in ("string", "list", "mapping") else f"{shown} ({kind})"


def _problem_from_error(error: dict, source: Source) -> Problem:
    path = _data_path(tuple(error["loc"]), source.data)
    where = ""
    if len(path) >= 3 and path[0] == "sections" and isinstance(path[2], int):
        where = layer_where(source.data, path[1], path[2]) + ": "
        field_path = path[3:]
    else:
        field_path = path
    field = ".".join(str(p) for p in field_path if not isinstance(p, int)) or "spec"
    kind, message, value = error["type"], error["msg"], error.get("input")
    on_key = False
    if kind == "extra_forbidden":
        on_key = True
        message = f"unknown key {field_path[-1]!r}{_suggest(field_path[-1], _allowed_keys(path, source.data))}"
    elif kind == "missing":
        message = f"missing required key {field_path[-1]!r}"
        path = path[:-1]
    elif kind == "union_tag_invalid":
        tag = error["ctx"]["tag"]
        message = f"unknown layer kind {tag!r}{_suggest(str(tag), LAYER_KINDS)}; known kinds: {', '.join(LAYER_KINDS)}"
        path = (*path, "kind")
    elif kind == "union_tag_not_found":
        message = "missing required key 'kind'"
    elif kind == "model_attributes_type" or kind == "dict_type":
        message = f"{field}: expected a mapping, got {_describe(value)}"
    elif kind == "value_error":
        message = f"{field}: {message.removeprefix('Value error, ')}" if field != "spec" \
            else message.removeprefix("Value error, ")
    else:
        message = f"{field}: {message[0].lower() + message[1:]}, got {_describe(value)}"
    return source.problem(path, where + message, key=on_key)


def _allowed_keys(path: tuple, data: Any) -> list[str]:
    node = data
    for part in path[:-1]:
        node = node[part]
    if path[:1] == ("sections",) and len(path) == 4 and isinstance(node, dict):
        model = _FIELDS_BY_KIND.get(node.get("kind"))
        return list(model.model_fields) if model else []
    if path[:1] == ("init",):
        return list(Init.model_fields)
    return list(Spec.model_fields) if len(path) == 1 else []


def _suggest(word: str, choices: Any) -> str:
    def score(choice: str) -> float:  # also match the first word: 'kernal' -> 'kernel_size'
        return max(difflib.SequenceMatcher(None, word, part).ratio() for part in (choice, choice.split("_")[0]))

    best = max(choices, key=score, default=None)
    return f" (did you mean {best!r}?)" if best is not None and score(best) >= 0.6 else ""


def schema() -> dict:
    """The JSON schema of a spec (written to spec/schema.json by the generator)."""
    result = Spec.model_json_schema()
    result["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    result["title"] = "Network spec"
    return result
