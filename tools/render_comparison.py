"""Every spec side by side: what differs between the networks, and per-layer parameters and MACs.

Generic on purpose: the rows come from the specs (layers aligned by their table label, ``display``),
so a spec added to spec/ joins the comparison with no change here.
"""

from __future__ import annotations

from collections import Counter

from alexnet.analysis import Analysis, Row
from alexnet.formatting import fmt_chw, fmt_number, fmt_size

from .render_markdown import in_parameter_table
from .templating import environment, header


def render_comparison(analyses: list[Analysis]) -> str:
    columns = [{"name": a.spec.name, "title": a.spec.title} for a in analyses]
    return environment().get_template("comparison.md.j2").render(
        header=header(None, "<!--", "spec/*.yaml"),
        columns=columns,
        aspects=aspects(analyses),
        layers=layer_rows(analyses),
        totals=[{"params": a.total_params, "macs": a.total_macs} for a in analyses],
    )


def aspects(analyses: list[Analysis]) -> list[dict]:
    """The architectural differences, one row per aspect, one plain-text cell per spec."""
    described = {
        "Input (C x H x W)": lambda a: fmt_chw(a.input),
        "Conv output channels": lambda a: ", ".join(str(r.layer.out_channels) for r in a.layers_of("conv")),
        "Conv kernel / stride / padding": _conv_geometry,
        "Grouped convolutions": _groups,
        "Local response normalization": _lrn,
        "Pooling": _pooling,
        "Dropout": _dropout,
        "Initialization": _init,
    }
    rows = []
    for label, describe in described.items():
        cells = [describe(a) for a in analyses]
        rows.append({"label": label, "cells": cells, "differs": len(set(cells)) > 1})
    return rows


def layer_rows(analyses: list[Analysis]) -> list[dict]:
    """Parameter-table rows of all specs, aligned by label; ``None`` where a spec has no such layer."""
    keyed = [_keyed_rows(a) for a in analyses]
    merged = _merge_orders([list(rows) for rows in keyed])
    return [{"label": key[0], "cells": [rows.get(key) for rows in keyed]} for key in merged]


def _keyed_rows(analysis: Analysis) -> dict[tuple[str, int], Row]:
    """Table rows by (label, occurrence): a label used twice in one spec stays two rows."""
    seen: Counter = Counter()
    keyed = {}
    for row in analysis.rows:
        if in_parameter_table(row):
            keyed[(row.display, seen[row.display])] = row
            seen[row.display] += 1
    return keyed


def _merge_orders(sequences: list[list]) -> list:
    """One order holding every item and keeping each sequence's order: an item not yet placed goes just
    before the next item of its sequence that is (so Pool3, AvgPool, FC1 reads as in the network).
    A linked list keeps it linear: each item is placed once, by walking its sequence backwards."""
    head, end = object(), object()
    after, before = {head: end}, {end: head}
    for sequence in sequences:
        anchor = end
        for item in reversed(sequence):
            if item not in after:
                after[before[anchor]], before[item], after[item], before[anchor] = item, before[anchor], anchor, item
            anchor = item
    merged, item = [], after[head]
    while item is not end:
        merged.append(item)
        item = after[item]
    return merged


def _where(analysis: Analysis, name: str) -> str:
    """``after relu1, before pool1``: a layer's place by its neighbours."""
    before, after = analysis.neighbours(name)
    return (f"{f'after {before.display}' if before else 'at the input'}, "
            f"{f'before {after.display}' if after else 'at the output'}")


def _conv_geometry(analysis: Analysis) -> str:
    convs = [r.layer for r in analysis.layers_of("conv")]
    return ", ".join(f"{fmt_size(c.kernel_size)}/{fmt_size(c.stride)}/{fmt_size(c.padding)}" for c in convs)


def _groups(analysis: Analysis) -> str:
    grouped = [r for r in analysis.layers_of("conv") if r.layer.groups > 1]
    if not grouped:
        return "none"
    by_groups: dict[int, list[str]] = {}
    for conv in grouped:
        by_groups.setdefault(conv.layer.groups, []).append(conv.display)
    return "; ".join(f"{', '.join(labels)}: {groups} groups" for groups, labels in by_groups.items())


def _lrn(analysis: Analysis) -> str:
    layers = analysis.layers_of("lrn")
    if not layers:
        return "none"
    settings = [f"n={n.size}, alpha={fmt_number(n.alpha)}, beta={fmt_number(n.beta)}, k={fmt_number(n.k)}, "
                f"{n.convention} convention" for n in (r.layer for r in layers)]
    places = [_where(analysis, n.name) for n in layers]
    if len(set(settings)) == 1:
        return f"{'; '.join(places)} ({settings[0]})"
    return "; ".join(f"{place} ({setting})" for place, setting in zip(places, settings, strict=True))


def _pooling(analysis: Analysis) -> str:
    counts = Counter(r.layer.diagram_label(r.output) for r in analysis.rows if r.layer.family == "pool")
    if not counts:
        return "none"
    return "; ".join(label if count == 1 else f"{label} (x{count})" for label, count in counts.items())


def _dropout(analysis: Analysis) -> str:
    layers = analysis.layers_of("dropout")
    if not layers:
        return "none"
    return "; ".join(f"p={fmt_number(d.layer.p)} {_where(analysis, d.name)}" for d in layers)


def _init(analysis: Analysis) -> str:
    init = analysis.spec.init
    default = init.weights == "default"
    text = "PyTorch default" if default else f"weights N(0, {fmt_number(init.std)}), biases {fmt_number(init.bias)}"
    overrides: dict[float, list[str]] = {}
    for row in analysis.rows:
        if row.layer.bias_override() is not None:
            overrides.setdefault(row.layer.bias_override(), []).append(row.display)
    for value, labels in overrides.items():
        text += f"; bias {fmt_number(value)} in {', '.join(labels)}"
    return text
