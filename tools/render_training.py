"""Files generated from the training recipes (spec/recipes/*.yaml): their JSON schema and the Training
page's side-by-side table (docs/generated/recipes.md)."""

from __future__ import annotations

import json

from alexnet.recipe import Recipe, bundled_recipes, load_recipe, schema

from .templating import header, markdown_text

# Columns of the side-by-side table: the three ImageNet recipes first, then the small ones.
ORDER = ("paper", "caffe", "torchvision", "fashion_mnist", "digits")


def training_artifacts() -> dict[str, str]:
    recipes = [load_recipe(name, f"spec/recipes/{name}.yaml") for name in bundled_recipes()]
    recipes.sort(key=lambda r: (ORDER.index(r.name) if r.name in ORDER else len(ORDER), r.name))
    return {
        "spec/recipes/schema.json": json.dumps({"$comment": header(None, "", "alexnet/recipe.py").strip(), **schema()},
                                               indent=2, ensure_ascii=False) + "\n",
        "docs/generated/recipes.md": render_recipes(recipes),
    }


def _num(value: float) -> str:
    return f"{value:g}"


def _optimizer(r: Recipe) -> str:
    o = r.optimizer
    rule = "the paper's rule (rate inside the velocity)" if o.kind == "paper_sgd" else "`torch.optim.SGD`"
    return f"SGD, {rule}" + (", Nesterov" if o.nesterov else "")


def _schedule(r: Recipe) -> str:
    s = r.schedule
    if s.kind == "constant":
        return "constant"
    if s.kind == "step":
        return f"x {_num(s.factor)} every {s.step_size} epochs"
    cuts = f", at most {s.max_reductions} times" if s.max_reductions is not None else ""
    return f"x {_num(s.factor)} after {s.patience} epoch(s) without a lower validation error{cuts}"


def _train_pipeline(r: Recipe) -> str:
    a = r.augment
    steps = [f"shorter side {a.resize}"] if a.resize else []
    steps += [f"centre {a.center_crop}x{a.center_crop}"] if a.center_crop else []
    steps += [f"pad {a.pad}"] if a.pad else []
    steps.append({"random": "random crop", "random_resized": "random-resized crop", "center": "centre crop"}[a.crop]
                 + " of the input size")
    steps += ["horizontal flip"] if a.flip else []
    return ", ".join(steps)


def _lighting(r: Recipe) -> str:
    light = r.augment.lighting
    if light is None:
        return "none"
    return f"PCA, alpha ~ N(0, {_num(light.alphastd)}), eigenvalues {', '.join(_num(v) for v in light.eigval)}"


def _normalize(r: Recipe) -> str:
    a = r.augment
    if all(abs(s * 255 - 1) < 1e-9 for s in a.std):
        return f"pixels 0..255 minus the mean ({', '.join(_num(m * 255) for m in a.mean)})"
    return f"(x - mean) / std, mean {', '.join(_num(m) for m in a.mean)}, std {', '.join(_num(s) for s in a.std)}"


def _evaluation(r: Recipe) -> str:
    e = r.evaluation
    steps = [f"shorter side {e.resize}"] if e.resize else []
    steps += [f"centre {e.center_crop}x{e.center_crop}"] if e.center_crop else []
    steps += [f"pad {e.pad}"] if e.pad else []
    steps.append("centre crop" + (" and ten crops" if e.ten_crop else ""))
    return ", ".join(steps)


ROWS = (
    ("Source", lambda r: r.source),
    ("Data", lambda r: {"imagenet_folder": "ImageNet folder (`--data DIR`)", "fashion_mnist": "Fashion-MNIST",
                        "digits": "scikit-learn digits"}[r.data.source]),
    ("Epochs", lambda r: str(r.epochs)),
    ("Batch (global)", lambda r: str(r.batch_size)),
    ("Optimizer", _optimizer),
    ("Learning rate", lambda r: _num(r.optimizer.lr)),
    ("Momentum", lambda r: _num(r.optimizer.momentum)),
    ("Weight decay", lambda r: _num(r.optimizer.weight_decay)),
    ("Rate schedule", _schedule),
    ("Training images", _train_pipeline),
    ("Lighting noise", _lighting),
    ("Normalization", _normalize),
    ("Evaluation", _evaluation),
)


def render_recipes(recipes: list[Recipe]) -> str:
    def cell(text: str) -> str:
        return markdown_text(text).replace("\\`", "`") if "`" in text else markdown_text(text)

    lines = [header(None, "<!--", "spec/recipes/*.yaml"), "",
             "| | " + " | ".join(f"`{r.name}`: {markdown_text(r.title)}" for r in recipes) + " |",
             "|---|" + "---|" * len(recipes)]
    lines += [f"| {label} | " + " | ".join(cell(get(r)) for r in recipes) + " |" for label, get in ROWS]
    lines += ["", *(f"- **`{r.name}`** (`spec/recipes/{r.name}.yaml`): {markdown_text(r.description)}" for r in recipes
                    if r.description)]
    return "\n".join(lines) + "\n"
