"""Render a spec's PyTorch model as readable Python source (a torchvision-style class).

The generator writes it to alexnet/models/<name>.py; training builds any spec file from the same source, so
this lives in the library. Each layer kind writes its own constructor call
(:meth:`alexnet.kinds.Layer.torch_module`). Spec strings reach the code only as validated identifiers or
through ``repr``; numbers are formatted by ``repr`` too, so the output is byte-deterministic.
"""

from __future__ import annotations

import functools
from pathlib import Path

import jinja2

from .analysis import Analysis, Row
from .formatting import fmt_chw
from .spec import Spec


def header(spec: Spec | None, comment: str, source: str | None = None) -> str:
    """The first line of every generated file."""
    origin = source or f"spec/{spec.name}.yaml"
    text = f"Generated from {origin} by `python -m tools.generate`; do not edit."
    if comment == "<!--":
        return f"<!-- {text} -->"
    return f"{comment} {text}"


def python_docstring_text(text: str) -> str:
    """Text safe inside a triple-quoted docstring (spec text has no backslashes; quotes get one)."""
    return str(text).replace("\\", "\\\\").replace('"', '\\"')


@functools.cache
def _environment() -> jinja2.Environment:
    env = jinja2.Environment(loader=jinja2.FileSystemLoader(Path(__file__).parent / "templates"),
                             undefined=jinja2.StrictUndefined, keep_trailing_newline=True, trim_blocks=True,
                             lstrip_blocks=True, autoescape=False)  # Python output: values go through repr
    env.filters.update(pyrepr=repr, pytuple=lambda v: repr(tuple(v)), pydoc=python_docstring_text)
    return env


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
    return _environment().get_template("model.py.j2").render(
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
