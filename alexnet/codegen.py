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
from .codegen_blocks import BlockWriter, _literal, variable
from .formatting import fmt_chw
from .graph import INPUT, Instance, Node, path_name
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


def module_exprs(analysis: Analysis, rows: list[Row]) -> dict[str, str]:
    """The constructor call of each of the top-level ``rows``. From the classifier on (the layer that alone sets
    the output size), the class count is the ``num_classes`` argument, so layers after it that need it get it."""
    exprs, after_classifier = {}, False
    for row in rows:
        in_channels = "num_classes" if after_classifier else repr(row.input[0])
        is_classifier = row is analysis.classifier
        if not row.layer.module_free:
            exprs[row.name] = row.layer.torch_module(row.input, in_channels, "num_classes" if is_classifier else None)
        after_classifier = after_classifier or is_classifier
    return exprs


def _shape_comment(name: str, shape_in: tuple, shape_out: tuple, elementwise: bool = False) -> str:
    if elementwise:
        return f"{name}: {fmt_chw(shape_out)}"
    return f"{name}: {fmt_chw(shape_in)} -> {fmt_chw(shape_out)}"


def attribute(path: tuple) -> str:
    """``self.features[3]``, ``self.layer1[0].conv1``: where a module sits, as code."""
    return "self." + str(path[0]) + "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in path[1:])


def render_model(analysis: Analysis) -> str:
    spec, graph = analysis.spec, analysis.graph
    writer = BlockWriter(spec, graph.instances)
    top_rows = [analysis.row(item.name) for _, _, item in graph.entries if isinstance(item, Node)]
    exprs = module_exprs(analysis, top_rows)
    shapes = {INPUT: analysis.input, **{r.name: r.output for r in analysis.rows}}
    sections: dict[str, dict] = {}
    chain, prev, forward = True, INPUT, []
    for section, _, item in graph.entries:
        entries = sections.setdefault(section, {"name": section, "entries": [], "functional": None})["entries"]
        reads = item.inputs if isinstance(item, Node) else (item.input,)
        chain = chain and reads == (prev,) and item.path != ()
        if isinstance(item, Node):
            row, layer = analysis.row(item.name), item.layer
            if item.path:
                entries.append({"expr": exprs[row.name], "path": item.path, "functional": layer.functional,
                                "comment": _shape_comment(row.name, row.input, row.output, layer.elementwise)})
            prev, call_on = item.name, layer
        else:
            in_code = repr(shapes[item.input][0])
            args = {p: _literal(v) for p, v in item.args.items()}
            entries.append({"expr": writer.call(item.block, in_code, args, list(item.given)), "path": item.path,
                            "functional": None,
                            "comment": _shape_comment(path_name(item.path), shapes[item.input], shapes[item.output])})
            prev, call_on = item.output, None
        forward.append((item, call_on, reads))
    for section in sections.values():
        single = len(section["entries"]) == 1
        section["functional"] = section["entries"][0]["functional"] if single else None
    bias_overrides = [(attribute(r.path), r.layer.bias_override(), r.name) for r in analysis.rows
                      if r.layer.bias_override() is not None]
    normal_init = spec.init.weights == "normal"
    classifier = analysis.classifier
    return _environment().get_template("model.py.j2").render(
        header=header(spec, "#"),
        spec=spec,
        analysis=analysis,
        blocks=writer.classes(),
        sections=list(sections.values()),
        forward=None if chain else _forward_lines(forward, graph.output),
        imports=sorted({line for row in analysis.rows for line in row.layer.imports}),
        num_classes_arg=classifier is not None and classifier.name in exprs,
        normal_init=normal_init,
        bias_overrides=bias_overrides,
        has_init=normal_init or bool(bias_overrides),
    )


def _forward_lines(items: list, output: str) -> list[str]:
    """forward() of a network whose sections are not one chain: each top-level module called on its inputs."""
    lines = []
    for item, layer, reads in items:
        args = [variable(name) for name in reads]
        target = variable(item.name if isinstance(item, Node) else item.output)
        if isinstance(item, Instance):
            lines.append(f"{target} = {attribute(item.path)}({args[0]})")
        elif layer.module_free:
            lines.append(f"{target} = {layer.torch_call('', args)}")
        elif layer.functional and len(item.path) == 1:
            lines.append(f"{target} = {layer.functional.format(x=args[0])}")
        else:
            lines.append(f"{target} = {layer.torch_call(attribute(item.path), args)}")
    return [*lines, f"return {variable(output)}"]
