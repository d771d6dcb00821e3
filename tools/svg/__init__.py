"""The architecture drawings of a spec, as standalone SVG that the site can also inline.

``render_compact`` draws the seed's column of boxes; ``render_detailed`` draws tensor volumes to a log
scale with their kernel windows (two towers side by side for a grouped network, as in the 2012 paper).
Graph specs (branches, blocks) get their own layouts, top to bottom with branches side by side.
"""

from __future__ import annotations

from alexnet.analysis import Analysis

from ..templating import environment, header
from .compact import layout_compact
from .compact_graph import layout_compact_graph
from .detailed import layout_detailed
from .detailed_graph import layout_detailed_graph
from .figure import Figure, num

# Per colour family: (fill, line) on light pages, then on dark ones. Dark fills are deep tints so the light
# text stays readable on them; lines are bright enough to separate boxes from the slate background.
PALETTE = (
    ("io", ("#fef3c7", "#b45309"), ("#3f3210", "#fbbf24")),
    ("conv", ("#dbeafe", "#1d4ed8"), ("#1b3356", "#60a5fa")),
    ("fc", ("#e0e7ff", "#4338ca"), ("#29285a", "#a5b4fc")),
    ("pool", ("#fee2e2", "#b91c1c"), ("#4a1c1c", "#f87171")),
    ("norm", ("#dcfce7", "#15803d"), ("#163d24", "#4ade80")),
    ("dropout", ("#ccfbf1", "#0f766e"), ("#123f3b", "#2dd4bf")),
    ("act", ("#ffedd5", "#c2410c"), ("#46270f", "#fb923c")),
    ("reshape", ("#f1f5f9", "#475569"), ("#283039", "#94a3b8")),
    ("merge", ("#fae8ff", "#a21caf"), ("#3f1846", "#e879f9")),
)


def render_figure(figure: Figure, spec) -> str:
    # The header is prepended, not templated: autoescape would turn its comment markers into text.
    return header(spec, "<!--") + "\n" + environment().get_template("architecture.svg.j2").render(
        width=num(figure.width), height=num(figure.height), root=figure.root_class,
        prefix=figure.prefix, title=figure.title, desc=figure.desc, nodes=figure.nodes(), palette=PALETTE,
        graph=figure.graph)


def _is_graph(analysis: Analysis) -> bool:
    return analysis.graph is not None and not analysis.graph.is_sequential


def render_compact(analysis: Analysis) -> str:
    # A graph whose branches do not nest (layout_*_graph gives None) is drawn as a column, like a chain.
    figure = layout_compact_graph(analysis) if _is_graph(analysis) else None
    return render_figure(figure or layout_compact(analysis), analysis.spec)


def render_detailed(analysis: Analysis) -> str:
    figure = layout_detailed_graph(analysis) if _is_graph(analysis) else None
    return render_figure(figure or layout_detailed(analysis), analysis.spec)
