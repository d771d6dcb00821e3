"""Shapes, parameters, MACs and receptive fields of a spec, in pure Python (torch is never imported).

Counting conventions (DESIGN.md): conv MACs = Hout*Wout*Cout*(Cin/groups)*kh*kw, linear MACs = in*out;
bias, activations, pooling, LRN and batch norm count no MACs. FLOPs = 2 x MACs.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, fields

from .source import SpecError
from .spec import Spec, duplicate_name_message, layer_where

DEFAULT_MAX_PARAMS = 10**10
ELEMENTWISE = frozenset({"relu", "tanh", "sigmoid", "lrn", "dropout", "batchnorm"})
BYTES_PER_FLOAT = 4


@dataclass(frozen=True)
class Row:
    """One layer's analysis. Shapes are (C, H, W) or (features,)."""

    section: str
    index: int
    name: str
    kind: str
    display: str
    input: tuple[int, ...]
    output: tuple[int, ...]
    weights: int
    biases: int
    params: int
    macs: int
    filter: str
    receptive_field: tuple[int, int] | None
    jump: tuple[int, int] | None

    @property
    def activations(self) -> int:
        return math.prod(self.output)

    @property
    def in_table(self) -> bool:
        """Rows of the parameter table: layers with weights or a new spatial size (the seed's rows)."""
        return (self.kind not in ELEMENTWISE and self.kind != "flatten") or self.params > 0

    def as_dict(self) -> dict:
        data = {f.name: getattr(self, f.name) for f in fields(self)}  # shallow: asdict deep-copies, 10x slower
        data["input"], data["output"] = list(self.input), list(self.output)
        for key in ("receptive_field", "jump"):
            data[key] = list(data[key]) if data[key] else None
        data["activations"] = self.activations
        return data


@dataclass(frozen=True)
class Analysis:
    spec: Spec
    rows: tuple[Row, ...]

    @property
    def input(self) -> tuple[int, ...]:
        return tuple(self.spec.input)

    @property
    def total_params(self) -> int:
        return sum(r.params for r in self.rows)

    @property
    def total_weights(self) -> int:
        return sum(r.weights for r in self.rows)

    @property
    def total_biases(self) -> int:
        return sum(r.biases for r in self.rows)

    @property
    def total_macs(self) -> int:
        return sum(r.macs for r in self.rows)

    @property
    def total_activations(self) -> int:
        return sum(r.activations for r in self.rows)

    def row(self, name: str) -> Row:
        return next(r for r in self.rows if r.name == name)

    def neighbours(self, name: str) -> tuple[str | None, str | None]:
        """Names of the layers just before and after ``name`` (None at the input / output end)."""
        names = [r.name for r in self.rows]
        i = names.index(name)
        return (names[i - 1] if i else None), (names[i + 1] if i + 1 < len(names) else None)

    def as_dict(self) -> dict:
        return {
            "name": self.spec.name,
            "title": self.spec.title,
            "class_name": self.spec.class_name,
            "input": list(self.input),
            "layers": [r.as_dict() for r in self.rows],
            "total": {
                "params": self.total_params,
                "weights": self.total_weights,
                "biases": self.total_biases,
                "macs": self.total_macs,
                "flops": 2 * self.total_macs,
                "activations": self.total_activations,
            },
        }


class _ShapeError(Exception):
    def __init__(self, key: str, message: str):
        self.key, self.message = key, message


