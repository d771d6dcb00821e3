"""The compact view: the seed's column of boxes, one per layer, output shapes beside the arrows.

An activation that directly follows a boxed layer is drawn as a badge inside that box (``ReLU``), which
keeps AlexNet's 24 layers to 17 boxes without hiding any.
"""

from __future__ import annotations

from dataclasses import dataclass

from alexnet.analysis import Analysis, Row
from alexnet.formatting import fmt_chw

from .figure import Figure, Group, Text, arrow_head, layer_id, line, rect, terminal_id, text_width
from .labels import is_activation, layer_label, layer_title
from .legend import legend, legend_width

MARGIN = 12
BOX_H = 28
GAP = 30  # arrow length between boxes: room for one line of shape text
BOX_PAD = 14
MIN_BOX_W = 150
LABEL_SIZE = 12
BADGE_SIZE = 10
NAME_SIZE = 11
SHAPE_SIZE = 11
NAME_GAP = 10
SHAPE_OFFSET = 8  # shape text starts this far right of the arrow


@dataclass
class _Box:
    row: Row
    badge: Row | None = None

    @property
    def output(self) -> tuple[int, ...]:
        return (self.badge or self.row).output


def _boxes(analysis: Analysis) -> list[_Box]:
    boxes: list[_Box] = []
    for row in analysis.rows:
        if is_activation(row) and boxes and boxes[-1].badge is None and not is_activation(boxes[-1].row):
            boxes[-1].badge = row
        else:
            boxes.append(_Box(row))
    return boxes


def _baseline(top: float, height: float, size: float) -> float:
    """Baseline that centres a line of text vertically in [top, top + height]."""
    return top + height / 2 + size * 0.35


def layout_compact(analysis: Analysis) -> Figure:
    spec = analysis.spec
    prefix = f"{spec.name}-compact-"
    boxes = _boxes(analysis)
    reads = _reads(analysis)
    labels = {b.row.name: layer_label(b.row) + reads.get(b.row.name, "") for b in boxes}
    badge_w = max((text_width(layer_label(b.badge), BADGE_SIZE) + 10 for b in boxes if b.badge), default=0)
    badge_col = badge_w + 6 if badge_w else 0
    label_w = max(text_width(text, LABEL_SIZE) for text in [*labels.values(), "input", "output"])
    box_w = max(label_w + badge_col + 2 * BOX_PAD, MIN_BOX_W)
    name_w = max(text_width(b.row.display, NAME_SIZE) for b in boxes)
    shapes = [fmt_chw(analysis.input)] + [fmt_chw(b.output) for b in boxes]
    shape_w = max(text_width(s, SHAPE_SIZE) for s in shapes)

    x_box = MARGIN + name_w + NAME_GAP
    cx = x_box + box_w / 2
    label_cx = x_box + (box_w - badge_col) / 2  # labels share one centre, left of the badge column
    width = max(x_box + box_w, cx + SHAPE_OFFSET + shape_w) + MARGIN
    families = {"io"} | {r.layer.family for r in analysis.rows}
    notes = ["shapes: C x H x W per image"]
    width = max(width, 2 * MARGIN + legend_width(families, notes))
    key, key_h = legend(families, MARGIN, MARGIN, width - 2 * MARGIN, notes)

    def arrow(top: float, shape: str) -> list:
        return [line(cx, top, cx, top + GAP - 1, "edge"), arrow_head(cx, top + GAP, "down", "edge-head"),
                Text(cx + SHAPE_OFFSET, _baseline(top, GAP, SHAPE_SIZE), shape, SHAPE_SIZE, "shape")]

    def terminal(top: float, which: str) -> Group:
        return Group([rect(x_box, top, box_w, BOX_H, "box k-io", 6),
                      Text(label_cx, _baseline(top, BOX_H, LABEL_SIZE), which, LABEL_SIZE, "label", "middle")],
                     cls="terminal", id=terminal_id(prefix, which))

    y = MARGIN + key_h + 6
    first = terminal(y, "input")
    first.items += arrow(y + BOX_H, shapes[0])
    groups = [key, first]
    y += BOX_H + GAP
    for box in boxes:
        row = box.row
        family = row.layer.family
        base = _baseline(y, BOX_H, LABEL_SIZE)
        group = Group([rect(x_box, y, box_w, BOX_H, f"box k-{family}", 6),
                       Text(label_cx, base, labels[row.name], LABEL_SIZE, "label", "middle"),
                       Text(x_box - NAME_GAP, _baseline(y, BOX_H, NAME_SIZE), row.display, NAME_SIZE, "name", "end")],
                      cls="layer", layer=row.name, id=layer_id(prefix, row.name), title=layer_title(row))
        if box.badge:
            badge = box.badge
            bx = x_box + box_w - BOX_PAD / 2 - badge_w
            group.items.append(Group([rect(bx, y + 6, badge_w, BOX_H - 12, "box k-act", 7),
                                      Text(bx + badge_w / 2, _baseline(y + 6, BOX_H - 12, BADGE_SIZE),
                                           layer_label(badge), BADGE_SIZE, "badge", "middle")],
                                     cls="layer", layer=badge.name, id=layer_id(prefix, badge.name),
                                     title=layer_title(badge)))
        group.items += arrow(y + BOX_H, fmt_chw(box.output))
        groups.append(group)
        y += BOX_H + GAP
    groups.append(terminal(y, "output"))
    height = y + BOX_H + MARGIN
    return Figure(spec.name, "compact", width, height, title=f"{spec.title}: layer by layer",
                  desc=_describe(analysis, boxes, labels), groups=groups)


def _reads(analysis: Analysis) -> dict[str, str]:
    """`` <- bn2, downsample`` for a layer that reads anything but the layer drawn above it: for a graph whose
    branches do not nest (compact_graph.py draws the others), the column keeps execution order and this
    note says what joins."""
    notes, above = {}, "input"
    for row in analysis.rows:
        if row.sources and row.sources != (above,):
            prefix = row.name.rsplit(".", 1)[0] + "." if "." in row.name else ""
            notes[row.name] = " \u2190 " + ", ".join(s.removeprefix(prefix) for s in row.sources)
        above = row.name
    return notes


def _describe(analysis: Analysis, boxes: list[_Box], labels: dict[str, str]) -> str:
    steps = []
    for box in boxes:
        extra = f" + {layer_label(box.badge)}" if box.badge else ""
        steps.append(f"{box.row.display}: {labels[box.row.name]}{extra}, giving {fmt_chw(box.output)}")
    return (f"{len(analysis.rows)} layers from a {fmt_chw(analysis.input)} input to {analysis.spec.num_classes} "
            f"outputs; {analysis.total_params:,} parameters, {analysis.total_macs:,} MACs. "
            f"Top to bottom: {'; '.join(steps)}.")
