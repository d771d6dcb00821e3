"""The colour legend: one swatch per kind family the figure uses, flowing left to right."""

from __future__ import annotations

from .figure import Group, Text, rect, text_width
from .labels import FAMILIES

SIZE = 11
SWATCH = 11
ITEM_GAP = 14
LINE_HEIGHT = 18


def legend(families: set[str], x: float, y: float, width: float, notes: list[str]) -> tuple[Group, float]:
    """The legend at (x, y) wrapped to ``width``, then one line per note; returns it and its height."""
    group = Group(cls="legend")
    cx, cy = x, y
    for family, label in FAMILIES.items():
        if family not in families:
            continue
        item_width = SWATCH + 5 + text_width(label, SIZE)
        if cx > x and cx + item_width > x + width:
            cx, cy = x, cy + LINE_HEIGHT
        group.items.append(rect(cx, cy, SWATCH, SWATCH, f"box k-{family}", 2))
        group.items.append(Text(cx + SWATCH + 5, cy + SWATCH - 1.5, label, SIZE, "note"))
        cx += item_width + ITEM_GAP
    for note in notes:
        cy += LINE_HEIGHT
        group.items.append(Text(x, cy + SWATCH - 1.5, note, SIZE, "note muted"))
    return group, cy + LINE_HEIGHT - y


def legend_width(families: set[str], notes: list[str]) -> float:
    """The narrowest the legend can wrap to: its widest item or note."""
    return max([SWATCH + 5 + text_width(FAMILIES[f], SIZE) for f in families] + [text_width(n, SIZE) for n in notes])
