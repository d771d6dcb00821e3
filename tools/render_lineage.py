"""The lineage table: every spec by year, with its depth, size, cost and the error published for it.

Generated from the specs (``family``, ``year``, ``published``) and their analyses, so a spec added to spec/
joins the table with no change here.
"""

from __future__ import annotations

from alexnet.analysis import Analysis

from .templating import environment, header

WEIGHTED = ("conv", "linear")


def depth(analysis: Analysis) -> int:
    """The most convolution and linear layers on one path from input to output (ResNet-18: 18, not 21)."""
    deepest = {"input": 0}
    for row in analysis.rows:
        deepest[row.name] = max(deepest[s] for s in row.sources or ("input",)) + (row.kind in WEIGHTED)
    return deepest[analysis.rows[-1].name] if analysis.rows else 0


def lineage_rows(analyses: list[Analysis]) -> list[dict]:
    rows = []
    for analysis in sorted(analyses, key=lambda a: (a.spec.year or 0, a.total_params)):
        spec = analysis.spec
        rows.append({"name": spec.name, "title": spec.title, "family": spec.family or "-", "year": spec.year,
                     "depth": depth(analysis), "params": analysis.total_params,
                     "macs": analysis.total_macs, "published": spec.published})
    return rows


def render_lineage(analyses: list[Analysis]) -> str:
    return environment().get_template("lineage.md.j2").render(
        header=header(None, "<!--", "spec/*.yaml"), rows=lineage_rows(analyses))
