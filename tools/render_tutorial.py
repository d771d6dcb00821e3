"""The tutorial's two edits of the seed spec, applied while the site is generated so that its page shows
what a reader will really get: the changed table rows, the model's diff and the redrawn diagram.

1. conv1 gets 64 filters instead of 96 (one value changed);
2. a residual ``add`` around conv4 (one line inserted: a branch and a merge in a straight network).
"""

from __future__ import annotations

import difflib
import math
from pathlib import Path

import yaml

from alexnet.analysis import Analysis, analyse
from alexnet.codegen import render_model
from alexnet.formatting import fmt_chw, fmt_rf
from alexnet.source import SpecError
from alexnet.validation import validate_text

from .render_markdown import table_rows
from .render_site import SEED_SPEC
from .svg import render_compact
from .templating import environment, header

TUTORIAL_LAYER, TUTORIAL_KEY, TUTORIAL_VALUE = "conv1", "out_channels", 64
# The second edit: after RESIDUAL_AFTER, add conv4's input (relu3) to its activated output (relu4).
RESIDUAL_AFTER = "relu4"
RESIDUAL_LAYER = {"name": "skip4", "kind": "add", "from": ["relu3", "relu4"]}
RESIDUAL_AROUND = "conv4"
CONTEXT_LINES = 2  # spec lines shown around the inserted one


def _seed(analyses: list[Analysis]) -> Analysis | None:
    return next((a for a in analyses if a.spec.name == SEED_SPEC), None)


def _changes(before: Analysis, after: Analysis) -> dict:
    """Changed table rows, totals and the model's diff between two versions of the seed network."""
    old_code, new_code = render_model(before).splitlines(), render_model(after).splitlines()
    model = f"alexnet/models/{SEED_SPEC}.py"
    return {
        "rows": [(b, a) for b, a in zip(table_rows(before), table_rows(after), strict=True) if b != a],
        "totals": {"params": (before.total_params, after.total_params),
                   "macs": (before.total_macs, after.total_macs)},
        "diff": "\n".join(difflib.unified_diff(old_code, new_code, f"a/{model}", f"b/{model}", n=0, lineterm="")),
        # The edited network's diagram, inline like the spec pages' (its "generated" comment line dropped).
        "svg": render_compact(after).split("\n", 1)[1].strip(),
    }


def render_tutorial(analyses: list[Analysis]) -> str:
    """What the first edit (conv1 to 64 channels in the seed spec) changes: table rows and model code."""
    seed = _seed(analyses)
    context = {"header": header(None, "<!--", f"spec/{SEED_SPEC}.yaml"), "layer": TUTORIAL_LAYER,
               "key": TUTORIAL_KEY, "value": TUTORIAL_VALUE, "spec": SEED_SPEC, "rows": [], "diff": "", "svg": "",
               "invalid": []}
    layer = next((layer for _, _, layer in seed.spec.layers() if layer.name == TUTORIAL_LAYER), None) if seed else None
    context["missing"] = layer is None or not hasattr(layer, TUTORIAL_KEY)
    if not context["missing"]:
        context["old"] = getattr(layer, TUTORIAL_KEY)
        try:
            edited = analyse(_edited(seed.spec, TUTORIAL_LAYER, {TUTORIAL_KEY: TUTORIAL_VALUE}))
        except SpecError as exc:  # the spec as it stands now may not admit the tutorial's edit
            context["invalid"] = [p.message for p in exc.problems]
            return environment().get_template("tutorial_change.md.j2").render(**context)
        context.update(_changes(seed, edited))
    return environment().get_template("tutorial_change.md.j2").render(**context)


def _edited(spec, layer_name: str, update: dict):
    """A copy of ``spec`` with one layer's keys changed (the spec models are frozen)."""
    sections = {section: [layer.model_copy(update=update) if layer.name == layer_name else layer for layer in layers]
                for section, layers in spec.sections.items()}
    return spec.model_copy(update={"sections": sections})


def render_tutorial_residual(analyses: list[Analysis], root: Path) -> str:
    """What the second edit changes: the line is inserted into the spec's text, and the text before and after
    goes through the one validation path like a saved file."""
    file = f"spec/{SEED_SPEC}.yaml"
    context = {"header": header(None, "<!--", file), "file": file, "after": RESIDUAL_AFTER,
               "name": RESIDUAL_LAYER["name"], "inputs": RESIDUAL_LAYER["from"],
               "around": RESIDUAL_AROUND, "invalid": [], "snippet": ""}
    path = root / file
    text = path.read_text() if _seed(analyses) and path.is_file() else ""
    lines = text.splitlines()
    at = next((i for i, line in enumerate(lines) if f"{{name: {RESIDUAL_AFTER}," in line), None)
    context["missing"] = at is None
    if at is None:
        return environment().get_template("tutorial_residual.md.j2").render(**context)
    indent = lines[at][:len(lines[at]) - len(lines[at].lstrip())]
    flow = yaml.safe_dump(RESIDUAL_LAYER, default_flow_style=True, sort_keys=False, width=math.inf).strip()
    edited_lines = [*lines[:at + 1], f"{indent}- {flow}", *lines[at + 1:]]
    first = max(at + 1 - CONTEXT_LINES - 1, 0)
    context["snippet"] = "\n".join(edited_lines[first:at + 2 + CONTEXT_LINES])
    context["highlight"] = at + 2 - first  # the inserted line, counted from 1 in the snippet
    try:
        before = validate_text(text, file)
        edited = validate_text("\n".join(edited_lines) + "\n", file)
    except SpecError as exc:  # the spec as it stands now may not admit the edit
        context["invalid"] = [p.message for p in exc.problems]
        return environment().get_template("tutorial_residual.md.j2").render(**context)
    weighted = {r.name: r.path for r in before.rows if r.params}
    reader = next((r for r in edited.rows if RESIDUAL_LAYER["name"] in r.sources), None)
    context.update(_changes(before, edited), reader=reader,
                   same_keys=weighted == {r.name: r.path for r in edited.rows if r.params},
                   shape=fmt_chw(edited.row(RESIDUAL_LAYER["name"]).output))
    if reader:
        context["rf"] = (fmt_rf(before.row(reader.name).receptive_field), fmt_rf(reader.receptive_field))
    return environment().get_template("tutorial_residual.md.j2").render(**context)
