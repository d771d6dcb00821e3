"""Render a spec's parameter table (Markdown) in the seed post's column order."""

from __future__ import annotations

from alexnet.analysis import Analysis, Row
from alexnet.formatting import fmt_hwc, fmt_rf

from .templating import environment, header


def in_parameter_table(row: Row) -> bool:
    """The seed's rows: layers that make a tensor of a new size, and any layer with parameters."""
    return row.layer.table_row or row.params > 0


def table_rows(analysis: Analysis) -> list[dict]:
    """The table's rows, the numbers as the site shows them."""
    return [{"display": r.display, "shape": fmt_hwc(r.output), "filter": r.layer.filter_text(r.input),
             "weights": r.weights, "biases": r.biases, "params": r.params, "macs": r.macs,
             "rf": fmt_rf(r.receptive_field)}
            for r in analysis.rows if in_parameter_table(r)]


# Said under the table only where a pool uses them, so a table without them stays as it was.
FILTER_NOTES = {
    ", pad ": "*pad*: zeros added around the input on each side before pooling.",
    ", dilation ": "*dilation*: the window's taps are spread apart by this step, so it spans more input.",
    ", ceil": "*ceil*: the output size is rounded up (PyTorch's `ceil_mode`), so a last window may hang over "
              "the edge; shown only where it changes the size.",
}


def render_parameters(analysis: Analysis) -> str:
    rows = table_rows(analysis)
    return environment().get_template("parameters.md.j2").render(
        header=header(analysis.spec, "<!--"),
        input_shape=fmt_hwc(analysis.input),
        rows=rows,
        notes=[note for mark, note in FILTER_NOTES.items() if any(mark in (r["filter"] or "") for r in rows)],
        total={"weights": analysis.total_weights, "biases": analysis.total_biases,
               "params": analysis.total_params, "macs": analysis.total_macs},
    )
