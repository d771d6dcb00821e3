"""The spec format: a network as named sections of layers, validated with pydantic.

The vocabulary is generic (nothing here knows about AlexNet). Layer kinds live in :mod:`alexnet.kinds`,
one class each; the union of layers below is built from their registry. Field names follow PyTorch's
(``out_channels``, ``kernel_size``, ...) so a spec reads like the module it becomes.
``spec/schema.json`` is generated from these classes.
"""

from __future__ import annotations

import copy
import functools
import keyword
import re
from pathlib import Path
from typing import Annotated, Any, Literal, Union

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Discriminator,
    Field,
    PrivateAttr,
    StrictBool,
    StrictInt,
    Tag,
    ValidationError,
)

from .errors import layer_where, problems_from, raw_layer_name
from .kinds import KINDS, Layer
from .kinds.base import PARAMETER, Inputs
from .kinds.fields import CLASS_NAME, IDENTIFIER, PLAIN_TEXT, SPEC_NAME, Float, FloatPositive, Positive, Text
from .source import Problem, Source, SpecError, read_source

# Every public attribute of torch.nn.Module (2.14), plus the `training` flag and the generated
# `reset_parameters`: a section with one of these names would shadow it. tests/test_spec_rules.py keeps
# this list equal to what torch has.
RESERVED_SECTIONS = frozenset("""
    T_destination add_module apply bfloat16 buffers call_super_init children compile cpu cuda double dump_patches
    eval extra_repr float forward get_buffer get_extra_state get_parameter get_submodule half ipu load_state_dict
    modules mtia named_buffers named_children named_modules named_parameters parameters register_backward_hook
    register_buffer register_forward_hook register_forward_pre_hook register_full_backward_hook
    register_full_backward_pre_hook register_load_state_dict_post_hook register_load_state_dict_pre_hook
    register_module register_parameter register_state_dict_post_hook register_state_dict_pre_hook requires_grad_
    set_extra_state set_submodule share_memory state_dict to to_empty train type xpu zero_grad
    training reset_parameters
""".split())


def _section_name(name: str) -> str:
    """A section becomes a model attribute, so it must be an identifier nn.Module does not already use."""
    # ASCII only: Python folds identifiers with NFKC, so a full-width 'ｆｏｒｗａｒｄ' would be 'forward'.
    if not re.fullmatch(IDENTIFIER, name) or keyword.iskeyword(name) or name.startswith("_"):
        raise ValueError(f"section name {name!r} must be a Python identifier (ASCII letters, digits and _) "
                         "not starting with _ (it becomes a model attribute)")
    if name in RESERVED_SECTIONS:
        raise ValueError(f"section name {name!r} would hide nn.Module.{name}: choose another name")
    return name


SectionName = Annotated[str, AfterValidator(_section_name)]


def _class_name(name: str) -> str:
    if keyword.iskeyword(name):
        raise ValueError(f"{name!r} is a Python keyword, not a possible class name")
    if name in generated_module_names():
        raise ValueError(f"{name!r} is already a name in the generated module: choose another")
    return name


@functools.cache
def generated_module_names() -> frozenset[str]:
    """Module-level names of a generated model (tools/templates/model.py.j2) that the class would overwrite."""
    imported = {line.rsplit(" ", 1)[-1] for kind in KINDS.values() for line in kind.imports}
    return frozenset({"SPEC", "INPUT_SHAPE", "torch", "nn", *imported})


# About four times ResNet-152's layer count (convolutions, batch norms, activations, adds): enough for any
# network of this family, and it keeps a rebuild of the site within seconds and a diagram one can scroll.
MAX_LAYERS = 2000


def _layer_count(sections: dict) -> dict:
    count = sum(len(layers) for layers in sections.values())
    if count > MAX_LAYERS:
        raise ValueError(f"the spec has {count:,} layers, over the limit of {MAX_LAYERS:,}")
    return sections


def _not_blank(text: str) -> str:
    if not text.strip():
        raise ValueError("must not be empty: it names the spec's page and its nav entry")
    return text


def _input_shape(shape: list[int]) -> list[int]:
    if len(shape) == 2:
        raise ValueError("expected [channels, height, width] or [features], got two sizes")
    return shape


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


