"""Training recipes (``spec/recipes/<name>.yaml``): how to train a spec, validated like specs.

A recipe says which data, which augmentation, which optimizer and schedule, how many epochs and how to
evaluate. It is read with the same safe YAML reader as specs, so every problem is reported as
``file:line:col: message`` (exit 2). ``spec/recipes/schema.json`` is generated from these classes.
Pure Python: importing this module does not import torch.
"""

from __future__ import annotations

import copy
import functools
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, PrivateAttr, StrictBool, StrictInt, ValidationError, model_validator

from .source import Problem, Source, SpecError, read_source

# The only place this module leans on alexnet.spec: its plain-words rendering of pydantic errors.
from .spec import PLAIN_TEXT, SPEC_NAME, _best, _data_path, _got, _rule, _suggest

RECIPE_DIR = Path(__file__).resolve().parent.parent / "spec" / "recipes"
BUNDLED_DATA = ("imagenet_folder", "fashion_mnist", "digits")
FASHION_MNIST_DIR = "/usr/share/datasets/fashion-mnist"

# The values most ImageNet code uses (fb.resnet.torch, after Krizhevsky's cuda-convnet), for pixels scaled to 0..1.
IMAGENET_EIGVAL = [0.2175, 0.0188, 0.0045]
IMAGENET_EIGVEC = [[-0.5675, 0.7192, 0.4009], [-0.5808, -0.0045, -0.8140], [-0.5836, -0.6948, 0.4203]]
IMAGENET_MEAN = [0.485, 0.456, 0.406]
IMAGENET_STD = [0.229, 0.224, 0.225]

PositiveInt = Annotated[StrictInt, Field(gt=0, le=2**31 - 1)]
NonNegativeInt = Annotated[StrictInt, Field(ge=0, le=2**31 - 1)]
Rate = Annotated[float, Field(gt=0, allow_inf_nan=False)]
Fraction = Annotated[float, Field(ge=0, le=1, allow_inf_nan=False)]
NonNegative = Annotated[float, Field(ge=0, allow_inf_nan=False)]
Text = Annotated[str, Field(pattern=PLAIN_TEXT, max_length=1000)]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Data(_Strict):
    """Where images come from. ``imagenet_folder`` needs ``--data DIR`` holding ``train/<class>/*`` and ``val/<class>/*``."""

    source: Literal["imagenet_folder", "fashion_mnist", "digits"]
    train_subset: PositiveInt | None = Field(None, description="Use only the first N training images (a fixed "
                                             "random choice): a quicker run on a small machine.")
    val_subset: PositiveInt | None = Field(None, description="Use only the first N validation images.")
    workers: NonNegativeInt = Field(0, description="DataLoader worker processes per training process.")
    unreadable: Literal["skip", "stop"] = Field("stop", description="An image that cannot be decoded: skip it "
                                                "and count it in metrics.jsonl, or stop with an error.")


class Lighting(_Strict):
    """PCA lighting noise (Krizhevsky et al. 2012): add eigvec @ (alpha * eigval), alpha ~ N(0, alphastd), per image."""

    alphastd: NonNegative = 0.1
    eigval: Annotated[list[NonNegative], Field(min_length=1, max_length=3)] = IMAGENET_EIGVAL
    eigvec: Annotated[list[list[float]], Field(min_length=1, max_length=3)] = IMAGENET_EIGVEC

    @model_validator(mode="after")
    def _square(self) -> Lighting:
        n = len(self.eigval)
        if len(self.eigvec) != n or any(len(row) != n for row in self.eigvec):
            raise ValueError(f"eigvec must be a {n}x{n} matrix (one column per eigenvalue)")
        return self


class Augment(_Strict):
    """Training-time preprocessing, applied in this order. The crop size is the spec's input size."""

    resize: PositiveInt | None = Field(None, description="Rescale so the shorter side has this many pixels.")
    center_crop: PositiveInt | None = Field(None, description="Then keep the central square of this size.")
    pad: NonNegativeInt = Field(0, description="Then pad each side with zeros (small images).")
    crop: Literal["random", "random_resized", "center"] = "random"
    flip: StrictBool = Field(True, description="Horizontal flip with probability 0.5.")
    lighting: Lighting | None = None
    mean: Annotated[list[float], Field(min_length=1, max_length=3)] = Field(
        IMAGENET_MEAN, description="Per-channel mean subtracted (pixels scaled to 0..1).")
    std: Annotated[list[Rate], Field(min_length=1, max_length=3)] = Field(
        IMAGENET_STD, description="Per-channel divisor (1.0: mean subtraction only, as in the paper).")


class Evaluation(_Strict):
    resize: PositiveInt | None = Field(None, description="Rescale the shorter side first.")
    center_crop: PositiveInt | None = Field(None, description="Then keep the central square of this size.")
    pad: NonNegativeInt = 0
    ten_crop: StrictBool = Field(False, description="Report ten-crop error too (4 corners + centre and their "
                                 "flips, softmax averaged) in the final evaluation.")


class Optimizer(_Strict):
    kind: Literal["paper_sgd", "sgd"] = Field(description="paper_sgd: v <- m v - wd lr w - lr g; w <- w + v "
                                              "(the paper's rule). sgd: torch.optim.SGD.")
    lr: Rate
    momentum: Fraction = 0.9
    weight_decay: NonNegative = 0.0
    nesterov: StrictBool = False


