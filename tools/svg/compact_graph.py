"""The compact view of a graph spec: boxes top to bottom, branches side by side, the output shape beside
every edge, block uses framed, and a run of identical block uses drawn once with an "x N" marker.

Batch norm and activations that follow a box are badges inside it (``BN``, ``ReLU``), so a residual block
or an Inception branch reads as a few boxes. Boxes in frames carry no name on their left (there is no room
beside parallel columns): the frame names the block use and each box's tooltip names its layer.
"""

from __future__ import annotations

from dataclasses import replace

from alexnet.analysis import Analysis, Row
from alexnet.formatting import fmt_chw
from alexnet.graph import path_name

from .figure import Figure, Group, Text, arrow, layer_id, rect, terminal_id, text_width
from .flow import Metrics, place
from .labels import badge_label, is_activation, layer_label, layer_title
from .legend import legend, legend_width
from .repeats import Run, repeated_runs
from .structure import Fork
from .units import Layout, Unit, layout

MARGIN = 12
BOX_H = 28
BOX_PAD = 6
BADGE_GAP = 3
MIN_BOX_W = 110
LABEL_SIZE = 11  # a point below the chain view's: four Inception branches fit the site's column
BADGE_SIZE = 9
NAME_SIZE = 11
SHAPE_SIZE = 11
TITLE_SIZE = 11
MARKER_SIZE = 13
NAME_GAP = 10
SHAPE_OFFSET = 8
STACK = 4  # a repeated block's frame has a second one this far behind it


def fold_badge(unit: Unit, row: Row) -> bool:
    """At most one batch norm, then one activation, after a box that is neither."""
    if unit.terminal or unit.head.layer.family in ("norm", "act"):
        return False
    kinds = [r.kind for r in unit.rows[1:]]
    if row.kind == "batchnorm":
        return not kinds
    return is_activation(row) and not any(is_activation(r) for r in unit.rows[1:])


def layout_compact_graph(analysis: Analysis) -> Figure | None:
    plan = layout(analysis, fold_badge, repeated_runs(analysis))
    if plan is None:
        return None
    runs = [run for _instance, run in plan.framed if run]  # the runs drawn once, each in its frame
    spec, units = analysis.spec, plan.units
    prefix = f"{spec.name}-compact-"
    badges = [[_badge_w(r) for r in u.rows[1:]] for u in units]
    labels = [_label(u) for u in units]
    need = [text_width(t, LABEL_SIZE) + sum(w + BADGE_GAP for w in b) + 2 * BOX_PAD
            for t, b in zip(labels, badges, strict=True)]
    widths = _widths(plan.items, need, [0.0] * len(units))
    # Outside frames a box keeps its name on its left; the placement spaces columns to fit them.
    named = {u for u, unit in enumerate(units) if unit.rows and u not in plan.prefixes}
    shapes = [fmt_chw(u.output) if u.rows else fmt_chw(analysis.input) for u in units]
    metrics = []
    for u, unit in enumerate(units):
        label_w = text_width(shapes[u], SHAPE_SIZE) if unit.terminal != "output" else 0
        name_w = NAME_GAP + text_width(unit.head.display, NAME_SIZE) if u in named else 0
        half = widths[u] / 2
        metrics.append(Metrics(half + name_w, max(half, SHAPE_OFFSET + label_w), BOX_H, half, label_w))
    titles = [_frame_title(instance, run) for instance, run in plan.framed]
    markers = [f"x {len(run.uses)}" if run else "" for _instance, run in plan.framed]
    frames = [replace(f, title_w=text_width(t, TITLE_SIZE), marker_w=text_width(m, MARKER_SIZE) + (STACK if m else 0))
              for f, t, m in zip(plan.frames, titles, markers, strict=True)]
    at = place(plan.items, metrics, frames, 0, 0)

    families = {"io"} | {r.layer.family for u in units for r in u.rows}
    notes = ["shapes: C x H x W per image, beside each edge"]
    if runs:
        notes.append("x N: the same block used N times in a row, drawn once")
    width = max(2 * MARGIN + at.left + at.right + STACK, 2 * MARGIN + legend_width(families, notes))
    key, key_h = legend(families, MARGIN, MARGIN, width - 2 * MARGIN, notes)
    dx, dy = MARGIN + at.left, MARGIN + key_h + 6

    def shift(points):
        return [(x + dx, y + dy) for x, y in points]

    groups = [key]
    for (_frame, (left, top, right, bottom)), title, marker, (instance, run) in zip(
            at.frames, titles, markers, plan.framed, strict=True):
        items = []
        if run:
            items.append(rect(left + dx + STACK, top + dy + STACK, right - left, bottom - top, "frame", 8))
        items += [rect(left + dx, top + dy, right - left, bottom - top, "frame", 8),
                  Text(left + dx + 6, top + dy + 15, title, TITLE_SIZE, "heading")]
        if marker:
            items.append(Text(right + dx - 6, top + dy + 16, marker, MARKER_SIZE, "heading", "end"))
        name = path_name(instance.path)
        groups.append(Group(items, cls="block", id=f"{prefix}block-{name}", title=_frame_tooltip(instance, run)))

    edges: dict[int, list] = {}
    for source, _target, points in at.edges:
        edges.setdefault(source, []).extend(arrow(shift(points)))
    for u, unit in enumerate(units):
        box_w = 2 * at.half.get(u, widths[u] / 2)
        x, y = at.axis[u] + dx - box_w / 2, at.top[u] + dy
        items: list = [rect(x, y, box_w, BOX_H, f"box k-{unit.head.layer.family if unit.rows else 'io'}", 6)]
        label_cx = x + (box_w - sum(w + BADGE_GAP for w in badges[u])) / 2
        items.append(Text(label_cx, _baseline(y, BOX_H, LABEL_SIZE), labels[u], LABEL_SIZE, "label", "middle"))
        if u in named:
            items.append(Text(x - NAME_GAP, _baseline(y, BOX_H, NAME_SIZE), unit.head.display, NAME_SIZE, "name", "end"))
        bx = x + box_w - BOX_PAD / 2
        for row, bw in reversed(list(zip(unit.rows[1:], badges[u], strict=True))):
            bx -= bw
            items.append(Group([rect(bx, y + 6, bw, BOX_H - 12, f"box k-{row.layer.family}", 7),
                                Text(bx + bw / 2, _baseline(y + 6, BOX_H - 12, BADGE_SIZE), badge_label(row),
                                     BADGE_SIZE, "badge", "middle")],
                               cls="layer", layer=row.name, id=layer_id(prefix, row.name), title=layer_title(row)))
            bx -= BADGE_GAP
        items += edges.get(u, [])
        if u in at.labels:
            lx, ly = at.labels[u]
            items.append(Text(lx + dx + SHAPE_OFFSET, _baseline(ly + dy - 15, 30, SHAPE_SIZE), shapes[u], SHAPE_SIZE,
                              "shape"))
        if u in at.lanes:
            lx, ly = at.lanes[u]
            items.append(Text(lx + dx, _baseline(ly + dy - 15, 30, SHAPE_SIZE), shapes[u], SHAPE_SIZE, "shape"))
        if unit.terminal:
            groups.append(Group(items, cls="terminal", id=terminal_id(prefix, unit.terminal)))
        else:
            groups.append(Group(items, cls="layer", layer=unit.head.name, id=layer_id(prefix, unit.head.name),
                                title=layer_title(unit.head)))
    height = dy + at.height + MARGIN
    return Figure(spec.name, "compact", width, height, title=f"{spec.title}: layer by layer",
                  desc=_describe(analysis, plan, runs), groups=groups, graph=True)