# Built from the registry: a kind is added by defining its class, never by listing it here.
AnyLayer = Annotated[Union[tuple(dict.fromkeys(KINDS.values()))], Field(discriminator="kind")]  # noqa: UP007
ArgValue = StrictBool | StrictInt | list[StrictInt] | Annotated[str, Field(pattern=PARAMETER)]
MAX_REPEAT = 1000


class BlockUse(_Strict):
    """One use of a block defined under ``blocks:`` (``repeat`` times in a row)."""

    name: Annotated[str, Field(pattern=IDENTIFIER, max_length=64, description="Unique identifier, e.g. layer1.")]
    display: Text | None = None
    block: Annotated[str, Field(pattern=IDENTIFIER, max_length=64, description="The block's name under blocks:.")]
    args: dict[Annotated[str, Field(pattern=IDENTIFIER)], ArgValue] = Field(
        {}, description="Values of the block's params (inside a block, `$name` passes one of its own on).")
    repeat: Annotated[StrictInt, Field(ge=1, le=MAX_REPEAT)] = Field(1, description="Uses in a row, each "
                                                                     "reading the one before.")
    inputs: Inputs = Field(None, alias="from", description="As for a layer: what the (first) use reads.")
    when: Annotated[str, Field(pattern=PARAMETER)] | None = Field(None, description="As for a layer.")


def _entry_tag(value: Any) -> str:
    return "a block use" if isinstance(value, dict) and "block" in value else "a layer"


Entry = Annotated[Union[Annotated[AnyLayer, Tag("a layer")], Annotated[BlockUse, Tag("a block use")]],  # noqa: UP007
                  Discriminator(_entry_tag)]


class Block(_Strict):
    """A group of layers defined once and used by name, with arguments (a residual block, an Inception module)."""

    params: dict[Annotated[str, Field(pattern=IDENTIFIER)], ArgValue | None] = Field(
        {}, description="Arguments and their defaults (null: required). Layers write `$name` where a value goes.")
    style: Literal["module", "sequential"] = Field(
        "module", description="module: a class whose attributes are the layers' names (torchvision's blocks); "
                              "sequential: an nn.Sequential of the layers in order (keys 0, 1, ...).")
    layers: Annotated[list[dict[str, Any]], Field(min_length=1)] = Field(
        description="Layers and block uses, as in a section; checked for each use with its arguments.")
    output: Annotated[str, Field(pattern=IDENTIFIER)] | None = Field(
        None, description="The layer whose output is the block's (default: the last).")


class Init(_Strict):
    """How weights start. ``default`` keeps PyTorch's; ``normal`` draws N(0, std) as the 2012 paper did."""

    weights: Literal["default", "normal"] = "default"
    std: FloatPositive = 0.01
    bias: Float = 0.0


class Published(_Strict):
    """An error rate published for this network, shown on the lineage page."""

    top1_error: Annotated[float, Field(ge=0, le=100, allow_inf_nan=False,
                                       description="Percent; left out when the source gives top-5 only.")] | None = None
    top5_error: Annotated[float, Field(ge=0, le=100, allow_inf_nan=False, description="Percent.")]
    data: Text = Field(description="The data and protocol, e.g. ILSVRC-2012 validation, one centre crop.")
    source: Text = Field(description="Who measured it, e.g. torchvision's IMAGENET1K_V1 weights.")


class Spec(_Strict):
    """A network: metadata plus ordered sections of layers."""

    name: Annotated[str, Field(pattern=SPEC_NAME, max_length=64,
                               description="Must equal the file name without .yaml.")]
    title: Annotated[Text, AfterValidator(_not_blank)]
    description: Annotated[str, Field(pattern=PLAIN_TEXT, max_length=400)] = ""
    class_name: Annotated[str, Field(pattern=CLASS_NAME, max_length=64), AfterValidator(_class_name)]
    family: Text = Field("", description="The network's family (AlexNet, VGG, ResNet...): groups the site's pages.")
    year: Annotated[StrictInt, Field(ge=1950, le=2100)] | None = Field(None, description="Year of its paper.")
    published: Published | None = None
    input: Annotated[list[Positive], Field(min_length=1, max_length=3,
                                           description="[channels, height, width] or [features]."),
                     AfterValidator(_input_shape)]
    num_classes: Positive
    init: Init = Init()
    blocks: dict[SectionName, Block] = Field({}, description="Reusable blocks, used in sections as "
                                             "`{name: ..., block: <name>, args: {...}}`.")
    sections: Annotated[dict[SectionName, Annotated[list[Entry], Field(min_length=1)]], Field(min_length=1),
                        AfterValidator(_layer_count)] = Field(
        description="Each section becomes an attribute of the model: an nn.Sequential, the module itself when "
        "it holds one layer, or torch.flatten(x, 1) when it holds one flatten layer."
    )

    _source: Source | None = PrivateAttr(None)

    @property
    def file(self) -> str:
        return self._source.file if self._source else f"{self.name}.yaml"

    def layers(self) -> list[tuple[str, int, Layer]]:
        """The layers written in the sections as ``(section, index in section, layer)`` (block uses left out:
        ``Analysis.rows`` has every layer, blocks unrolled)."""
        return [(s, i, layer) for s, layers in self.sections.items() for i, layer in enumerate(layers)
                if isinstance(layer, Layer)]

    def problem(self, path: tuple, message: str) -> Problem:
        """A problem located at ``path`` (e.g. ``("sections", "features", 0, "kernel_size")``)."""
        if self._source is None:
            return Problem(self.file, 1, 1, message)
        return self._source.problem(path, message)


