"""The spec format: a network as named sections of layers, validated with pydantic.

The vocabulary is generic (nothing here knows about AlexNet). Field names follow PyTorch's
(``out_channels``, ``kernel_size``, ...) so a spec reads like the module it becomes. Sizes accept an
integer or an ``[height, width]`` pair. ``spec/schema.json`` is generated from these classes.
"""

from __future__ import annotations

import copy
import difflib
import functools
import keyword
import math
import re
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    PrivateAttr,
    StrictBool,
    StrictInt,
    ValidationError,
)

from .source import Problem, Source, SpecError, read_source

IDENTIFIER = r"^[A-Za-z_][A-Za-z0-9_]*$"
SPEC_NAME = r"^[a-z][a-z0-9_]*$"  # also a file name: no "/", no "..", nothing a shell or a URL treats specially
CLASS_NAME = r"^[A-Z][A-Za-z0-9_]*$"
# Text shown to readers (titles, table labels). Escaped on output anyway; this keeps it plain.
PLAIN_TEXT = r"^[A-Za-z0-9 _.,:;()/+'\"#&*-]*$"
# Attributes an nn.Module already has: a section with one of these names would shadow it.
RESERVED_SECTIONS = frozenset("""
    forward training train eval to cuda cpu half float double type apply modules children parameters buffers
    state_dict load_state_dict zero_grad register_buffer register_module add_module requires_grad_ named_parameters
    named_modules named_children named_buffers extra_repr reset_parameters dump_patches call_super_init
    get_submodule get_parameter get_buffer compile share_memory
""".split())


def _section_name(name: str) -> str:
    """A section becomes a model attribute, so it must be an identifier nn.Module does not already use."""
    if not name.isidentifier() or keyword.iskeyword(name) or name.startswith("_"):
        raise ValueError(f"section name {name!r} must be a Python identifier not starting with _ "
                         "(it becomes a model attribute)")
    if name in RESERVED_SECTIONS:
        raise ValueError(f"section name {name!r} would hide nn.Module.{name}: choose another name")
    return name


SectionName = Annotated[str, AfterValidator(_section_name)]


# Module-level names of a generated model (tools/templates/model.py.j2) that the class would overwrite.
GENERATED_MODULE_NAMES = frozenset({"SPEC", "INPUT_SHAPE", "LocalResponseNorm"})


def _class_name(name: str) -> str:
    if name in GENERATED_MODULE_NAMES:
        raise ValueError(f"{name!r} is already a name in the generated module: choose another")
    return name


def _input_shape(shape: list[int]) -> list[int]:
    if len(shape) == 2:
        raise ValueError("expected [channels, height, width] or [features], got two sizes")
    return shape


def _pair(value: Any) -> Any:
    """``3`` -> ``(3, 3)``; ``[3, 5]`` -> ``(3, 5)``; anything else is left for pydantic to reject."""
    if isinstance(value, int) and not isinstance(value, bool):
        return (value, value)
    if isinstance(value, list):
        return tuple(value)
    return value


# Sizes stay below 2^31 (PyTorch's int32 kernels); it also keeps every product short enough to print.
MAX_SIZE = 2**31 - 1
Positive = Annotated[StrictInt, Field(gt=0, le=MAX_SIZE)]
NonNegative = Annotated[StrictInt, Field(ge=0, le=MAX_SIZE)]
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


def torch_alpha(size: int, alpha: float, convention: str) -> float:
    """The ``alpha`` to give PyTorch (which divides by ``size``) for a spec's alpha and convention."""
    if convention == "paper":
        return alpha * size
    if convention == "divided_by_n":
        return alpha
    raise ValueError(f"unknown LRN convention {convention!r}")


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

    name: Annotated[str, Field(pattern=SPEC_NAME, max_length=64,
                               description="Must equal the file name without .yaml.")]
    title: Text
    description: Annotated[str, Field(pattern=PLAIN_TEXT, max_length=400)] = ""
    class_name: Annotated[str, Field(pattern=CLASS_NAME, max_length=64), AfterValidator(_class_name)]
    input: Annotated[list[Positive], Field(min_length=1, max_length=3,
                                           description="[channels, height, width] or [features]."),
                     AfterValidator(_input_shape)]
    num_classes: Positive
    init: Init = Init()
    sections: Annotated[dict[SectionName, Annotated[list[Layer], Field(min_length=1)]], Field(min_length=1)] = Field(
        description="Each section becomes an attribute of the model: an nn.Sequential, the module itself when "
        "it holds one layer, or torch.flatten(x, 1) when it holds one flatten layer."
    )

    _source: Source | None = PrivateAttr(None)

    @property
    def file(self) -> str:
        return self._source.file if self._source else f"{self.name}.yaml"

    def layers_of(self, kind: str) -> list:
        """The layers of one kind, in order."""
        return [layer for _, _, layer in self.layers() if layer.kind == kind]

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
        problems = [_problem_from_error(error, source) for error in exc.errors()]
        # The analysis finds duplicate names only in a valid spec; report them here too, as they are independent.
        problems += _duplicate_names(source)
        raise SpecError(list(dict.fromkeys(p for p in problems if p is not None))) from None
    spec._source = source
    return spec