def _widths(items: list, need: list[float], out: list[float]) -> list[float]:
    """One box width per column: the widest label of the chain, so a column reads as one straight line."""
    own = [item for item in items if isinstance(item, int)]
    width = max(MIN_BOX_W, *(need[u] for u in own))
    for u in own:
        out[u] = width
    for item in items:
        if isinstance(item, Fork):
            for branch in item.branches:
                _widths(branch, need, out)
    return out


def _label(unit: Unit) -> str:
    return unit.terminal or layer_label(unit.head)


def _badge_w(row: Row) -> float:
    return text_width(badge_label(row), BADGE_SIZE) + 8


def _baseline(top: float, height: float, size: float) -> float:
    return top + height / 2 + size * 0.35


def _frame_title(instance, run: Run | None) -> str:
    return run.title if run else f"{path_name(instance.path)} ({instance.block})"


def _frame_tooltip(instance, run: Run | None) -> str:
    args = ", ".join(f"{k}={v}" for k, v in instance.args.items())
    if run:
        return (f"{run.title}: block {instance.block} used {len(run.uses)} times in a row with the same arguments "
                f"({args}) and shapes; drawn once")
    return f"{path_name(instance.path)}: block {instance.block} ({args})"


def _describe(analysis: Analysis, plan: Layout, runs: list[Run]) -> str:
    forks = []

    def walk(items):
        for item in items:
            if isinstance(item, Fork):
                forks.append(item)
                for branch in item.branches:
                    walk(branch)

    walk(plan.items)
    steps = []
    for unit in plan.units[1:-1]:
        extra = "".join(f" + {layer_label(r)}" for r in unit.rows[1:])
        steps.append(f"{unit.head.display}: {layer_label(unit.head)}{extra}, giving {fmt_chw(unit.output)}")
    repeated = "".join(f" {run.title} is one block used {len(run.uses)} times, drawn once." for run in runs)
    return (f"{len(analysis.rows)} layers from a {fmt_chw(analysis.input)} input to {analysis.spec.num_classes} "
            f"outputs; {analysis.total_params:,} parameters, {analysis.total_macs:,} MACs. {len(forks)} places where "
            f"branches run side by side and join again.{repeated} Top to bottom: {'; '.join(steps)}.")
