"""The drawing model shared by both views: shapes, texts with estimated boxes, layer groups.

Layout code places every text itself, so it must know how much room a text takes. SVG has no text
measurement without a browser, so widths are estimated: ``CHAR_WIDTH_EM`` em per character. Monospace
fonts advance 0.60 em; DejaVu Sans, Arial and Helvetica average at most 0.62 em over the digits,
lowercase letters and punctuation our labels use. Heights span ``ASCENT_EM`` above the baseline and
``DESCENT_EM`` below it. Tests recompute these boxes from the written SVG and require them disjoint.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field

CHAR_WIDTH_EM = 0.62
ASCENT_EM = 0.8
DESCENT_EM = 0.25


def num(value: float) -> str:
    """Coordinates with one decimal, trailing ``.0`` dropped: the same bytes on every run."""
    text = f"{value:.1f}".removesuffix(".0")
    return "0" if text == "-0" else text


@dataclass(frozen=True)
class Box:
    left: float
    top: float
    right: float
    bottom: float

    def overlaps(self, other: Box) -> bool:
        """Boxes that only touch do not overlap."""
        return (self.left < other.right and other.left < self.right
                and self.top < other.bottom and other.top < self.bottom)


def text_width(content: str, size: float) -> float:
    return len(content) * size * CHAR_WIDTH_EM


def text_box(x: float, y: float, content: str, size: float, anchor: str = "start") -> Box:
    """The box a text occupies, from its SVG attributes (``y`` is the baseline)."""
    width = text_width(content, size)
    left = {"start": x, "middle": x - width / 2, "end": x - width}[anchor]
    return Box(left, y - ASCENT_EM * size, left + width, y + DESCENT_EM * size)


@dataclass(frozen=True)
class Text:
    x: float
    y: float
    content: str
    size: float
    cls: str
    anchor: str = "start"

    tag = "text"

    def box(self) -> Box:
        return text_box(self.x, self.y, self.content, self.size, self.anchor)

    def attrs(self) -> list[tuple[str, str]]:
        items = [("x", num(self.x)), ("y", num(self.y)), ("class", self.cls), ("font-size", num(self.size))]
        if self.anchor != "start":
            items.append(("text-anchor", self.anchor))
        return items


@dataclass(frozen=True)
class Shape:
    """A childless SVG element; attribute values are formatted here and escaped by the template."""

    tag: str
    attributes: tuple[tuple[str, str], ...]

    def attrs(self) -> list[tuple[str, str]]:
        return list(self.attributes)


def rect(x: float, y: float, width: float, height: float, cls: str, radius: float = 0) -> Shape:
    items = [("x", num(x)), ("y", num(y)), ("width", num(width)), ("height", num(height))]
    if radius:
        items.append(("rx", num(radius)))
    return Shape("rect", (*items, ("class", cls)))


def polygon(points: list[tuple[float, float]], cls: str) -> Shape:
    return Shape("polygon", (("points", " ".join(f"{num(x)},{num(y)}" for x, y in points)), ("class", cls)))


def polyline(points: list[tuple[float, float]], cls: str) -> Shape:
    return Shape("polyline", (("points", " ".join(f"{num(x)},{num(y)}" for x, y in points)), ("class", cls)))


def line(x1: float, y1: float, x2: float, y2: float, cls: str) -> Shape:
    return Shape("line", (("x1", num(x1)), ("y1", num(y1)), ("x2", num(x2)), ("y2", num(y2)), ("class", cls)))


def arrow_head(x: float, y: float, direction: str, cls: str, size: float = 5) -> Shape:
    """A filled triangle whose tip is at (x, y), pointing ``down`` or ``right``."""
    if direction == "down":
        points = [(x - size * 0.8, y - size), (x + size * 0.8, y - size), (x, y)]
    else:
        points = [(x - size, y - size * 0.8), (x - size, y + size * 0.8), (x, y)]
    return polygon(points, cls)


def layer_id(prefix: str, layer: str) -> str:
    """Layer ids get their own namespace, so a layer called ``title`` or ``input`` clashes with nothing."""
    return f"{prefix}layer-{layer}"


def terminal_id(prefix: str, which: str) -> str:
    return f"{prefix}io-{which}"


@dataclass
class Group:
    """A ``<g>``; ``layer`` names the spec layer it draws (``data-layer``), ``title`` is its tooltip."""

    items: list = field(default_factory=list)
    cls: str = ""
    layer: str | None = None
    id: str | None = None
    title: str | None = None

    tag = "g"

    def texts(self) -> Iterator[Text]:
        for item in self.items:
            if isinstance(item, Text):
                yield item
            elif isinstance(item, Group):
                yield from item.texts()


@dataclass
class Figure:
    """One SVG: ``view`` is ``compact`` or ``detailed``; ids and the root class derive from it."""

    spec_name: str
    view: str
    width: float
    height: float
    title: str
    desc: str
    groups: list[Group]
    graph: bool = False  # frames around blocks: their CSS is written only then, so chains stay as they were

    @property
    def prefix(self) -> str:
        return f"{self.spec_name}-{self.view}-"

    @property
    def root_class(self) -> str:
        return f"arch-{self.spec_name}-{self.view}"

    def texts(self) -> Iterator[Text]:
        for group in self.groups:
            yield from group.texts()

    def nodes(self) -> list[tuple[str, object]]:
        """The element tree as a flat list of ("open", group), ("leaf", shape or text) and ("close", None):
        the template loops over it instead of recursing through a macro (several times faster in Jinja)."""
        out: list[tuple[str, object]] = []

        def walk(item) -> None:
            if isinstance(item, Group):
                out.append(("open", item))
                for child in item.items:
                    walk(child)
                out.append(("close", None))
            else:
                out.append(("leaf", item))

        for group in self.groups:
            walk(group)
        return out


def arrow(points: list[tuple[float, float]]) -> list[Shape]:
    """An edge along ``points`` ending in a head at the last point; the last segment must point down."""
    x1, y1 = points[-1]
    body = [*points[:-1], (x1, y1 - 1)]  # stops under the head, so the tip stays sharp
    shape = line(*body[0], *body[1], "edge") if len(body) == 2 else polyline(body, "edge")
    return [shape, arrow_head(x1, y1, "down", "edge-head")]