def _duplicate_names(source: Source) -> list[Problem]:
    sections = source.data.get("sections")
    if not isinstance(sections, dict):
        return []
    first: dict[str, tuple[str, int]] = {}
    problems = []
    for section, layers in sections.items():
        for index, layer in enumerate(layers if isinstance(layers, list) else []):
            name = layer.get("name") if isinstance(layer, dict) else None
            if not isinstance(name, str):
                continue
            if name in first:
                problems.append(source.problem(("sections", section, index, "name"), duplicate_name_message(
                    layer_where(source.data, section, index), name, *first[name])))
            else:
                first[name] = (section, index)
    return problems


def duplicate_name_message(where: str, name: str, section: str, index: int) -> str:
    return f"{where}: duplicate layer name {name!r} (first used at {section}[{index}])"


_FIELDS_BY_KIND = {
    kind: model for model in (Conv, Linear, Activation, LRN, MaxPool, AvgPool, AdaptiveAvgPool, Flatten, Dropout,
                              BatchNorm) for kind in model.model_fields["kind"].annotation.__args__
}


def _data_path(loc: tuple, data: Any) -> tuple[tuple, bool]:
    """Map pydantic's error location onto the document: ``(path, on_key)``.

    Union tags (``'conv'``, ``'function-after[...]'``) are dropped; the path stops after the first part that is
    not in the document (a missing key, or pydantic's inner location in a value such as a pair).
    """
    path: list = []
    node = data
    for part in loc:
        if part == "[key]":
            return tuple(path), True
        if (isinstance(node, dict) and part in node) or \
                (isinstance(node, list) and isinstance(part, int) and 0 <= part < len(node)):
            path.append(part)
            node = node[part]
        elif isinstance(part, str) and (part in LAYER_KINDS or part.startswith(("function-", "tuple[", "list["))):
            continue  # a tag pydantic inserts, not a key of the document
        else:
            if isinstance(node, dict) and isinstance(part, str):
                path.append(part)  # a missing key
            break
    return tuple(path), False


def _yaml_value(value: Any) -> str:
    """A value as it would be written in YAML, shortened: ``true``, ``null``, ``.nan``, ``[2, 2, 2]``, ``'8'``."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and not math.isfinite(value):
        return ".nan" if math.isnan(value) else (".inf" if value > 0 else "-.inf")
    if isinstance(value, (list, tuple)):
        text = "[" + ", ".join(_yaml_value(v) for v in value[:6]) + (", ...]" if len(value) > 6 else "]")
    elif isinstance(value, dict):
        return "a mapping" if value else "{}"
    else:
        text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def _got(value: Any) -> str:
    shown = f"got {_yaml_value(value)}"
    if isinstance(value, str):
        try:
            float(value)
        except ValueError:
            return shown
        return f"{shown} (text: remove the quotes)"
    if isinstance(value, float) and value.is_integer() and math.isfinite(value):
        return f"{shown} (write {int(value)} without the decimal point)"
    return shown


_PATTERN_RULES = {
    IDENTIFIER: "must be a Python identifier: letters, digits and _, not starting with a digit",
    SPEC_NAME: "must be lowercase letters, digits and _, starting with a letter (it names the generated files)",
    CLASS_NAME: "must be a Python class name: a capital letter, then letters, digits and _",
    PLAIN_TEXT: "may hold only letters, digits, spaces and _ . , : ; ( ) / + ' \" # & * - (no markup)",
}

_TYPE_RULES = {
    "int_type": "expected an integer", "int_parsing": "expected an integer", "int_from_float": "expected an integer",
    "float_type": "expected a number", "float_parsing": "expected a number",
    "bool_type": "expected true or false", "bool_parsing": "expected true or false",
    "string_type": "expected text", "list_type": "expected a list",
    "tuple_type": "expected an integer or a [height, width] pair",
    "model_type": "expected a mapping", "model_attributes_type": "expected a mapping", "dict_type": "expected a mapping",
    "finite_number": "must be a finite number",
}


def _rule(kind: str, ctx: dict, value: Any) -> str:
    """What the value must be, in a reader's words."""
    if kind in _TYPE_RULES:
        return _TYPE_RULES[kind]
    if kind in ("greater_than", "greater_than_equal", "less_than", "less_than_equal"):
        limit = next(iter(ctx.values()))
        words = {"greater_than": "greater than", "greater_than_equal": "at least", "less_than": "less than",
                 "less_than_equal": "at most"}[kind]
        return f"must be {words} {limit}"
    if kind == "string_pattern_mismatch":
        return _PATTERN_RULES.get(ctx.get("pattern"), f"must match {ctx.get('pattern')}")
    if kind == "string_too_long":
        return f"must be at most {ctx['max_length']} characters long"
    if kind in ("too_short", "too_long") and ctx.get("field_type") == "Tuple":
        return "expected an integer or a [height, width] pair"
    if kind == "too_short" and not value:
        return "must not be empty"
    if kind == "too_short":
        return f"needs at least {ctx['min_length']} item{'s' if ctx['min_length'] != 1 else ''}"
    if kind == "too_long":
        return f"takes at most {ctx['max_length']} items"
    if kind == "literal_error":
        choices = re.findall(r"'([^']*)'", ctx["expected"])
        return f"must be one of {ctx['expected']}{_suggest(str(value), choices)}"
    return ""


