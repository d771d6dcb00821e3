"""Experiments (``spec/experiments/<name>.yaml``): a paper's claim as spec variants trained with one recipe.

An experiment names a base spec, its variants (each a few edits of the base's layers), a recipe, the seeds
(the same for every variant), what to plot and the claims to test. It is read with the same safe YAML reader
as specs and recipes, so every problem is reported as ``file:line:col: message`` (exit 2), and the edited
spec of every variant is validated like any spec. ``make experiments`` trains them
(``alexnet.train.experiments``) and writes ``docs/generated/experiments/<name>.json``; the generator renders
those files, and :func:`summarize` turns per-seed results into the statistics the site shows.
Pure Python: importing this module does not import torch.
"""

from __future__ import annotations

import copy
import difflib
import hashlib
import json
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, PrivateAttr, StrictBool, StrictInt, ValidationError, model_validator

from . import SPEC_DIR, spec_path
from .errors import problems_from
from .recipe import Recipe, load_recipe, recipe_path
from .source import Problem, Source, SpecError, read_source
from .spec import Spec, load_spec
from .validation import validate_text

EXPERIMENT_DIR = SPEC_DIR / "experiments"
RESULTS_DIR = SPEC_DIR.parent / "docs" / "generated" / "experiments"
RESULTS_FORMAT = "alexnet-experiment/1"
NAME = r"^[a-z][a-z0-9_]*$"
PLAIN = r"^[A-Za-z0-9 _.,:;()/+'\"#&*%<>=?!-]*$"

PositiveInt = Annotated[StrictInt, Field(gt=0, le=2**31 - 1)]
NonNegativeInt = Annotated[StrictInt, Field(ge=0, le=2**31 - 1)]
Name = Annotated[str, Field(pattern=NAME, max_length=64)]
Title = Annotated[str, Field(pattern=PLAIN, max_length=80)]
Text = Annotated[str, Field(pattern=PLAIN, max_length=2000)]

# What a claim can compare. Per-epoch curves come from every run; the measures are derived from them.
CURVES = {
    "train_running_error": "training error while training (running, dropout on), every few steps",
    "train_top1_error": "training error (a fixed part of the training set, evaluation mode)",
    "val_top1_error": "validation top-1 error",
    "val_top5_error": "validation top-5 error",
    "train_loss": "training loss (running)",
    "val_loss": "validation loss",
}
MEASURES = {
    "epochs_to_train_error": ("epochs to reach a training error of {threshold:.0%} (running)", "epochs"),
    "seconds_to_train_error": ("processor seconds of training to reach a training error of {threshold:.0%} "
                               "(running)", "s"),
    "final_val_top1_error": ("validation top-1 error after the last epoch", "points"),
    "final_val_top5_error": ("validation top-5 error after the last epoch", "points"),
    "final_train_top1_error": ("training error after the last epoch (evaluation mode)", "points"),
    "final_gap": ("validation minus training error after the last epoch (overfitting)", "points"),
}


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Edit(_Strict):
    """One change to the base spec's layers: choose layers by name or by kind, then set fields, replace the
    layer (its name and display label stay) or remove it."""

    layer: Name | None = Field(None, description="The layer with this name.")
    kind: Name | None = Field(None, description="Every layer of this kind.")
    set: dict[str, Any] | None = Field(None, description="Fields to change (the others stay).")
    replace: dict[str, Any] | None = Field(None, description="The new layer's fields (name and display kept).")
    remove: StrictBool = Field(False, description="Remove the chosen layers.")

    @model_validator(mode="after")
    def _one_each(self) -> Edit:
        if (self.layer is None) == (self.kind is None):
            raise ValueError("an edit chooses its layers with exactly one of 'layer' (a name) or 'kind'")
        if sum((self.set is not None, self.replace is not None, self.remove)) != 1:
            raise ValueError("an edit does exactly one of 'set', 'replace' or 'remove: true'")
        return self


class Variant(_Strict):
    name: Name
    title: Title
    edits: list[Edit] = Field(default_factory=list, max_length=100,
                              description="Changes to the base spec; none: the base itself.")


