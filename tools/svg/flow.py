"""Top-to-bottom placement of a nested chain (:mod:`.structure`), shared by both views of a graph spec.

Every chain hangs on a vertical axis. A fork's stub comes down its axis to a horizontal bus, from which one
edge drops into each branch; branches stand side by side, each on its own axis, and their last units send
their edges down to a bus above the join. An identity shortcut runs in a lane right of every branch and
comes back in under them, so it never crosses a box. Units only say how far they reach left and right
of their axis and how tall they are; sizes are computed once bottom-up, positions once top-down: O(n).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from .structure import Fork


@dataclass(frozen=True)
class Spacing:
    gap: float = 30        # below a unit: its out-edge, with room for one line of label
    fork_drop: float = 14  # from a fork's bus down into its branches
    join_drop: float = 14  # from the bus under the branches down into the join
    col_gap: float = 16    # between branches
    lane_gap: float = 12   # between the branches and a shortcut's lane
    lane_label: float = 6  # from a lane to its label
    frame_head: float = 22  # a frame's title line
    frame_pad: float = 8
    widen_joins: bool = True  # a join of three or more branches reaches over the inner ones (a wide box)


@dataclass(frozen=True)
class Metrics:
    left: float    # reach left of the axis
    right: float   # reach right of the axis, out-edge label included
    height: float
    half: float    # half the width of the part edges enter (join entries spread over it)
    label: float = 0  # width of the out-edge label, also written beside a shortcut's lane


@dataclass(frozen=True)
class Frame:
    """A run of top-level items drawn inside one frame: items [start, end)."""

    start: int
    end: int
    title_w: float
    marker_w: float = 0


@dataclass
class Placement:
    axis: dict[int, float] = field(default_factory=dict)
    top: dict[int, float] = field(default_factory=dict)
    edges: list[tuple[int, int, list[tuple[float, float]]]] = field(default_factory=list)  # source, target, points
    labels: dict[int, tuple[float, float]] = field(default_factory=dict)  # out-edge label: (axis, centre y)
    half: dict[int, float] = field(default_factory=dict)  # joins widened to reach over their inner branches
    lanes: dict[int, tuple[float, float]] = field(default_factory=dict)   # shortcut label: (left x, centre y)
    frames: list[tuple[Frame, tuple[float, float, float, float]]] = field(default_factory=list)  # left, top, right, bottom
    left: float = 0    # reach of the whole drawing left of the main axis
    right: float = 0
    height: float = 0


def place(items: list, metrics: list[Metrics], frames: list[Frame], axis: float, top: float,
          spacing: Spacing = Spacing()) -> Placement:
    return _Placer(metrics, spacing).run(items, frames, axis, top)


class _Placer:
    def __init__(self, metrics: list[Metrics], spacing: Spacing):
        self.m, self.s = metrics, spacing
        self.sizes: dict[int, tuple[float, float, float]] = {}  # id(fork) -> (left, right, height)
        self.offsets: dict[int, tuple[list[float], float]] = {}  # id(fork) -> (branch axes, lane offset)
        self.out = Placement()

    # --- sizes, bottom-up ---

    def half(self, unit: int) -> float:
        return self.out.half.get(unit, self.m[unit].half)

    def size(self, item) -> tuple[float, float, float]:
        if isinstance(item, int):
            m = self.m[item]
            return m.left, m.right, m.height
        if id(item) not in self.sizes:
            self.sizes[id(item)] = self._fork_size(item)
        return self.sizes[id(item)]

    def _after(self, item) -> float:
        return self.s.gap if isinstance(item, int) else self.s.join_drop

    def chain_size(self, items: list, before=None, after=None) -> tuple[float, float, float]:
        left = right = height = 0.0
        for k, item in enumerate(items):
            lo, hi, h = self.size(item)
            left, right = max(left, lo), max(right, hi)
            height += h + (before or {}).get(k, 0) + (after or {}).get(k, 0)
            if k:
                height += self._after(items[k - 1])
        return left, right, height

    def _fork_size(self, fork: Fork) -> tuple[float, float, float]:
        sizes = [self.chain_size(b) for b in fork.branches]
        axes = []
        if len(sizes) <= 2:  # a main path and its shortcut: the main path stays on the axis
            x = 0.0
            for k, (lo, _hi, _h) in enumerate(sizes):
                if k:
                    x += sizes[k - 1][1] + self.s.col_gap + lo
                axes.append(x)
        else:  # an Inception module: its branches centred under the fork
            total = sum(lo + hi for lo, hi, _h in sizes) + self.s.col_gap * (len(sizes) - 1)
            x = -total / 2
            for lo, hi, _h in sizes:
                axes.append(x + lo)
                x += lo + hi + self.s.col_gap
        left = max(lo - a for a, (lo, _hi, _h) in zip(axes, sizes, strict=True))
        right = max(a + hi for a, (_lo, hi, _h) in zip(axes, sizes, strict=True))
        if len(axes) > 2 and self.s.widen_joins:  # inner branches drop straight in, the outer two come in at its corners
            reach = max(abs(axes[1]), abs(axes[-2])) + 24
            self.out.half[fork.join] = max(self.m[fork.join].half, reach, self.out.half.get(fork.join, 0))
        lane = 0.0
        if fork.skip:
            lane = max(right, self.half(fork.join)) + self.s.lane_gap
            right = lane + self.s.lane_label + self.m[fork.source].label
        self.offsets[id(fork)] = (axes, lane)
        height = self.s.fork_drop + max(h for _lo, _hi, h in sizes) + self.s.gap
        return max(left, 0), right, height

    # --- positions, top-down ---

    def run(self, items: list, frames: list[Frame], axis: float, top: float) -> Placement:
        before = {f.start: self.s.frame_head for f in frames}
        after = {f.end - 1: self.s.frame_pad for f in frames}
        left, right, height = self.chain_size(items, before, after)
        boxes = []
        for frame in frames:
            lo, hi, _h = self.chain_size(items[frame.start:frame.end])
            frame_left = max(lo + self.s.frame_pad, frame.title_w + 12)
            frame_right = max(hi + self.s.frame_pad, frame.marker_w + 12)
            boxes.append((frame_left, frame_right))
            left, right = max(left, frame_left), max(right, frame_right)
        spans = self.chain(items, axis, top, before, after)
        for frame, (frame_left, frame_right) in zip(frames, boxes, strict=True):
            first, last = spans[frame.start][0], spans[frame.end - 1][1]
            self.out.frames.append((frame, (axis - frame_left, first - self.s.frame_head, axis + frame_right,
                                            last + self.s.frame_pad)))
        self.out.left, self.out.right, self.out.height = left, right, height
        return self.out

    def chain(self, items: list, axis: float, top: float, before=None, after=None) -> list[tuple[float, float]]:
        """Place a chain from ``top``; returns each item's (top, bottom)."""
        before, after = before or {}, after or {}
        spans: list[tuple[float, float]] = []
        y = top
        for k, item in enumerate(items):
            y += before.get(k, 0)
            if k:
                prev = items[k - 1]
                if isinstance(prev, int):
                    bottom = spans[-1][1]
                    start = bottom + after.get(k - 1, 0)
                    self.out.labels[prev] = (axis, start + self.s.gap / 2)
                    if isinstance(item, int):
                        self.out.edges.append((prev, item, [(axis, bottom), (axis, y)]))
            height = self.size(item)[2]
            if isinstance(item, int):
                self.out.axis[item], self.out.top[item] = axis, y
            else:
                self.fork(item, axis, y, spans[-1][1] if spans else y)
            spans.append((y, y + height))
            y += height + after.get(k, 0)
            if k + 1 < len(items):
                y += self._after(item)
        return spans

    def fork(self, fork: Fork, axis: float, top: float, stub: float) -> None:
        axes, lane = self.offsets[id(fork)]
        height = self.size(fork)[2]
        bus, under = top, top + height  # the fork's bus, and the one above the join
        exits = []
        for offset, branch in zip(axes, fork.branches, strict=True):
            x = axis + offset
            spans = self.chain(branch, x, top + self.s.fork_drop)
            first = branch[0]
            points = [(axis, stub), (x, self.out.top[first])] if x == axis else \
                [(axis, stub), (axis, bus), (x, bus), (x, self.out.top[first])]
            self.out.edges.append((fork.source, first, points))
            last = branch[-1]
            self.out.labels[last] = (x, spans[-1][1] + self.s.gap / 2)
            exits.append((last, x, spans[-1][1]))
        join = fork.join
        half = self.half(join)
        wanted = [x for _u, x, _b in exits] + ([axis + lane] if fork.skip else [])
        entries = _spread(wanted, axis - half + 6, axis + half - 6)
        join_top = under + self.s.join_drop
        for (unit, x, bottom), entry in zip(exits, entries, strict=False):
            points = [(x, bottom), (x, join_top)] if x == entry else \
                [(x, bottom), (x, under), (entry, under), (entry, join_top)]
            self.out.edges.append((unit, join, points))
        if fork.skip:  # down its lane to the bus above the join, then in from the top like the branches
            x = axis + lane
            self.out.edges.append((fork.source, join, [(axis, stub), (axis, bus), (x, bus), (x, under),
                                                       (entries[-1], under), (entries[-1], join_top)]))
            self.out.lanes[fork.source] = (x + self.s.lane_label, (bus + under) / 2)


def _spread(wanted: list[float], low: float, high: float, step: float = 10) -> list[float]:
    """Entry points into a join: each as close to its branch as the join's width allows, in order, apart."""
    if len(wanted) > 1:
        step = max(1.0, min(step, (high - low) / (len(wanted) - 1)))
    out = []
    for x in wanted:
        x = min(max(x, low), high)
        out.append(max(x, out[-1] + step) if out else x)
    if out and out[-1] > high:
        shift = out[-1] - high
        out = [x - shift for x in out]
    return out
