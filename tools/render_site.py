"""Site partials generated from the specs: key facts, a page per spec, the seed-table errors, where LRN
sits, and the spec reference (from the JSON schema). Pages pull them in with pymdownx.snippets, so every
number a reader sees comes from the analysis.
"""

from __future__ import annotations

import html
import json
from pathlib import Path
from typing import TYPE_CHECKING

from alexnet.analysis import Analysis
from alexnet.formatting import fmt_chw, fmt_hwc
from alexnet.kinds import KINDS, output_size, torch_alpha

from .templating import environment, header

if TYPE_CHECKING:
    from .render_paper_table import PaperTable

ROOT = Path(__file__).resolve().parent.parent
SEED_SPEC = "alexnet"          # the one-tower network whose table the seed post prints
# The total the seed post prints (a fact about that document, not about our spec).
SEED_PRINTED_TOTAL = 62_378_344
PAPER_SPEC = "alexnet_paper"   # the two-GPU network of the 2012 paper


def _neighbours(analysis: Analysis, name: str) -> tuple[str, str]:
    """The layers just before and after ``name`` ('input' / 'output' at the ends)."""
    before, after = analysis.neighbours(name)
    return before.name if before else "input", after.name if after else "output"


def _grouped_convs(analysis: Analysis) -> list[str]:
    """Table labels of the convolutions split into groups (one group per GPU in the paper)."""
    return [row.display for row in analysis.layers_of("conv") if row.layer.groups > 1]


def _merges(analysis: Analysis) -> dict:
    """Residual additions (split by whether the shortcut carries the block's input unchanged) and
    concatenations (with how many branches each joins)."""
    adds = analysis.layers_of("add")
    concats = analysis.layers_of("concat")
    position = {"input": -1, **{row.name: i for i, row in enumerate(analysis.rows)}}
    return {
        "adds": len(adds),
        "identity_adds": sum(_adds_its_own_ancestor(analysis, row, position) for row in adds),
        "concats": len(concats),
        "branches": sorted({len(row.sources) for row in concats}),
    }


def _adds_its_own_ancestor(analysis: Analysis, add, position: dict[str, int]) -> bool:
    """True when one input of ``add`` is also upstream of another: the tensor a branch started from, added
    back unchanged (an identity shortcut). Rows only read earlier rows, so the walk back from the other
    inputs stops at rows older than the candidate."""
    sources = list(dict.fromkeys(add.sources))
    for candidate in sources:
        floor = position[candidate]
        stack = [s for s in sources if s != candidate]
        seen: set[str] = set()
        while stack:
            name = stack.pop()
            if name == candidate:
                return True
            if name in seen or name == "input" or position[name] < floor:
                continue
            seen.add(name)
            stack.extend(analysis.row(name).sources)
    return False


def facts(analysis: Analysis) -> dict:
    """The numbers of the "key features" list."""
    rows = analysis.rows
    weighted = [r for r in rows if r.kind in ("conv", "linear")]
    activations = [r for r in rows if r.layer.family == "act"]
    lrn = [(row.layer, *_neighbours(analysis, row.name)) for row in analysis.layers_of("lrn")]
    dropout = [(row.layer, _neighbours(analysis, row.name)[1]) for row in analysis.layers_of("dropout")]
    return {
        "input": fmt_chw(analysis.input),
        "params": analysis.total_params,
        "macs": analysis.total_macs,
        "flops": analysis.total_flops,
        "weighted": len(weighted),
        "convs": sum(r.kind == "conv" for r in weighted),
        "linears": sum(r.kind == "linear" for r in weighted),
        "grouped": _grouped_convs(analysis),
        "activations": sorted({r.layer.diagram_label(r.output) for r in activations}),
        "activation_count": len(activations),
        "lrn": lrn,
        "dropout": dropout,
        "batchnorm": len(analysis.layers_of("batchnorm")),
        **_merges(analysis),
        "classes": analysis.spec.num_classes,
    }


def render_facts(analysis: Analysis) -> str:
    return environment().get_template("facts.md.j2").render(
        header=header(analysis.spec, "<!--"), f=facts(analysis))


def render_spec_page(analysis: Analysis, paper_table: PaperTable | None = None) -> str:
    """The spec's own page: description, facts, diagram, table (and the paper's beside it, if there is one)
    and the generated model code."""
    return environment().get_template("spec_page.md.j2").render(
        header=header(analysis.spec, "<!--"), spec=analysis.spec, paper_table=paper_table)