def _problem_from_error(error: dict, source: Source) -> Problem | None:
    path, on_key = _data_path(tuple(error["loc"]), source.data)
    kind, ctx, value = error["type"], error.get("ctx", {}), error.get("input")
    in_layer = len(path) >= 3 and path[0] == "sections" and isinstance(path[2], int)
    where = layer_where(source.data, path[1], path[2]) + ": " if in_layer else ""
    field_path = path[3:] if in_layer else path
    field = "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in field_path).lstrip(".")
    if kind == "extra_forbidden":
        on_key = True
        allowed = _allowed_keys(path, source.data)
        hint = _suggest(field_path[-1], allowed) or (f"; known keys: {', '.join(allowed)}" if allowed else "")
        message = f"unknown key {field_path[-1]!r}{hint}"
    elif kind == "missing":
        if _suggested_elsewhere(path, source.data):
            return None  # "unknown key 'kernal_size' (did you mean 'kernel_size'?)" already says it
        message = f"missing required key {field_path[-1]!r}"
        path = path[:-1]
    elif kind == "union_tag_invalid":
        path = (*path, "kind")
        tag = _node(source.data, path)
        shown = _yaml_value(tag)
        message = f"unknown layer kind {shown}{_suggest(str(tag), LAYER_KINDS)}; known kinds: {', '.join(LAYER_KINDS)}"
    elif kind == "union_tag_not_found":
        message = "missing required key 'kind'"
    elif kind == "value_error":
        message = str(ctx.get("error") or error["msg"].removeprefix("Value error, "))
        if field and not on_key:
            message = f"{field}: {message}"
    elif in_layer and not field_path:
        message = f"a layer must be a mapping such as {{name: conv1, kind: conv, ...}}, {_got(value)}"
    elif len(path) == 2 and path[0] == "sections":
        message = (f"section {path[1]!r} has no layers" if kind == "too_short"
                   else f"section {path[1]!r} must be a list of layers, {_got(value)}")
    else:
        rule = _rule(kind, ctx, value) or error["msg"]
        message = f"{field or 'the spec'}: {rule}, {_got(value)}"
    return source.problem(path, where + message, key=on_key)


def _suggested_elsewhere(path: tuple, data: Any) -> bool:
    """True when an unknown key next to the missing one ``path[-1]`` looks like a misspelling of it."""
    try:
        parent = _node(data, path[:-1])
    except (KeyError, IndexError, TypeError):
        return False
    if not isinstance(parent, dict):
        return False
    allowed = _allowed_keys(path, data)
    return any(key not in allowed and _best(key, allowed) == path[-1] for key in parent)


def _node(data: Any, path: tuple) -> Any:
    for part in path:
        data = data[part]
    return data


def _allowed_keys(path: tuple, data: Any) -> list[str]:
    node = _node(data, path[:-1])
    if path[:1] == ("sections",) and len(path) == 4 and isinstance(node, dict):
        model = _FIELDS_BY_KIND.get(node.get("kind"))
        return list(model.model_fields) if model else []
    if path[:1] == ("init",):
        return list(Init.model_fields)
    return list(Spec.model_fields) if len(path) == 1 else []


def _best(word: str, choices: Any) -> str | None:
    def score(choice: str) -> float:  # also match the first word ('kernal' -> 'kernel_size') and prefixes
        if min(len(word), len(choice)) >= 3 and (word.startswith(choice) or choice.startswith(word)):
            return 1.0  # 'convolution' -> 'conv'
        return max(difflib.SequenceMatcher(None, word, part).ratio() for part in (choice, choice.split("_")[0]))

    best = max(choices, key=score, default=None)
    return best if best is not None and score(best) >= 0.7 else None


def _suggest(word: str, choices: Any) -> str:
    best = _best(word, choices)
    return f" (did you mean {best!r}?)" if best is not None else ""


def schema() -> dict:
    """The JSON schema of a spec (written to spec/schema.json by the generator); a fresh copy each call."""
    return copy.deepcopy(_schema())


@functools.cache
def _schema() -> dict:
    # Building it takes pydantic ~35 ms; it depends only on this module, so `mkdocs serve` builds it once.
    result = Spec.model_json_schema()
    result["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    result["title"] = "Network spec"
    return result
