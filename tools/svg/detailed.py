"""The detailed view: each tensor drawn as a volume on a log2 scale, with the kernel window that makes the
next one, left to right like the 2012 paper's Figure 2.

A volume is drawn for the input and after every layer that changes the tensor's size (conv, linear,
pooling); the elementwise layers and flatten that follow are listed under it. When the grouped convolutions
agree on ``groups`` (2 in the paper), every hidden tensor is split into that many towers drawn one above the
other; a layer with ``groups=1`` (conv3, the FC layers) gets a line from every tower into each of its
towers, the paper's cross-GPU connections. Columns wrap into rows so wide networks stay readable.
"""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass, field

from alexnet.analysis import Analysis, Row
from alexnet.formatting import fmt_chw

from .figure import Figure, Group, Text, arrow_head, layer_id, line, polygon, polyline, rect, terminal_id, text_width
from .labels import layer_label, layer_title
from .legend import legend, legend_width

MARGIN = 12
WRAP_STEP = 5  # px between the parallel lines that carry each tower from one row to the next
MAX_ROW_WIDTH = 660  # with margins about 700 px: Material's content column shows it at 1:1
COL_GAP = 30
LANE_GAP = 12
ROW_GAP = 30
MAX_TOWERS = 4
NAME_SIZE = 11
LINE_SIZE = 10
LINE_HEIGHT = 13
MIN_KERNEL_PX = 3


def spatial_px(size: int) -> float:
    """Height of a feature map of ``size`` rows: 10 px per doubling (224 -> 84 px, 6 -> 32 px)."""
    return 10 * math.log2(size) + 6


def channels_px(channels: int) -> float:
    return 4 * math.log2(channels) + 4


def features_px(features: int) -> float:
    return 8 * math.log2(features) + 6


@dataclass
class _Volume:
    """A cuboid: front face (x, top, w, h) and depth ``d``, drawn d px up and d px right."""

    x: float
    top: float
    w: float
    h: float
    d: float
    family: str

    @property
    def mid(self) -> float:
        return self.top + self.h / 2

    @property
    def right(self) -> float:
        return self.x + self.w + self.d

    @property
    def centre(self) -> float:
        """The vertical centre of the whole cuboid, where lines enter and leave."""
        return self.mid - self.d / 2

    def group(self) -> Group:
        x, t, w, h, d = self.x, self.top, self.w, self.h, self.d
        return Group([polygon([(x, t), (x + d, t - d), (x + w + d, t - d), (x + w, t)], "top"),
                      polygon([(x + w, t), (x + w + d, t - d), (x + w + d, t - d + h), (x + w, t + h)], "side"),
                      rect(x, t, w, h, "front")], cls=f"k-{self.family}")

    def on_side(self, u: float, v: float) -> tuple[float, float]:
        """A point of the right (H x W) face: ``u`` along the width (depth), ``v`` down the height."""
        return self.x + self.w + u * self.d, self.top - u * self.d + v * self.h