def load_spec(path: str | Path, display_name: str | None = None) -> Spec:
    """Read and validate the spec file ``path``; raise :class:`SpecError` listing every problem.

    Besides the format, a file's ``name`` must equal its file name: generated files, the model's module
    and ``load_model`` are named after it.
    """
    spec, problems = read_spec(path, display_name)
    if problems:
        raise SpecError(problems)
    return spec


def read_spec(path: str | Path, display_name: str | None = None) -> tuple[Spec | None, list[Problem]]:
    """The spec in ``path`` (None if it does not match the format) and every problem found reading it."""
    source = read_source(path, display_name)
    if Path(path).suffix != ".yaml":
        return None, [Problem(source.file, 1, 1, f"a spec file's name ends in .yaml, not {Path(path).suffix or 'nothing'} "
                                          "(the generator and the site read only spec/*.yaml)")]
    return validate_source(source, expected_name=Path(path).stem)


def spec_from_source(source: Source) -> Spec:
    """Validate a parsed document; raise :class:`SpecError` listing every problem."""
    spec, problems = validate_source(source)
    if problems:
        raise SpecError(problems)
    return spec


def validate_source(source: Source, expected_name: str | None = None) -> tuple[Spec | None, list[Problem]]:
    """The spec (None if the document does not match the format) and every problem of the document;
    ``expected_name``, if given, is the name its file requires."""
    if not isinstance(source.data, dict):
        return None, [source.problem((), "a spec must be a mapping (name: ..., sections: ...)")]
    problems = _duplicate_names(source) + _name_problems(source, expected_name)
    try:
        spec = Spec.model_validate(source.data)
    except ValidationError as exc:
        return None, problems_from(exc, source, Spec) + problems
    spec._source = source
    return spec, problems


def _name_problems(source: Source, expected: str | None) -> list[Problem]:
    name = source.data.get("name")
    if expected is None or not isinstance(name, str) or name == expected or not re.fullmatch(SPEC_NAME, name):
        return []
    return [source.problem(("name",), f"name {name!r} must equal the file name {expected!r} "
                                      "(generated files and load_model use it)")]


def _duplicate_names(source: Source) -> list[Problem]:
    """Layer names are unique across the spec (they name the diagram's boxes and the table's rows).
    Checked on the raw document, so they are reported alongside every other problem."""
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
                where = layer_where(raw_layer_name(source.data, section, index), section, index)
                problems.append(source.problem(("sections", section, index, "name"),
                                               f"{where}: duplicate layer name {name!r} (first used at "
                                               f"{first[name][0]}[{first[name][1]}])"))
            else:
                first[name] = (section, index)
    return problems


def schema() -> dict:
    """The JSON schema of a spec (written to spec/schema.json by the generator); a fresh copy each call."""
    return json_schema(Spec, "Network spec")


def json_schema(model: type[BaseModel], title: str) -> dict:
    """A model's JSON schema for editors (draft 2020-12), a fresh copy each call."""
    return copy.deepcopy(_json_schema(model, title))


@functools.cache
def _json_schema(model: type[BaseModel], title: str) -> dict:
    # Building one takes pydantic ~35 ms; it depends only on the code, so `mkdocs serve` builds it once.
    return {**model.model_json_schema(), "$schema": "https://json-schema.org/draft/2020-12/schema", "title": title}
