"""Render a spec's PyTorch model as readable Python source (a torchvision-style class).

Each layer kind writes its own constructor call (:meth:`alexnet.kinds.Layer.torch_module`). Spec strings
reach the code only as validated identifiers or through ``repr``; numbers are formatted by ``repr`` too,
so the output is byte-deterministic.
"""

from __future__ import annotations

from alexnet.analysis import Analysis, Row
from alexnet.formatting import fmt_chw

from .templating import environment, header


def module_exprs(analysis: Analysis) -> list[str]:
    """The constructor call of every layer. From the classifier on (the layer that alone sets the output
    size), the class count is the ``num_classes`` argument, so layers after it that need it get it too."""
    exprs, after_classifier = [], False
    for row in analysis.rows:
        in_channels = "num_classes" if after_classifier else repr(row.input[0])
        is_classifier = row is analysis.classifier
        exprs.append(row.layer.torch_module(row.input, in_channels, "num_classes" if is_classifier else None))
        after_classifier = after_classifier or is_classifier
    return exprs


def _shape_comment(row: Row) -> str:
    if row.layer.elementwise:
        return f"{row.name}: {fmt_chw(row.output)}"
    return f"{row.name}: {fmt_chw(row.input)} -> {fmt_chw(row.output)}"


def render_model(analysis: Analysis) -> str:
    spec = analysis.spec
    by_section: dict[str, list[tuple[Row, str]]] = {}
    for row, expr in zip(analysis.rows, module_exprs(analysis), strict=True):
        by_section.setdefault(row.section, []).append((row, expr))
    sections = []
    for name, rows in by_section.items():
        single = len(rows) == 1
        entries = [{"expr": expr, "comment": _shape_comment(row), "row": row,
                    "attr": f"self.{name}" if single else f"self.{name}[{row.index}]"} for row, expr in rows]
        sections.append({"name": name, "entries": entries, "functional": rows[0][0].layer.functional if single else None})
    bias_overrides = [(e["attr"], e["row"].layer.bias_override(), e["row"].name) for s in sections for e in s["entries"]
                      if e["row"].layer.bias_override() is not None]
    normal_init = spec.init.weights == "normal"
    return environment().get_template("model.py.j2").render(
        header=header(spec, "#"),
        spec=spec,
        analysis=analysis,
        sections=sections,
        imports=sorted({line for row in analysis.rows for line in row.layer.imports}),
        num_classes_arg=analysis.classifier is not None,
        normal_init=normal_init,
        bias_overrides=bias_overrides,
        has_init=normal_init or bool(bias_overrides),
    )
