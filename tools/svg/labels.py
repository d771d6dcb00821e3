"""What each layer is called in the drawings, and which colour family its kind belongs to."""

from __future__ import annotations

from alexnet.analysis import Analysis, Row, fmt_nchw, fmt_pair, fmt_size

# Colour families (CSS classes ``k-<family>``), in legend order. The seed's scheme: conv/fc blue,
# pooling red, LRN/dropout green; we give each kind family its own hue.
FAMILIES = {
    "io": "input / output",
    "conv": "convolution",
    "fc": "fully connected",
    "pool": "pooling",
    "norm": "normalization",
    "dropout": "dropout",
    "act": "activation",
    "reshape": "reshape",
}
FAMILY_OF_KIND = {
    "conv": "conv", "linear": "fc", "maxpool": "pool", "avgpool": "pool", "adaptive_avgpool": "pool",
    "lrn": "norm", "batchnorm": "norm", "dropout": "dropout", "relu": "act", "tanh": "act", "sigmoid": "act",
    "flatten": "reshape",
}
ACTIVATIONS = frozenset({"relu", "tanh", "sigmoid"})


def layer_of(analysis: Analysis, row: Row):
    return analysis.spec.sections[row.section][row.index]


def _stride(stride: tuple[int, int]) -> str:
    return "" if stride == (1, 1) else f", /{fmt_size(stride)}"


def layer_label(analysis: Analysis, row: Row) -> str:
    """The box label in the seed's style: ``11x11 conv, 96, /4``, ``3x3 max pool, /2``, ``fc, 4096``."""
    layer = layer_of(analysis, row)
    kind = row.kind
    if kind == "conv":
        text = f"{fmt_pair(layer.kernel_size)} conv, {row.output[0]}{_stride(layer.stride)}"
        if layer.dilation != (1, 1):
            text += f", dilation {fmt_size(layer.dilation)}"
        return text + (f", {layer.groups} groups" if layer.groups > 1 else "")
    if kind in ("maxpool", "avgpool"):
        name = "max pool" if kind == "maxpool" else "avg pool"
        return f"{fmt_pair(layer.kernel_size)} {name}{_stride(layer.stride or layer.kernel_size)}"
    if kind == "adaptive_avgpool":
        return f"adaptive avg pool, to {fmt_pair(layer.output_size)}"
    if kind == "linear":
        return f"fc, {row.output[0]}"
    if kind == "dropout":
        return f"dropout {layer.p:g}"
    if kind == "lrn":
        return f"LRN n={layer.size}"
    if kind == "batchnorm":
        return "batch norm"
    return {"relu": "ReLU", "tanh": "tanh", "sigmoid": "sigmoid", "flatten": "flatten"}[kind]


def layer_title(analysis: Analysis, row: Row) -> str:
    """Tooltip and screen-reader text: name, what it does, output shape, parameters, MACs."""
    text = f"{row.display}: {layer_label(analysis, row)}, output {fmt_nchw(row.output)}"
    if row.params:
        text += f", {row.params:,} parameters"
    if row.macs:
        text += f", {row.macs:,} MACs"
    return text
