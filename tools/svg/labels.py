"""What each layer is called in the drawings. The label and colour family come from the layer's kind
(:meth:`alexnet.kinds.Layer.diagram_label`, ``Layer.family``); this module names the families."""

from __future__ import annotations

from alexnet.analysis import Row
from alexnet.formatting import fmt_chw

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
    "merge": "merge (add, concat)",
}


def layer_label(row: Row) -> str:
    """The box label in the seed's style: ``11x11 conv, 96, /4``, ``3x3 max pool, /2``, ``fc, 4096``."""
    return row.layer.diagram_label(row.output)


def is_activation(row: Row) -> bool:
    return row.layer.family == "act"


def layer_title(row: Row) -> str:
    """Tooltip and screen-reader text: name, what it does, output shape, parameters, MACs."""
    text = f"{row.display}: {layer_label(row)}, output {fmt_chw(row.output)}"
    if row.params:
        text += f", {row.params:,} parameters"
    if row.macs:
        text += f", {row.macs:,} MACs"
    return text


# Badges inside a box are small: the usual abbreviations, with the full label in the tooltip.
_BADGE_SHORT = {"batchnorm": "BN"}


def badge_label(row: Row) -> str:
    return _BADGE_SHORT.get(row.kind, layer_label(row))