def seed_errors(analyses: list[Analysis]) -> dict | None:
    """Figures that show where the seed's table is wrong, computed from the specs."""
    by_name = {a.spec.name: a for a in analyses}
    seed = by_name.get(SEED_SPEC)
    if seed is None:
        return None
    fcs = [r for r in seed.rows if r.kind == "linear"]
    first_fc = fcs[0] if fcs else None
    # The last layer with feature maps before FC1 (Pool3 in AlexNet): its maps are flattened into FC1.
    last_maps = next((r for r in reversed(seed.rows[:seed.rows.index(first_fc)]) if len(r.output) == 3),
                     None) if first_fc else None
    conv1 = _first_conv(seed)
    if conv1 is not None:
        conv1["out_unpadded"] = max(output_size(conv1["size"], conv1["k"], conv1["s"], 0), 0)
    paper = by_name.get(PAPER_SPEC)
    paper_figures = None
    if paper is not None:
        paper_conv1 = _first_conv(paper)
        paper_figures = {
            "params": paper.total_params, "weights": paper.total_weights,
            "removed": seed.total_weights - paper.total_weights,
            "input": paper_conv1["size"] if paper_conv1 else None,
            "conv1_out": paper_conv1["out"] if paper_conv1 else None,
            "conv1_padding": paper_conv1["p"] if paper_conv1 else None,
            "grouped": _grouped_convs(paper),
        }
    return {
        "fcs": [{"display": r.display, "output": fmt_hwc(r.output), "filter": r.layer.filter_text(r.input),
                 "input": r.input[0]} for r in fcs],
        "flat_from": fmt_hwc(last_maps.output) if last_maps else None,
        "flat_layer": last_maps.display if last_maps else None,
        "conv1": conv1,
        "params": seed.total_params,
        "seed_printed_total": SEED_PRINTED_TOTAL,
        "paper": paper_figures,
    }


def _first_conv(analysis: Analysis) -> dict | None:
    """The first convolution's geometry along the height, when it reads the (C, H, W) input directly."""
    row = analysis.rows[0] if analysis.rows else None
    if row is None or row.kind != "conv":
        return None
    layer, size = row.layer, analysis.input[1]
    k, s, p = layer.kernel_size[0], layer.stride[0], layer.padding[0]
    return {"display": row.display, "size": size, "k": k, "s": s, "p": p, "out": row.output[1]}


def render_seed_errors(analyses: list[Analysis]) -> str:
    return environment().get_template("seed_errors.md.j2").render(
        header=header(None, "<!--", f"spec/{SEED_SPEC}.yaml and spec/{PAPER_SPEC}.yaml"),
        e=seed_errors(analyses))


def render_lrn_usage(analyses: list[Analysis]) -> str:
    """Which LRN each spec uses, where, and the equivalent torch.nn.LocalResponseNorm call."""
    rows = []
    for analysis in analyses:
        found = analysis.layers_of("lrn")
        if not found:
            rows.append({"spec": analysis.spec.name, "layer": None})
        for row in found:
            layer = row.layer
            before, after = _neighbours(analysis, row.name)
            alpha = torch_alpha(layer.size, layer.alpha, layer.convention)
            rows.append({"spec": analysis.spec.name, "layer": row.name, "before": before, "after": after,
                         "size": layer.size, "alpha": f"{layer.alpha:g}", "beta": f"{layer.beta:g}",
                         "k": f"{layer.k:g}", "convention": layer.convention,
                         "torch": f"nn.LocalResponseNorm({layer.size}, alpha={alpha:g}, "
                                  f"beta={layer.beta:g}, k={layer.k:g})"})
    return environment().get_template("lrn_usage.md.j2").render(
        header=header(None, "<!--", "spec/*.yaml"), rows=rows)


def render_spec_reference(schema: dict) -> str:
    """The spec format, one table per object of the JSON schema (spec/schema.json)."""
    defs = schema["$defs"]
    layer_models: dict[str, list[str]] = {}
    for kind, cls in KINDS.items():
        layer_models.setdefault(cls.__name__, []).append(kind)
    objects = [("Spec", "spec", [], schema)]
    objects += [(name, name.lower(), [], defs[name]) for name in ("Init", "Published", "Block", "BlockUse")]
    objects += [(name, name.lower(), kinds_of, defs[name]) for name, kinds_of in layer_models.items()]
    tables = [{"title": title, "anchor": anchor, "kinds": kinds_of, "description": _doc(obj.get("description", "")),
               "examples": [_example(kind) for kind in kinds_of],
               "fields": [_field(key, prop, key in obj.get("required", []), defs)
                          for key, prop in obj["properties"].items() if not (kinds_of and key == "kind")]}
              for title, anchor, kinds_of, obj in objects]
    return environment().get_template("spec_reference.md.j2").render(
        header=header(None, "<!--", "spec/schema.json"), tables=tables)