def output_size(size: int, kernel: int, stride: int, padding: int, dilation: int = 1, ceil: bool = False) -> int:
    """Output length along one axis of a convolution or pooling window, as PyTorch computes it."""
    span = size + 2 * padding - dilation * (kernel - 1) - 1
    if ceil:
        out = -(-span // stride) + 1
        if (out - 1) * stride >= size + padding:  # PyTorch: the last window must start inside the input
            out -= 1
    else:
        out = span // stride + 1
    return out


def _spatial(layer, shape: tuple[int, ...], kernel, stride, padding, dilation, ceil: bool) -> tuple[int, int]:
    if len(shape) != 3:
        raise _ShapeError("kind", f"{layer.kind} needs a (C, H, W) input, got {fmt_shape(shape)}")
    out = []
    for size, k, s, p, d in zip(shape[1:], kernel, stride, padding, dilation, strict=True):
        if d * (k - 1) + 1 > size + 2 * p:
            dilated = f" with dilation {fmt_size(dilation)}" if dilation != (1, 1) else ""
            raise _ShapeError("kernel_size", f"the {fmt_pair(kernel)} kernel{dilated} does not fit the "
                                             f"{shape[1]}x{shape[2]} input with padding {fmt_size(padding)}: "
                                             "the output would be empty")
        out.append(output_size(size, k, s, p, d, ceil))
    return out[0], out[1]


def _pool_padding_problem(layer) -> str | None:
    """PyTorch refuses pool padding over half the kernel (a window of padding only); this needs no shapes."""
    if any(p > k // 2 for k, p in zip(layer.kernel_size, layer.padding, strict=True)):
        return (f"padding {fmt_size(layer.padding)} must be at most half the kernel {fmt_pair(layer.kernel_size)} "
                "(PyTorch refuses more)")
    return None


def _layer(layer, shape: tuple[int, ...]) -> tuple[tuple[int, ...], int, int, str, tuple | None]:
    """Output shape, weights, biases, filter description, (kernel, stride) for the receptive field."""
    kind = layer.kind
    if kind == "conv":
        if len(shape) != 3:
            raise _ShapeError("kind", f"conv needs a (C, H, W) input, got {fmt_shape(shape)}")
        cin = shape[0]
        if cin % layer.groups:
            raise _ShapeError("groups", f"groups {layer.groups} does not divide the {cin} input channels")
        h, w = _spatial(layer, shape, layer.kernel_size, layer.stride, layer.padding, layer.dilation, False)
        kh, kw = layer.kernel_size
        weights = layer.out_channels * (cin // layer.groups) * kh * kw
        biases = layer.out_channels if layer.bias else 0
        filt = f"{layer.out_channels}x{cin // layer.groups}x{kh}x{kw}"
        if layer.stride != (1, 1):
            filt += f", /{fmt_size(layer.stride)}"
        if layer.groups > 1:
            filt += f", {layer.groups} groups"
        eff = tuple(d * (k - 1) + 1 for k, d in zip(layer.kernel_size, layer.dilation, strict=False))
        return (layer.out_channels, h, w), weights, biases, filt, (eff, layer.stride)
    if kind == "linear":
        if len(shape) != 1:
            raise _ShapeError("kind", f"linear needs a flat input, got {fmt_shape(shape)}: add a flatten layer first")
        weights = layer.out_features * shape[0]
        return (layer.out_features,), weights, layer.out_features if layer.bias else 0, \
            f"{layer.out_features}x{shape[0]}", None
    if kind in ("maxpool", "avgpool"):
        stride = layer.stride or layer.kernel_size
        dilation = getattr(layer, "dilation", (1, 1))
        h, w = _spatial(layer, shape, layer.kernel_size, stride, layer.padding, dilation, layer.ceil_mode)
        eff = tuple(d * (k - 1) + 1 for k, d in zip(layer.kernel_size, dilation, strict=False))
        return (shape[0], h, w), 0, 0, f"{fmt_pair(layer.kernel_size)}, /{fmt_size(stride)}", (eff, stride)
    if kind == "adaptive_avgpool":
        if len(shape) != 3:
            raise _ShapeError("kind", f"adaptive_avgpool needs a (C, H, W) input, got {fmt_shape(shape)}")
        # Windows vary in size; the largest one and the mean step bound the receptive field.
        kernel = tuple(-(-size // out) + (size % out != 0) for size, out in zip(shape[1:], layer.output_size, strict=False))
        stride = tuple(max(size // out, 1) for size, out in zip(shape[1:], layer.output_size, strict=False))
        kernel = tuple(1 if size == out else k for size, out, k in zip(shape[1:], layer.output_size, kernel, strict=False))
        return (shape[0], *layer.output_size), 0, 0, f"to {fmt_pair(layer.output_size)}", (kernel, stride)
    if kind == "flatten":
        return (math.prod(shape),), 0, 0, "", None
    if kind == "batchnorm":
        return shape, shape[0], shape[0], f"{shape[0]}", None
    if kind == "lrn":
        return shape, 0, 0, f"n={layer.size}", None
    return shape, 0, 0, "", None  # relu, tanh, sigmoid, dropout


def analyse(spec: Spec, max_params: int = DEFAULT_MAX_PARAMS) -> Analysis:
    """Propagate shapes through ``spec``; raise :class:`SpecError` naming every layer that cannot work."""
    problems = []
    seen: dict[str, tuple] = {}
    for section, index, layer in spec.layers():
        path = ("sections", section, index)
        if layer.name in seen:
            first = seen[layer.name]
            problems.append(spec.problem((*path, "name"), duplicate_name_message(
                layer_where(spec, section, index), layer.name, first[1], first[2])))
        else:
            seen[layer.name] = path
        if getattr(layer, "bias_init", None) is not None and not layer.bias:
            problems.append(spec.problem((*path, "bias_init"),
                                         f"{layer_where(spec, section, index)}: bias_init needs bias: true"))
        if layer.kind in ("tanh", "sigmoid") and layer.inplace:
            problems.append(spec.problem((*path, "inplace"),
                                         f"{layer_where(spec, section, index)}: inplace applies to relu only"))
        # Checks that need no shapes, so they are reported even after a shape error stops the second pass.
        if layer.kind == "conv" and layer.out_channels % layer.groups:
            problems.append(spec.problem((*path, "groups"), f"{layer_where(spec, section, index)}: groups "
                                         f"{layer.groups} does not divide the {layer.out_channels} output channels"))
        if layer.kind in ("maxpool", "avgpool") and (message := _pool_padding_problem(layer)):
            problems.append(spec.problem((*path, "padding"), f"{layer_where(spec, section, index)}: {message}"))
    rows: list[Row] = []
    shape = tuple(spec.input)
    rf, jump = (1, 1), (1, 1)
    total = 0
    for section, index, layer in spec.layers():
        path = ("sections", section, index)
        try:
            output, weights, biases, filt, window = _layer(layer, shape)
        except _ShapeError as exc:
            problems.append(spec.problem((*path, exc.key), f"{layer_where(spec, section, index)}: {exc.message}"))
            break
        if len(output) == 1:
            rf_here = jump_here = None
            rf = jump = None
        elif window is not None and rf is not None:
            kernel, stride = window
            rf = tuple(r + (k - 1) * j for r, k, j in zip(rf, kernel, jump, strict=False))
            jump = tuple(j * s for j, s in zip(jump, stride, strict=False))
            rf_here, jump_here = rf, jump
        else:
            rf_here, jump_here = rf, jump
        macs = 0
        if layer.kind == "conv":
            macs = output[1] * output[2] * weights
        elif layer.kind == "linear":
            macs = weights
        total += weights + biases
        if total > max_params:
            problems.append(spec.problem(path, f"{layer_where(spec, section, index)}: the network reaches {total:,} "
                                         f"parameters here, over the limit of {max_params:,} (see --max-params)"))
            break
        rows.append(Row(section, index, layer.name, layer.kind, layer.display or layer.name, shape, output,
                        weights, biases, weights + biases, macs, filt, rf_here, jump_here))
        shape = output
    else:
        if shape != (spec.num_classes,):
            problems.append(spec.problem(("num_classes",), f"num_classes is {spec.num_classes} but the network "
                                         f"outputs {fmt_shape(shape)}"))
    if problems:
        raise SpecError(problems)
    return Analysis(spec, tuple(rows))


def fmt_pair(pair: tuple[int, int]) -> str:
    return f"{pair[0]}x{pair[1]}"


def fmt_size(pair: tuple[int, int]) -> str:
    """``3`` for a square size, stride or padding; ``3x5`` otherwise."""
    return str(pair[0]) if pair[0] == pair[1] else fmt_pair(pair)


def fmt_shape(shape: tuple[int, ...]) -> str:
    """The seed table's notation: H x W x C for feature maps, N for vectors."""
    if len(shape) == 3:
        c, h, w = shape
        return f"{h}x{w}x{c}"
    return "x".join(map(str, shape))


def fmt_nchw(shape: tuple[int, ...]) -> str:
    """PyTorch's notation without the batch: C x H x W."""
    return "x".join(map(str, shape))


def fmt_rf(rf: tuple[int, int] | None) -> str:
    if rf is None:
        return "all"
    return str(rf[0]) if rf[0] == rf[1] else fmt_pair(rf)