class Schedule(_Strict):
    kind: Literal["constant", "step", "plateau"]
    factor: Annotated[float, Field(gt=0, lt=1)] = 0.1
    step_size: PositiveInt | None = Field(None, description="step: multiply the rate by factor every N epochs.")
    patience: PositiveInt = Field(1, description="plateau: epochs without a better validation error before a cut.")
    threshold: NonNegative = Field(0.0, description="plateau: how much lower the error must be to count as better.")
    max_reductions: NonNegativeInt | None = Field(None, description="plateau: stop cutting after this many.")

    @model_validator(mode="after")
    def _step_size(self) -> Schedule:
        if self.kind == "step" and self.step_size is None:
            raise ValueError("a step schedule needs step_size (epochs between cuts)")
        return self


class Recipe(_Strict):
    name: Annotated[str, Field(pattern=SPEC_NAME, max_length=64, description="Must equal the file name.")]
    title: Annotated[str, Field(pattern=PLAIN_TEXT, max_length=80)]
    description: Text = ""
    source: Text = Field("", description="Where the recipe comes from (paper section, file, URL).")
    data: Data
    epochs: PositiveInt
    batch_size: PositiveInt = Field(description="The global batch: split evenly over the processes.")
    optimizer: Optimizer
    schedule: Schedule
    augment: Augment = Augment()
    evaluation: Evaluation = Evaluation()
    seed: NonNegativeInt = 0

    _source: Source | None = PrivateAttr(None)

    @property
    def file(self) -> str:
        return self._source.file if self._source else f"{self.name}.yaml"

    def problem(self, path: tuple, message: str) -> Problem:
        return self._source.problem(path, message) if self._source else Problem(self.file, 1, 1, message)


def bundled_recipes() -> list[str]:
    return sorted(p.stem for p in RECIPE_DIR.glob("*.yaml"))


def recipe_path(name_or_file: str | Path) -> Path:
    """A bundled recipe name (``paper``) or a file path."""
    text = str(name_or_file)
    if "/" not in text and not text.endswith((".yaml", ".yml")):
        return RECIPE_DIR / f"{text}.yaml"
    return Path(text)


def load_recipe(name_or_file: str | Path, display_name: str | None = None) -> Recipe:
    """Read and validate a recipe; raise :class:`SpecError` listing every problem."""
    path = recipe_path(name_or_file)
    if not path.exists() and path.parent == RECIPE_DIR:
        raise SpecError([Problem(str(name_or_file), 1, 1, f"no bundled recipe {str(name_or_file)!r}; bundled: "
                                 f"{', '.join(bundled_recipes())} (or give a recipe file)")])
    if not path.is_file():
        raise SpecError([Problem(display_name or str(path), 1, 1, "no such recipe file")])
    source = read_source(path, display_name)
    if not isinstance(source.data, dict):
        raise SpecError([source.problem((), "a recipe must be a mapping (name: ..., data: ..., optimizer: ...)")])
    try:
        recipe = Recipe.model_validate(source.data)
    except ValidationError as exc:
        problems = [_problem(error, source) for error in exc.errors()]
        raise SpecError(list(dict.fromkeys(p for p in problems if p is not None))) from None
    recipe._source = source
    if path.parent.resolve() == RECIPE_DIR and recipe.name != path.stem:
        raise SpecError([recipe.problem(("name",), f"name {recipe.name!r} must equal the file name {path.stem!r}")])
    return recipe


def _model_at(path: tuple) -> type[BaseModel] | None:
    """The pydantic class of the mapping at ``path`` (for the list of allowed keys)."""
    model: Any = Recipe
    for part in path:
        field = model.model_fields.get(part) if isinstance(part, str) else None
        if field is None:
            return None
        candidates = [a for a in getattr(field.annotation, "__args__", (field.annotation,)) if isinstance(a, type)
                      and issubclass(a, BaseModel)]
        if not candidates:
            return None
        model = candidates[0]
    return model


def _parent(data: Any, path: tuple) -> dict:
    for part in path:
        data = data.get(part) if isinstance(data, dict) else None
    return data if isinstance(data, dict) else {}


def _problem(error: dict, source: Source) -> Problem | None:
    path, on_key = _data_path(tuple(error["loc"]), source.data)
    kind, ctx, value = error["type"], error.get("ctx", {}), error.get("input")
    field = ".".join(str(p) for p in path)
    if kind == "extra_forbidden":
        model = _model_at(path[:-1])
        allowed = list(model.model_fields) if model else []
        hint = _suggest(str(path[-1]), allowed) or (f"; known keys: {', '.join(allowed)}" if allowed else "")
        return source.problem(path, f"unknown key {path[-1]!r}{hint}", key=True)
    if kind == "missing":
        model, parent = _model_at(path[:-1]), _parent(source.data, path[:-1])
        allowed = list(model.model_fields) if model else []
        if any(key not in allowed and _best(key, allowed) == path[-1] for key in parent):
            return None  # "unknown key 'epocs' (did you mean 'epochs'?)" already says it
        return source.problem(path[:-1], f"missing required key {field!r}")
    if kind == "value_error":
        message = str(ctx.get("error") or error["msg"].removeprefix("Value error, "))
        return source.problem(path, f"{field or 'the recipe'}: {message}", key=on_key)
    rule = _rule(kind, ctx, value) or error["msg"]
    return source.problem(path, f"{field or 'the recipe'}: {rule}, {_got(value)}", key=on_key)


def schema() -> dict:
    """The JSON schema of a recipe (written to spec/recipes/schema.json by the generator)."""
    return copy.deepcopy(_schema())


@functools.cache
def _schema() -> dict:
    result = Recipe.model_json_schema()
    result["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    result["title"] = "Training recipe"
    return result
