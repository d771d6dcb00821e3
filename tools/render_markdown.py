"""Render a spec's parameter table (Markdown) in the seed post's column order."""

from __future__ import annotations

from alexnet.analysis import Analysis, fmt_rf, fmt_shape

from .templating import environment, header


def table_rows(analysis: Analysis) -> list[dict]:
    """The table's rows (layers with weights or a new size), the numbers as the site shows them."""
    return [{"display": r.display, "shape": fmt_shape(r.output), "filter": r.filter, "weights": r.weights,
             "biases": r.biases, "params": r.params, "macs": r.macs, "rf": fmt_rf(r.receptive_field)}
            for r in analysis.rows if r.in_table]


def render_parameters(analysis: Analysis) -> str:
    return environment().get_template("parameters.md.j2").render(
        header=header(analysis.spec, "<!--"),
        input_shape=fmt_shape(analysis.input),
        rows=table_rows(analysis),
        total={"weights": analysis.total_weights, "biases": analysis.total_biases,
               "params": analysis.total_params, "macs": analysis.total_macs},
    )