class Claim(_Strict):
    """``variant`` should have a ``better`` value of ``measure`` than ``against`` (paired by seed)."""

    measure: Literal[tuple(MEASURES)]  # type: ignore[valid-type]
    threshold: Annotated[float, Field(gt=0, lt=1)] | None = Field(
        None, description="For epochs_to_train_error and seconds_to_train_error: the error to reach (0.25).")
    variant: Name = Field(description="The paper's choice.")
    against: Name = Field(description="The alternative it is compared with.")
    better: Literal["lower", "higher"] = "lower"
    paper: Text = Field("", description="What the paper reported, in words.")
    paper_effect: float | None = Field(None, allow_inf_nan=False, description="The paper's difference "
                                       "(against minus variant) in this measure's unit, when it has one.")
    paper_ratio: float | None = Field(None, gt=0, allow_inf_nan=False, description="The paper's ratio "
                                      "(against / variant), when it reported one.")

    @model_validator(mode="after")
    def _threshold(self) -> Claim:
        needs = self.measure.endswith("_to_train_error")
        if needs and self.threshold is None:
            raise ValueError(f"{self.measure} needs a threshold (the training error to reach, e.g. 0.25)")
        if not needs and self.threshold is not None:
            raise ValueError(f"{self.measure} takes no threshold")
        return self


class Activations(_Strict):
    """Record what layers of one kind do to real activations, in the first seed's trained network."""

    variant: Name
    kind: Literal["lrn"] = "lrn"
    images: PositiveInt = Field(500, le=10_000, description="Validation images pushed through the network.")


class Experiment(_Strict):
    name: Annotated[str, Field(pattern=NAME, max_length=64, description="Must equal the file name.")]
    title: Title
    question: Text = Field("", description="The paper's claim, in words.")
    base: Annotated[str, Field(max_length=300)] = Field(description="A bundled spec name or a spec file.")
    recipe: Annotated[str, Field(max_length=300)] = Field(description="A bundled recipe name or a recipe file.")
    seeds: Annotated[list[NonNegativeInt], Field(min_length=1, max_length=100)]
    train_eval_subset: PositiveInt = Field(2000, description="Training images evaluated (evaluation mode, no "
                                           "augmentation) after each epoch, for train_top1_error.")
    curve_every: PositiveInt = Field(8, description="Steps per point of the train_running_error curve.")
    variants: Annotated[list[Variant], Field(min_length=2, max_length=10)]
    curves: Annotated[list[Literal[tuple(CURVES)]], Field(min_length=1, max_length=4)]  # type: ignore[valid-type]
    claims: Annotated[list[Claim], Field(min_length=1, max_length=10)]
    activations: Activations | None = None

    _source: Source | None = PrivateAttr(None)

    @model_validator(mode="after")
    def _names(self) -> Experiment:
        names = [v.name for v in self.variants]
        if len(set(names)) != len(names):
            raise ValueError(f"variant names must differ: {', '.join(names)}")
        if len(set(self.seeds)) != len(self.seeds):
            raise ValueError("seeds must differ")
        return self

    @property
    def file(self) -> str:
        return self._source.file if self._source else f"{self.name}.yaml"

    def problem(self, path: tuple, message: str) -> Problem:
        return self._source.problem(path, message) if self._source else Problem(self.file, 1, 1, message)

    def variant(self, name: str) -> Variant:
        return next(v for v in self.variants if v.name == name)


