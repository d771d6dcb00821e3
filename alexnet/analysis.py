"""Shapes, parameters, MACs and receptive fields of a spec, in pure Python (torch is never imported).

Counting conventions (DESIGN.md): conv MACs = Hout*Wout*Cout*(Cin/groups)*kh*kw, linear MACs = in*out;
bias, activations, pooling, LRN and batch norm count no MACs. FLOPs = 2 x MACs. Each layer kind works
out its own figures (:mod:`alexnet.kinds`); this module chains them through the network.
"""

from __future__ import annotations

import functools
import math
from dataclasses import dataclass

from .errors import layer_where
from .formatting import fmt_chw
from .kinds import Layer, Shape, ShapeError
from .source import SpecError
from .spec import Spec

DEFAULT_MAX_PARAMS = 10**10
BYTES_PER_FLOAT = 4


@dataclass(frozen=True)
class Row:
    """One layer and its figures. Shapes are (C, H, W) or (features,)."""

    section: str
    index: int
    layer: Layer
    input: Shape
    output: Shape
    weights: int
    biases: int
    macs: int
    receptive_field: tuple[int, int] | None  # None once every output sees the whole input
    jump: tuple[int, int] | None

    @property
    def name(self) -> str:
        return self.layer.name

    @property
    def kind(self) -> str:
        return self.layer.kind

    @property
    def display(self) -> str:
        return self.layer.display_name

    @property
    def params(self) -> int:
        return self.weights + self.biases

    @property
    def flops(self) -> int:
        return 2 * self.macs

    @property
    def activations(self) -> int:
        return math.prod(self.output)

    def as_dict(self) -> dict:
        """The JSON form (``python -m alexnet summary --json``, docs/generated/<name>/analysis.json)."""
        return {
            "section": self.section, "index": self.index, "name": self.name, "kind": self.kind,
            "display": self.display, "input": list(self.input), "output": list(self.output),
            "weights": self.weights, "biases": self.biases, "params": self.params, "macs": self.macs,
            "filter": self.layer.filter_text(self.input),
            "receptive_field": list(self.receptive_field) if self.receptive_field else None,
            "jump": list(self.jump) if self.jump else None,
            "activations": self.activations,
        }


@dataclass(frozen=True)
class Analysis:
    spec: Spec
    rows: tuple[Row, ...]

    @property
    def input(self) -> Shape:
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
    def total_flops(self) -> int:
        return 2 * self.total_macs

    @property
    def total_activations(self) -> int:
        return sum(r.activations for r in self.rows)

    @functools.cached_property
    def _position(self) -> dict[str, int]:
        return {r.name: i for i, r in enumerate(self.rows)}

    def row(self, name: str) -> Row:
        return self.rows[self._position[name]]

    def neighbours(self, name: str) -> tuple[Row | None, Row | None]:
        """The rows just before and after ``name`` (None at the input / output end)."""
        i = self._position[name]
        return (self.rows[i - 1] if i else None), (self.rows[i + 1] if i + 1 < len(self.rows) else None)

    @property
    def classifier(self) -> Row | None:
        """The layer whose output size alone is the class count, so ``num_classes`` can change it: the last
        layer that :meth:`~alexnet.kinds.Layer.sets_channels`, when every layer after it keeps the channel
        count (a flatten only of 1x1 maps). None when no such layer exists."""
        for i in range(len(self.rows) - 1, -1, -1):
            row = self.rows[i]
            if row.layer.sets_channels():
                return row if all(_keeps_channels(r) for r in self.rows[i + 1:]) else None
        return None

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
                "flops": self.total_flops,
                "activations": self.total_activations,
            },
        }


def _keeps_channels(row: Row) -> bool:
    return row.output[0] == row.input[0] and (len(row.output) == len(row.input) or math.prod(row.input[1:]) == 1)


def _rule_problems(spec: Spec) -> list:
    """Rules that need no shapes, checked for every layer (so they are reported even after a shape error)."""
    problems = []
    before = None
    for section, index, layer in spec.layers():
        path, where = ("sections", section, index), layer_where(layer.name, section, index)
        problems += [spec.problem((*path, key), f"{where}: {message}") for key, message in layer.rule_problems()]
        if layer.overwrites_input() and (before is None or before.saves_output):
            reason = ("as the first layer it would overwrite the caller's input" if before is None else
                      f"{before.name} ({before.kind}) needs its output to compute its gradient")
            problems.append(spec.problem((*path, "inplace"), f"{where}: inplace is not allowed here: {reason}"))
        before = layer
    return problems


def analyse(spec: Spec, max_params: int = DEFAULT_MAX_PARAMS) -> Analysis:
    """Propagate shapes through ``spec``; raise :class:`SpecError` naming the first layer that cannot work
    (later shapes would be meaningless) or a network whose output is not ``num_classes`` wide."""
    problems = _rule_problems(spec)
    rows: list[Row] = []
    shape = tuple(spec.input)
    rf: tuple[int, int] | None = (1, 1)
    jump: tuple[int, int] | None = (1, 1)
    total = 0
    for section, index, layer in spec.layers():
        path = ("sections", section, index)
        where = layer_where(layer.name, section, index)
        try:
            inferred = layer.infer(shape)
        except ShapeError as exc:
            problems.append(spec.problem((*path, exc.key), f"{where}: {exc.message}"))
            break
        output = inferred.output
        if len(output) == 1:
            rf = jump = None
        elif inferred.window is not None and rf is not None:
            kernel, stride = inferred.window
            rf = tuple(r + (k - 1) * j for r, k, j in zip(rf, kernel, jump, strict=True))
            jump = tuple(j * s for j, s in zip(jump, stride, strict=True))
        total += inferred.weights + inferred.biases
        if total > max_params:
            problems.append(spec.problem(path, f"{where}: the network reaches {total:,} "
                                         f"parameters here, over the limit of {max_params:,} (see --max-params)"))
            break
        rows.append(Row(section, index, layer, shape, output, inferred.weights, inferred.biases,
                        layer.macs(inferred), rf, jump))
        shape = output
    else:
        if shape != (spec.num_classes,):
            problems.append(spec.problem(("num_classes",), f"num_classes is {spec.num_classes} but the network "
                                         f"outputs {fmt_chw(shape)}"))
    if problems:
        raise SpecError(problems)
    return Analysis(spec, tuple(rows))