def _size(shape: tuple[int, ...], towers: int) -> tuple[float, float, float]:
    """(front width, front height, depth) of a tensor, one tower's share of the channels."""
    if len(shape) == 3:
        c, h, w = shape
        return channels_px(max(c // towers, 1)), spatial_px(h), 0.4 * spatial_px(w)
    return 8, features_px(max(shape[0] // towers, 1)), 4


@dataclass
class _Column:
    row: Row | None  # None: the input
    shape: tuple[int, ...]
    family: str
    followers: list[Row] = field(default_factory=list)
    towers: int = 1
    volumes: list[_Volume] = field(default_factory=list)
    x: float = 0
    width: float = 0
    lines: list[tuple[str, str, str, int]] = field(default_factory=list)  # (text, class, follower, size)
    texts: list[tuple[Text, str]] = field(default_factory=list)  # the placed lines, with their follower


def tower_count(analysis: Analysis) -> int:
    """The towers to draw: the ``groups`` all grouped convolutions share, if 2..MAX_TOWERS; else 1."""
    groups = {r.layer.channel_groups() for r in analysis.rows} - {None, 1}
    return groups.pop() if len(groups) == 1 and min(groups) <= MAX_TOWERS else 1


def _columns(analysis: Analysis, towers: int) -> list[_Column]:
    columns = [_Column(None, analysis.input, "io")]
    for row in analysis.rows:
        if row.layer.table_row:
            columns.append(_Column(row, row.output, row.layer.family))
        else:
            columns[-1].followers.append(row)
    for column in columns[1:-1]:
        if column.shape[0] % towers == 0:
            column.towers = towers
    for column in columns:
        row = column.row
        if row is None:
            column.lines = [("input", "name", "", NAME_SIZE), (fmt_chw(column.shape), "shape", "", LINE_SIZE)]
        else:
            column.lines = [(row.display, "name", "", NAME_SIZE), (layer_label(row), "label", "", LINE_SIZE),
                            (fmt_chw(column.shape), "shape", "", LINE_SIZE)]
        if column.towers > 1:
            column.lines.append((f"{column.towers} towers x {column.shape[0] // column.towers}", "dim", "", LINE_SIZE))
        column.lines += [(layer_label(f), "label muted", f.name, LINE_SIZE) for f in column.followers]
        sizes = _size(column.shape, column.towers)
        column.width = max(max(text_width(t, s) for t, _c, _l, s in column.lines), sizes[0] + sizes[2])
    return columns


def _row_width(row: list[_Column]) -> float:
    return sum(c.width for c in row) + COL_GAP * (len(row) - 1)


def _rows(analysis: Analysis, columns: list[_Column]) -> list[list[_Column]]:
    """Fill rows up to MAX_ROW_WIDTH. A row never ends just before a layer that sees all towers when the
    column before it can move down too: crossing lines read clearly only within a row."""
    rows: list[list[_Column]] = [[]]
    for before, column in zip([None, *columns], columns, strict=False):
        if rows[-1] and _row_width([*rows[-1], column]) > MAX_ROW_WIDTH:
            carried = []
            crossing = before is not None and min(before.towers, column.towers) > 1 \
                and len(_connected(analysis, before, column)) > before.towers
            if crossing and len(rows[-1]) > 2 and _row_width([before, column]) <= MAX_ROW_WIDTH:
                carried = [rows[-1].pop()]
            rows.append(carried)
        rows[-1].append(column)
    return rows


def _connected(analysis: Analysis, a: _Column, b: _Column) -> list[tuple[int, int]]:
    """Which towers of ``a`` feed which towers of ``b``."""
    if a.towers == 1 or b.towers == 1:
        return [(i, j) for i in range(a.towers) for j in range(b.towers)]
    groups = b.row.layer.channel_groups()
    own_tower = groups is None or groups == b.towers
    return [(i, i) for i in range(a.towers)] if own_tower else [(i, j) for i in range(a.towers) for j in range(b.towers)]


def _kernel(analysis: Analysis, a: _Column, b: _Column) -> tuple[int, int] | None:
    """The kernel window of ``b`` over ``a``, if it has one to draw."""
    return b.row.layer.kernel_span() if len(a.shape) == 3 else None


def _kernel_window(volume: _Volume, kernel: tuple[int, int], shape: tuple[int, ...]):
    """The kernel's patch on the volume's H x W face, to scale (at least MIN_KERNEL_PX), and its two far corners."""
    du = min(1.0, max(kernel[1] / shape[2], MIN_KERNEL_PX / max(volume.d, 1)))
    dv = min(1.0, max(kernel[0] / shape[1], MIN_KERNEL_PX / volume.h))
    u0, u1, v0, v1 = 0.5 - du / 2, 0.5 + du / 2, 0.5 - dv / 2, 0.5 + dv / 2
    corners = [volume.on_side(u0, v0), volume.on_side(u1, v0), volume.on_side(u1, v1), volume.on_side(u0, v1)]
    return polygon(corners, "kernel"), (corners[1], corners[3])


def layout_detailed(analysis: Analysis) -> Figure:
    spec = analysis.spec
    prefix = f"{spec.name}-detailed-"
    towers = tower_count(analysis)
    columns = _columns(analysis, towers)
    rows = _rows(analysis, columns)
    content_w = max(_row_width(r) for r in rows)
    families = {c.family for c in columns}
    notes = _notes(analysis, columns, towers)
    wraps = 6 + WRAP_STEP * towers if len(rows) > 1 else 0  # wrapping lines turn down right of their row
    width = max(2 * MARGIN + _indent(towers) + content_w + wraps, 2 * MARGIN + legend_width(families, notes))
    key, key_h = legend(families, MARGIN, MARGIN, width - 2 * MARGIN, notes)
    groups: list[Group] = [key]

    top = MARGIN + key_h + 14
    bottoms = []
    for row in rows:
        bottoms.append(_place_row(row, top, towers))
        top = bottoms[-1] + ROW_GAP + WRAP_STEP * towers  # room for one wrapping line per tower

    row_of = {id(c): i for i, r in enumerate(rows) for c in r}
    for index, column in enumerate(columns):
        items: list = []
        if index:
            items += _links(analysis, columns[index - 1], column, row_of, bottoms)
        items += [volume.group() for volume in column.volumes]
        for text_item, layer in column.texts:
            if layer:
                follower = next(f for f in column.followers if f.name == layer)
                items.append(Group([text_item], cls="layer", layer=layer, id=layer_id(prefix, layer),
                                   title=layer_title(follower)))
            else:
                items.append(text_item)
        if column.row is None:
            groups.append(Group(items, cls="terminal", id=terminal_id(prefix, "input")))
        else:
            groups.append(Group(items, cls="layer", layer=column.row.name, id=layer_id(prefix, column.row.name),
                                title=layer_title(column.row)))
    height = bottoms[-1] + MARGIN
    return Figure(spec.name, "detailed", width, height, title=f"{spec.title}: tensor volumes",
                  desc=_describe(analysis, columns, towers), groups=groups)


def _indent(towers: int) -> float:
    """The left gutter, where wrapping lines come down: one lane per tower."""
    return 8 + WRAP_STEP * towers


def _notes(analysis: Analysis, columns: list[_Column], towers: int) -> list[str]:
    """The legend's notes: the scales in use, the kernel windows and the towers, when there are any."""
    scales = {"volumes": "height H, depth W, width C"} if any(len(c.shape) == 3 for c in columns) else {}
    if any(len(c.shape) == 1 for c in columns):
        scales["vectors"] = "height N"
    notes = ["sizes on a log2 scale: " + "; ".join(f"{kind}: {axes}" for kind, axes in scales.items())]
    if any(_kernel(analysis, a, b) for a, b in itertools.pairwise(columns)):
        notes.append("kernel windows to scale in their input; dashed: what one output position sees")
    if towers > 1:
        gpus = " (the paper's two GPUs)" if towers == 2 else ""
        notes.append(f"{towers} towers, one per convolution group{gpus}; lines across towers: layers that see all")
    return notes


def _place_row(row: list[_Column], top: float, towers: int) -> float:
    """Place a row's volumes (towers in lanes, single volumes centred across them) and text; return its bottom."""
    tower_h = max((sum(_size(c.shape, c.towers)[1:]) for c in row if c.towers > 1), default=0)
    single_h = max((sum(_size(c.shape, 1)[1:]) for c in row if c.towers == 1), default=0)
    stack_h = max(towers * (tower_h + LANE_GAP), single_h + LANE_GAP)
    block_top = top + stack_h + 4
    x = MARGIN + _indent(towers)
    for column in row:
        column.x = x
        centre = x + column.width / 2
        w, h, d = _size(column.shape, column.towers)
        for t in range(column.towers):
            mid = top + stack_h * (t + 0.5) / column.towers + d / 2  # centres the cuboid, depth included
            column.volumes.append(_Volume(centre - (w + d) / 2, mid - h / 2, w, h, d, column.family))
        y = block_top
        for text, cls, follower, size in column.lines:
            y += LINE_HEIGHT
            column.texts.append((Text(centre, y, text, size, cls, "middle"), follower))
        x += column.width + COL_GAP
    return block_top + max(len(c.lines) for c in row) * LINE_HEIGHT + 6


def _links(analysis: Analysis, a: _Column, b: _Column, row_of: dict, bottoms: list[float]) -> list:
    """Lines from ``a``'s towers into ``b``'s, the kernel windows on ``a`` and their rays to ``b``."""
    items: list = []
    same_row = row_of[id(a)] == row_of[id(b)]
    kernel = _kernel(analysis, a, b)
    patched: set[int] = set()
    for i, j in _connected(analysis, a, b):
        src, dst = a.volumes[i], b.volumes[j]
        start = (src.right + 2, src.centre)
        end = (dst.x - 1, dst.centre)
        if kernel and (i == j or a.towers == 1 or b.towers == 1):
            patch, (p, q) = _kernel_window(src, kernel, a.shape)
            if i not in patched:
                items.append(patch)
                patched.add(i)
            if same_row:
                items.append(polyline([p, (dst.x + dst.w / 2, dst.mid), q], "ray"))
                continue
        if same_row:
            items += [line(*start, end[0] - 4, end[1], "edge"), arrow_head(*end, "right", "edge-head")]
        else:
            # Tower 0 takes the outermost turn and band and the innermost gutter, so wrapping lines of
            # different towers never cross (a U-turn reverses their order); crossings then mean connections.
            k = a.towers - 1 - i
            turn = a.x + a.width + 4 + WRAP_STEP * k
            band = bottoms[row_of[id(a)]] + ROW_GAP / 2 + WRAP_STEP * k
            gutter = MARGIN + 4 + WRAP_STEP * k
            items += [polyline([start, (turn, start[1]), (turn, band), (gutter, band), (gutter, end[1]),
                                (end[0] - 4, end[1])], "edge"),
                      arrow_head(*end, "right", "edge-head")]
    return [Group(items, cls=f"k-{b.family}")]


def _describe(analysis: Analysis, columns: list[_Column], towers: int) -> str:
    steps = []
    for column in columns[1:]:
        after = "".join(f", then {layer_label(f)}" for f in column.followers)
        steps.append(f"{column.row.display} ({layer_label(column.row)}) makes {fmt_chw(column.shape)}{after}")
    split = (f" Every hidden tensor is split into {towers} towers; conv layers with groups={towers} see only their own "
             "tower, the others see all towers." if towers > 1 else "")
    first = columns[0]
    start = f"Input {fmt_chw(first.shape)}" + "".join(f", then {layer_label(f)}" for f in first.followers)
    return (f"Tensor volumes from left to right, wrapping into rows, sizes on a log2 scale.{split} "
            f"{start}; {'; '.join(steps)}.")