def schema() -> dict:
    """The JSON schema of an experiment (spec/experiments/schema.json, for editors)."""
    result = Experiment.model_json_schema()
    result["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    result["title"] = "Experiment"
    return result


# --- reading ------------------------------------------------------------------------------------------------

def bundled_experiments() -> list[str]:
    return sorted(p.stem for p in EXPERIMENT_DIR.glob("*.yaml"))


def experiment_path(name_or_file: str | Path) -> Path:
    text = str(name_or_file)
    if "/" not in text and not text.endswith((".yaml", ".yml")):
        return EXPERIMENT_DIR / f"{text}.yaml"
    return Path(text)


@dataclass
class Loaded:
    """An experiment with everything it refers to, validated: the base spec, the recipe and each variant's
    edited spec (its YAML text, as shown in the diff and as trained)."""

    experiment: Experiment
    base: Spec
    base_text: str
    recipe: Recipe
    variants: dict[str, str]  # variant name -> the edited spec as YAML text
    hashes: dict[str, Any]
    base_file: Path
    recipe_file: Path

    def variant_spec(self, name: str, folder: Path) -> Path:
        """The variant's spec written as a file in ``folder`` (the training code reads spec files)."""
        path = folder / f"{self.base.name}.yaml"
        path.write_text(self.variants[name])
        return path


def load_experiment(name_or_file: str | Path, display_name: str | None = None) -> Loaded:
    """Read and validate an experiment, its base spec, its recipe and every variant; raise :class:`SpecError`."""
    path = experiment_path(name_or_file)
    if not path.exists() and path.parent == EXPERIMENT_DIR:
        raise SpecError([Problem(str(name_or_file), 1, 1, f"no bundled experiment {str(name_or_file)!r}; bundled: "
                                 f"{', '.join(bundled_experiments())} (or give an experiment file)")])
    source = read_source(path, display_name)
    if not isinstance(source.data, dict):
        raise SpecError([source.problem((), "an experiment must be a mapping (name: ..., base: ..., variants: ...)")])
    try:
        experiment = Experiment.model_validate(source.data)
    except ValidationError as exc:
        raise SpecError(problems_from(exc, source, Experiment)) from None
    experiment._source = source
    problems: list[Problem] = []
    if path.parent.resolve() == EXPERIMENT_DIR and experiment.name != path.stem:
        problems.append(experiment.problem(("name",), f"name {experiment.name!r} must equal the file name "
                                                      f"{path.stem!r}"))
    names = [v.name for v in experiment.variants]
    for i, claim in enumerate(experiment.claims):
        for key in ("variant", "against"):
            if getattr(claim, key) not in names:
                problems.append(experiment.problem(("claims", i, key), f"claims[{i}].{key}: no variant "
                                                   f"{getattr(claim, key)!r} (variants: {', '.join(names)})"))
    if experiment.activations and experiment.activations.variant not in names:
        problems.append(experiment.problem(("activations", "variant"), f"activations.variant: no variant "
                                           f"{experiment.activations.variant!r} (variants: {', '.join(names)})"))
    base_file = _relative(experiment.base, path, spec_path, "spec")
    recipe_file = _relative(experiment.recipe, path, recipe_path, "recipe")
    base = recipe = None
    for what, load in (("base", lambda: load_spec(base_file, _shown(base_file))),
                       ("recipe", lambda: load_recipe(recipe_file, _shown(recipe_file)))):
        file = base_file if what == "base" else recipe_file
        if not file.is_file():
            kind = "spec" if what == "base" else "recipe"
            problems.append(experiment.problem((what,), f"{what}: no {kind} {getattr(experiment, what)!r} "
                                               f"(no such file: {_shown(file)})"))
            continue
        try:
            loaded = load()
        except SpecError as exc:
            problems.append(experiment.problem((what,), f"{what}: {exc.problems[0]}"))
            continue
        except (FileNotFoundError, OSError):
            problems.append(experiment.problem((what,), f"{what}: no such file {getattr(experiment, what)!r}"))
            continue
        if what == "base":
            base = loaded
        else:
            recipe = loaded
    if base is None or recipe is None or problems:
        raise SpecError(problems)
    base_data = read_source(base_file).data
    variants = {}
    for i, variant in enumerate(experiment.variants):
        try:
            data = apply_edits(base_data, variant.edits)
        except ValueError as exc:
            problems.append(experiment.problem(("variants", i, "edits"), f"variant {variant.name!r}: {exc}"))
            continue
        text = spec_text(data)
        try:
            validate_text(text, f"{base.name}.yaml")
        except SpecError as exc:
            problems.extend(experiment.problem(("variants", i, "edits"), f"variant {variant.name!r} gives a "
                                               f"spec that is not valid: {p.message}") for p in exc.problems)
            continue
        variants[variant.name] = text
    if problems:
        raise SpecError(problems)
    hashes = {
        "spec": digest(_semantic(base_data, ("title", "description", "family", "year", "published"))),
        "recipe": digest(_semantic(read_source(recipe_file).data, ("title", "description", "source"))),
        "variants": {v.name: digest([e.model_dump(mode="json", exclude_none=True) for e in v.edits])
                     for v in experiment.variants},
        "setting": digest({"seeds": experiment.seeds, "train_eval_subset": experiment.train_eval_subset,
                           "curve_every": experiment.curve_every,
                           "activations": experiment.activations.model_dump(mode="json")
                           if experiment.activations else None}),
    }
    return Loaded(experiment, base, spec_text(base_data), recipe, variants, hashes, base_file, recipe_file)


def _relative(ref: str, experiment_file: Path, bundled, what: str) -> Path:
    """A bundled name, or a file path relative to the experiment file's folder."""
    if "/" not in ref and not ref.endswith((".yaml", ".yml")):
        return bundled(ref)
    path = Path(ref)
    return path if path.is_absolute() else (experiment_file.parent / path).resolve()


def _shown(path: Path) -> str:
    try:
        return str(path.resolve().relative_to(SPEC_DIR.parent))
    except ValueError:
        return str(path)


def _semantic(data: Any, drop: tuple[str, ...]) -> Any:
    """What a file says that changes training: the parsed document without its prose (comments are gone)."""
    return {k: v for k, v in data.items() if k not in drop} if isinstance(data, dict) else data


def digest(data: Any) -> str:
    return hashlib.sha256(json.dumps(data, sort_keys=True, separators=(",", ":")).encode()).hexdigest()[:16]


# --- variants -----------------------------------------------------------------------------------------------

def apply_edits(spec_data: dict, edits: list[Edit]) -> dict:
    """The base spec's document with ``edits`` applied in order (the base is not changed)."""
    data = copy.deepcopy(spec_data)
    sections = data.get("sections")
    if not isinstance(sections, dict):
        raise ValueError("the base spec has no sections")
    for number, edit in enumerate(edits):
        hits = 0
        for section, layers in sections.items():
            kept = []
            for layer in layers:
                chosen = isinstance(layer, dict) and (layer.get("name") == edit.layer if edit.layer is not None
                                                      else layer.get("kind") == edit.kind)
                if not chosen:
                    kept.append(layer)
                    continue
                hits += 1
                if edit.remove:
                    continue
                if edit.set is not None:
                    kept.append({**layer, **edit.set})
                else:
                    fixed = {k: layer[k] for k in ("name", "display") if k in layer}
                    kept.append({**fixed, **{k: v for k, v in edit.replace.items() if k not in fixed}})
            sections[section] = kept
        if not hits:
            what = f"layer {edit.layer!r}" if edit.layer is not None else f"layers of kind {edit.kind!r}"
            raise ValueError(f"edit {number + 1}: the base spec has no {what}")
    return data


def _flow(value: Any) -> str:
    """One YAML flow value (JSON is YAML; plain words stay unquoted as in the bundled specs)."""
    if isinstance(value, dict):
        return "{" + ", ".join(f"{k}: {_flow(v)}" for k, v in value.items()) + "}"
    if isinstance(value, list):
        return "[" + ", ".join(_flow(v) for v in value) + "]"
    if isinstance(value, str) and value and all(c.isalnum() or c in "_ ." for c in value) \
            and not value[0].isdigit() and value.strip() == value and value.lower() not in ("true", "false", "null",
                                                                                            "yes", "no", "on", "off"):
        return value
    if isinstance(value, float):
        return repr(value)
    return json.dumps(value)


def spec_text(data: dict) -> str:
    """A spec document as YAML with one line per layer (the bundled specs' layout), for diffs and training."""
    lines = []
    for key, value in data.items():
        if key == "sections" and isinstance(value, dict):
            lines.append("sections:")
            for section, layers in value.items():
                lines.append(f"  {section}:")
                lines.extend(f"    - {_flow(layer)}" for layer in layers)
        else:
            lines.append(f"{key}: {_flow(value)}")
    return "\n".join(lines) + "\n"


def variant_diff(loaded: Loaded, name: str) -> str:
    """The variant as a unified diff of the base spec (only the lines that change, with a little context)."""
    base, text = loaded.base_text.splitlines(), loaded.variants[name].splitlines()
    diff = difflib.unified_diff(base, text, f"spec/{loaded.base.name}.yaml", name, n=1, lineterm="")
    return "\n".join(diff)


# --- statistics ---------------------------------------------------------------------------------------------

def measure(run: dict, claim: Claim) -> tuple[float, bool]:
    """``(value, censored)`` of ``claim.measure`` for one seed's run. A threshold never reached gives the run's
    total (epochs or seconds) and ``censored=True``: the true value is larger."""
    epochs = run["epochs"]
    last = epochs[-1]
    if claim.measure in ("epochs_to_train_error", "seconds_to_train_error"):
        points = run["steps"]
        for point in points:
            if point["train_running_error"] <= claim.threshold:
                return (point["epoch"] if claim.measure == "epochs_to_train_error" else point["seconds"]), False
        return (points[-1]["epoch"] if claim.measure == "epochs_to_train_error" else points[-1]["seconds"]), True
    if claim.measure == "final_gap":
        return 100 * (last["val_top1_error"] - last["train_top1_error"]), False
    key = claim.measure.removeprefix("final_")
    return 100 * last[key], False


def t_quantile(df: int, p: float = 0.975) -> float:
    from scipy.special import stdtrit  # Student's t quantile; scipy.stats takes twice as long to import

    return float(stdtrit(df, p))


@dataclass
class Summary:
    claim: Claim
    label: str
    unit: str
    values: dict[str, list[float]]  # variant -> per-seed values
    censored: dict[str, int]  # variant -> seeds that never reached the threshold
    mean: dict[str, float]
    sd: dict[str, float]
    diff_mean: float  # against - variant, paired by seed (positive: variant lower)
    diff_low: float
    diff_high: float
    ratio: float | None  # mean(against) / mean(variant)
    verdict: str  # "held", "did not hold", "within noise"

    @property
    def confidence(self) -> str:
        return "95%"


def summarize(experiment: Experiment, results: dict, claim: Claim) -> Summary:
    """Mean and standard deviation per variant and the paired difference's 95% t interval over the seeds.

    The claim held when the interval lies wholly on the paper's side of zero, did not hold when it lies wholly
    on the other side, and is within noise when it contains zero."""
    runs = {v["name"]: v["runs"] for v in results["variants"]}
    values, censored = {}, {}
    for name in (claim.variant, claim.against):
        pairs = [measure(run, claim) for run in runs[name]]
        values[name], censored[name] = [v for v, _ in pairs], sum(c for _, c in pairs)
    a, b = values[claim.variant], values[claim.against]
    diffs = [y - x for x, y in zip(a, b, strict=True)]
    n = len(diffs)
    mean_d = sum(diffs) / n
    sd_d = math.sqrt(sum((d - mean_d) ** 2 for d in diffs) / (n - 1)) if n > 1 else math.inf
    half = t_quantile(n - 1) * sd_d / math.sqrt(n) if n > 1 else math.inf
    low, high = mean_d - half, mean_d + half
    sign = 1 if claim.better == "lower" else -1  # paper's side: against - variant > 0 when lower is better
    if sign * low > 0 and sign * high > 0:
        verdict = "held"
    elif sign * low < 0 and sign * high < 0:
        verdict = "did not hold"
    else:
        verdict = "within noise"
    mean = {k: sum(v) / len(v) for k, v in values.items()}
    sd = {k: math.sqrt(sum((x - mean[k]) ** 2 for x in v) / (len(v) - 1)) if len(v) > 1 else 0.0
          for k, v in values.items()}
    ratio = mean[claim.against] / mean[claim.variant] if mean[claim.variant] > 0 else None
    label, unit = MEASURES[claim.measure]
    return Summary(claim, label.format(threshold=claim.threshold or 0), unit, values, censored, mean, sd, mean_d, low,
                   high, ratio, verdict)


def stale_reasons(loaded: Loaded, results: dict | None) -> list[str]:
    """Why the committed results no longer describe the experiment (empty: they do)."""
    if results is None:
        return ["no results: run `make experiments`"]
    if results.get("format") != RESULTS_FORMAT:
        return [f"results format {results.get('format')!r}, expected {RESULTS_FORMAT!r}"]
    reasons = []
    have = results.get("provenance", {}).get("hashes", {})
    for key in ("spec", "recipe", "setting"):
        if have.get(key) != loaded.hashes[key]:
            reasons.append(f"the {key} changed (hash {have.get(key)} in the results, {loaded.hashes[key]} now)")
    for name, value in loaded.hashes["variants"].items():
        if have.get("variants", {}).get(name) != value:
            reasons.append(f"variant {name!r} changed or is new")
    gone = set(have.get("variants", {})) - set(loaded.hashes["variants"])
    reasons += [f"variant {name!r} is gone" for name in sorted(gone)]
    for variant in results.get("variants", []):
        if variant.get("name") in loaded.hashes["variants"] and variant.get("seeds") != loaded.experiment.seeds:
            reasons.append(f"variant {variant.get('name')!r} was run with seeds {variant.get('seeds')}, "
                           f"the experiment says {loaded.experiment.seeds}")
    return reasons


# --- errors -------------------------------------------------------------------------------------------------
