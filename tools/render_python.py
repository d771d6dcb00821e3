"""Render a spec's PyTorch model as readable Python source (a torchvision-style class).

Spec strings reach the code only as validated identifiers or through ``repr``; numbers are
formatted by ``repr`` too, so the output is byte-deterministic.
"""

from __future__ import annotations

from alexnet.analysis import ELEMENTWISE, Analysis, Row, fmt_nchw

from .templating import environment, header


def _size(pair: tuple[int, int]) -> str:
    return repr(pair[0]) if pair[0] == pair[1] else repr(tuple(pair))


def _kwargs(**items: object) -> str:
    return "".join(f", {key}={value}" for key, value in items.items() if value is not None)


def module_expr(layer, row: Row, num_classes_arg: bool) -> str:
    """The constructor call for one layer, e.g. ``nn.Conv2d(3, 96, kernel_size=11, stride=4, padding=2)``."""
    kind = layer.kind
    if kind == "conv":
        return (f"nn.Conv2d({row.input[0]}, {layer.out_channels}, kernel_size={_size(layer.kernel_size)}"
                + _kwargs(stride=_size(layer.stride) if layer.stride != (1, 1) else None,
                          padding=_size(layer.padding) if layer.padding != (0, 0) else None,
                          dilation=_size(layer.dilation) if layer.dilation != (1, 1) else None,
                          groups=layer.groups if layer.groups != 1 else None,
                          bias=None if layer.bias else "False") + ")")
    if kind == "linear":
        out = "num_classes" if num_classes_arg else repr(layer.out_features)
        return f"nn.Linear({row.input[0]}, {out}" + _kwargs(bias=None if layer.bias else "False") + ")"
    if kind == "relu":
        return "nn.ReLU(inplace=True)" if layer.inplace else "nn.ReLU()"
    if kind == "tanh":
        return "nn.Tanh()"
    if kind == "sigmoid":
        return "nn.Sigmoid()"
    if kind == "lrn":
        return (f"LocalResponseNorm({layer.size}, alpha={layer.alpha!r}, beta={layer.beta!r}, k={layer.k!r}, "
                f"convention={layer.convention!r})")
    if kind in ("maxpool", "avgpool"):
        cls = "nn.MaxPool2d" if kind == "maxpool" else "nn.AvgPool2d"
        stride = layer.stride or layer.kernel_size
        extra = {"dilation": _size(layer.dilation) if layer.dilation != (1, 1) else None} if kind == "maxpool" else {}
        return (f"{cls}(kernel_size={_size(layer.kernel_size)}"
                + _kwargs(stride=_size(stride) if stride != layer.kernel_size else None,
                          padding=_size(layer.padding) if layer.padding != (0, 0) else None,
                          **extra, ceil_mode="True" if layer.ceil_mode else None) + ")")
    if kind == "adaptive_avgpool":
        return f"nn.AdaptiveAvgPool2d({tuple(layer.output_size)!r})"
    if kind == "flatten":
        return "nn.Flatten()"
    if kind == "dropout":
        return f"nn.Dropout(p={layer.p!r})"
    if kind == "batchnorm":
        cls = "nn.BatchNorm2d" if len(row.input) == 3 else "nn.BatchNorm1d"
        return f"{cls}({row.input[0]}" + _kwargs(eps=repr(layer.eps) if layer.eps != 1e-5 else None,
                                                 momentum=repr(layer.momentum) if layer.momentum != 0.1 else None) + ")"
    raise ValueError(f"no PyTorch module for layer kind {kind!r}")


def _shape_comment(row: Row) -> str:
    if row.kind in ELEMENTWISE:
        return f"{row.name}: {fmt_nchw(row.output)}"
    return f"{row.name}: {fmt_nchw(row.input)} -> {fmt_nchw(row.output)}"


def render_model(analysis: Analysis) -> str:
    spec = analysis.spec
    rows = {(r.section, r.index): r for r in analysis.rows}
    linear_rows = [r for r in analysis.rows if r.kind == "linear"]
    last_linear = linear_rows[-1] if linear_rows and linear_rows[-1].output == (spec.num_classes,) else None
    sections = []
    for name, layers in spec.sections.items():
        entries = []
        for index, layer in enumerate(layers):
            row = rows[(name, index)]
            entries.append({"expr": module_expr(layer, row, row is last_linear), "comment": _shape_comment(row),
                            "attr": f"self.{name}" if len(layers) == 1 else f"self.{name}[{index}]",
                            "layer": layer})
        functional = len(layers) == 1 and layers[0].kind == "flatten"
        sections.append({"name": name, "entries": entries, "functional": functional})
    init = spec.init
    bias_overrides = [(e["attr"], e["layer"].bias_init, e["layer"].name) for s in sections for e in s["entries"]
                      if getattr(e["layer"], "bias_init", None) is not None]
    return environment().get_template("model.py.j2").render(
        header=header(spec, "#"),
        spec=spec,
        analysis=analysis,
        sections=sections,
        uses_lrn=any(r.kind == "lrn" for r in analysis.rows),
        num_classes_arg=last_linear is not None,
        normal_init=init.weights == "normal",
        bias_overrides=bias_overrides,
        has_init=init.weights == "normal" or bool(bias_overrides),
    )
