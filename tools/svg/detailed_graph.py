"""The detailed view of a graph spec: every layer, every block use expanded, as tensor volumes top to bottom
with branches side by side (the same placement as the compact view, :mod:`.flow`).

Each unit is a volume on the log2 scale of the chain view (:mod:`.detailed`) with its name, what makes it
and its shape beside it; the elementwise layers that follow it are listed under those lines.
"""

from __future__ import annotations

from dataclasses import replace

from alexnet.analysis import Analysis, Row
from alexnet.formatting import fmt_chw
from alexnet.graph import path_name

from .detailed import _size, _Volume
from .figure import Figure, Group, Text, arrow, layer_id, line, rect, terminal_id, text_width
from .flow import Metrics, Spacing, place
from .labels import layer_label, layer_title
from .legend import legend, legend_width
from .units import Unit, layout, local_name

MARGIN = 12
TEXT_GAP = 6
NAME_SIZE = 11
LINE_SIZE = 10
LINE_HEIGHT = 13
TITLE_SIZE = 11
FOLLOWER_GAP = 6
SCALE = 0.75  # of the chain view's volumes: a ResNet-50 drawn whole is 60-odd volumes tall
SPACING = Spacing(gap=18, fork_drop=12, join_drop=12, col_gap=14, lane_gap=10, widen_joins=False)


def fold_follower(unit: Unit, row: Row) -> bool:
    """Layers that keep the tensor's size are listed under the volume before them."""
    return not unit.terminal and not row.layer.table_row and row.layer.family != "merge"


def _lines(unit: Unit, prefix: str | None, shape: tuple[int, ...]) -> list[list[tuple[str, str, int, Row | None]]]:
    """Per line beside a unit's volume, its (text, class, size, the follower it names) parts: name, what
    makes it, its shape, then the followers on one line."""
    if unit.terminal:
        return [[(unit.terminal, "name", NAME_SIZE, None)], [(fmt_chw(shape), "shape", LINE_SIZE, None)]]
    head = unit.head
    name = head.display if head.layer.display else local_name(head.name, prefix)
    lines = [[(name, "name", NAME_SIZE, None)]]
    if layer_label(head) != name:  # an add named add says it once
        lines.append([(layer_label(head), "label", LINE_SIZE, None)])
    lines.append([(fmt_chw(head.output), "shape", LINE_SIZE, None)])
    followers = [(f"+ {layer_label(r)}", "label muted", LINE_SIZE, r) for r in unit.rows[1:]]
    return lines + ([followers] if followers else [])


def _line_width(parts) -> float:
    return sum(text_width(t, s) for t, _c, s, _r in parts) + FOLLOWER_GAP * (len(parts) - 1)


def layout_detailed_graph(analysis: Analysis) -> Figure | None:
    plan = layout(analysis, fold_follower)
    if plan is None:
        return None
    spec, units = analysis.spec, plan.units
    prefix = f"{spec.name}-detailed-"
    shapes = [u.output if u.rows else (analysis.input if u.terminal == "input" else (spec.num_classes,))
              for u in units]
    lines = [_lines(u, plan.prefixes.get(k), shapes[k]) for k, u in enumerate(units)]
    sizes = [tuple(SCALE * v for v in _size(shape, 1)) for shape in shapes]
    metrics = []
    for k, (w, h, d) in enumerate(sizes):
        text_w = max(_line_width(parts) for parts in lines[k])
        half = (w + d) / 2
        label_w = text_width(fmt_chw(shapes[k]), LINE_SIZE)  # written beside a shortcut's lane
        metrics.append(Metrics(half, half + TEXT_GAP + text_w, max(h + d, LINE_HEIGHT * len(lines[k]) + 3), half,
                               label_w))
    titles = [f"{path_name(instance.path)} ({instance.block})" for instance, _run in plan.framed]
    frames = [replace(f, title_w=text_width(t, TITLE_SIZE)) for f, t in zip(plan.frames, titles, strict=True)]
    at = place(plan.items, metrics, frames, 0, 0, SPACING)

    families = {"io"} | {u.head.layer.family for u in units if u.rows}
    notes = ["sizes on a log2 scale: volumes: height H, depth W, width C; vectors: height N",
             "every block use drawn, framed; branches side by side, joined by add or concat"]
    width = max(2 * MARGIN + at.left + at.right, 2 * MARGIN + legend_width(families, notes))
    key, key_h = legend(families, MARGIN, MARGIN, width - 2 * MARGIN, notes)
    dx, dy = MARGIN + at.left, MARGIN + key_h + 10

    groups = [key]
    for (left, top, right, bottom), title, (instance, _run) in zip(
            (box for _f, box in at.frames), titles, plan.framed, strict=True):
        groups.append(Group([rect(left + dx, top + dy, right - left, bottom - top, "frame", 8),
                             Text(left + dx + 6, top + dy + 15, title, TITLE_SIZE, "heading")],
                            cls="block", id=f"{prefix}block-{path_name(instance.path)}",
                            title=f"{path_name(instance.path)}: block {instance.block}"))
    edges: dict[int, list] = {}
    for source, _target, points in at.edges:
        edges.setdefault(source, []).extend(arrow([(x + dx, y + dy) for x, y in points]))
    for k, unit in enumerate(units):
        axis, top = at.axis[k] + dx, at.top[k] + dy
        w, h, d = sizes[k]
        family = unit.head.layer.family if unit.rows else "io"
        volume = _Volume(axis - (w + d) / 2, top + d, w, h, d, family)
        items: list = [volume.group()]
        bottom = top + metrics[k].height
        if unit.terminal != "output" and volume.top + h < bottom:  # the out-edge starts at the volume
            items.append(line(axis, volume.top + h, axis, bottom, "edge"))
        x = axis + (w + d) / 2 + TEXT_GAP
        for i, parts in enumerate(lines[k]):
            tx = x
            for content, cls, size, follower in parts:
                text = Text(tx, top + LINE_HEIGHT * (i + 1) - 3, content, size, cls)
                tx += text_width(content, size) + FOLLOWER_GAP
                if follower is None:
                    items.append(text)
                else:
                    items.append(Group([text], cls="layer", layer=follower.name, id=layer_id(prefix, follower.name),
                                       title=layer_title(follower)))
        items += edges.get(k, [])
        if k in at.lanes:
            lx, ly = at.lanes[k]
            items.append(Text(lx + dx, ly + dy + LINE_SIZE * 0.35, fmt_chw(shapes[k]), LINE_SIZE, "shape"))
        if unit.terminal:
            groups.append(Group(items, cls="terminal", id=terminal_id(prefix, unit.terminal)))
        else:
            groups.append(Group(items, cls="layer", layer=unit.head.name, id=layer_id(prefix, unit.head.name),
                                title=layer_title(unit.head)))
    return Figure(spec.name, "detailed", width, dy + at.height + MARGIN, title=f"{spec.title}: tensor volumes",
                  desc=_describe(analysis, units), groups=groups, graph=True)


def _describe(analysis: Analysis, units: list[Unit]) -> str:
    steps = []
    for unit in units[1:-1]:
        after = "".join(f", then {layer_label(r)}" for r in unit.rows[1:])
        steps.append(f"{unit.head.display} ({layer_label(unit.head)}) makes {fmt_chw(unit.output)}{after}")
    return ("Tensor volumes from top to bottom, sizes on a log2 scale; branches side by side, every block use "
            f"drawn. Input {fmt_chw(analysis.input)}; {'; '.join(steps)}.")