def _example(kind: str) -> str:
    """A layer of ``kind`` as a spec writes it, from the kind's own example."""
    def value(v) -> str:
        return "[" + ", ".join(map(value, v)) + "]" if isinstance(v, list) else str(v)
    items = {"name": f"{kind}1", "kind": kind, **KINDS[kind].example}
    return "- {" + ", ".join(f"{k}: {value(v)}" for k, v in items.items()) + "}"


def _field(key: str, prop: dict, required: bool, defs: dict) -> dict:
    default = "required" if required else json.dumps(prop.get("default"))
    return {"key": key, "type": _type(prop, defs), "default": default, "description": _doc(prop.get("description", ""))}


def _doc(text: str) -> str:
    """Descriptions written in the code: RST ``literals`` become Markdown code; table pipes are escaped."""
    return html.escape(text.replace("``", "`"), quote=False).replace("|", "\\|")


def _sides(array: dict) -> str:
    """What a fixed-length list of sizes stands for."""
    return {2: "a `[height, width]` pair", 4: "`[left, right, top, bottom]`"}.get(len(array["prefixItems"]),
                                                                                f"{len(array['prefixItems'])} values")


def _type(prop: dict, defs: dict) -> str:
    """A JSON-schema property in words (the YAML a reader writes, not the schema's internals)."""
    if "anyOf" in prop:
        options = [p for p in prop["anyOf"] if p.get("type") != "null"]
        optional = " (optional)" if len(options) < len(prop["anyOf"]) else ""
        if len(options) == 2 and options[1].get("prefixItems") and options[1]["prefixItems"][0] == options[0]:
            return f"{_type(options[0], defs)}, or {_sides(options[1])} of them{optional}"  # 3, or [3, 5]
        return " or ".join(_type(p, defs) for p in options) + optional
    if "$ref" in prop:
        name = prop["$ref"].rsplit("/", 1)[1]
        return f"[{name}](#{name.lower()}) mapping"
    if "const" in prop:
        return f"`{prop['const']}`"
    if "enum" in prop:
        return "one of " + ", ".join(f"`{v}`" for v in prop["enum"])
    kind = prop.get("type")
    if kind == "array" and "prefixItems" in prop:
        return f"{_sides(prop)} of {_type(prop['prefixItems'][0], defs)}"
    if kind == "array":
        return f"list of {_type(prop['items'], defs)} ({prop.get('minItems', 0)} to {prop.get('maxItems', 'any')} items)"
    if kind == "object":
        values = prop.get("additionalProperties")
        if not isinstance(values, dict):
            return "mapping (a layer or block use, as in a section)"
        if "$ref" in values:
            return f"mapping: name to {_type(values, defs)}"
        if values.get("type") == "array":
            return "mapping: section name to a list of [layers](#layer-kinds) and [block uses](#blockuse)"
        return "mapping: name to a value (integer, true/false, list of integers, or `$name`)"
    bounds = []
    if "minimum" in prop and prop.get("maximum", 2**31 - 1) < 2**31 - 1:
        bounds.append(f"from {prop['minimum']} to {prop['maximum']}")
        prop = {k: v for k, v in prop.items() if k not in ("minimum", "maximum")}
    if "exclusiveMinimum" in prop:
        bounds.append(f"> {prop['exclusiveMinimum']}")
    if "minimum" in prop:
        bounds.append(f">= {prop['minimum']}")
    if "maximum" in prop and prop["maximum"] < 2**31 - 1:  # the int32 bound is a safety limit, not a rule
        bounds.append(f"<= {prop['maximum']}")
    words = {"integer": "integer", "number": "number", "boolean": "`true` or `false`", "string": "text"}[kind]
    if "pattern" in prop and prop["pattern"].startswith("^[a-z"):
        words = "lower-case identifier"
    elif "pattern" in prop and prop["pattern"].startswith("^[A-Z]"):
        words = "Python class name"
    elif "pattern" in prop and prop["pattern"].startswith("^[A-Za-z_]"):
        words = "identifier"
    if "maxLength" in prop:
        words += f" (at most {prop['maxLength']} characters)"
    return " ".join([words, *bounds])
