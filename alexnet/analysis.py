"""Shapes, parameters, MACs and receptive fields of a spec, in pure Python (torch is never imported).

Counting conventions (DESIGN.md): conv MACs = Hout*Wout*Cout*(Cin/groups)*kh*kw, linear MACs = in*out;
bias, activations, pooling, LRN and batch norm count no MACs. FLOPs = 2 x MACs. Each layer kind works
out its own figures (:mod:`alexnet.kinds`); this module chains them through the network.
"""

from __future__ import annotations

import functools
import math
from dataclasses import dataclass

from .formatting import fmt_chw
from .graph import INPUT, Graph, expand
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
    name: str = ""                  # unique: the layer's name, or its module path inside a block (layer1.0.conv1)
    path: tuple = ()                # where its module sits in the model: ("features", 3), ("layer1", 0, "conv1")
    sources: tuple[str, ...] = ()   # the rows it reads, by name ("input": the network's input)
    inputs: tuple[Shape, ...] = ()  # their shapes

    def __post_init__(self):
        if not self.name:
            object.__setattr__(self, "name", self.layer.name)

    @property
    def kind(self) -> str:
        return self.layer.kind

    @property
    def display(self) -> str:
        """The table's label: the spec's display text, else the row's name (a block's layers: their path)."""
        return self.layer.display or self.name

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
            **({"from": list(self.sources)} if self.name != self.layer.name or self.layer.inputs else {}),
        }


@dataclass(frozen=True)
class Analysis:
    spec: Spec
    rows: tuple[Row, ...]
    graph: Graph | None = None

    def layers_of(self, kind: str) -> list[Row]:
        """The rows of one layer kind, in order."""
        return [r for r in self.rows if r.kind == kind]

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
            "family": self.spec.family,
            "year": self.spec.year,
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


def _rule_problems(spec: Spec, graph: Graph) -> list:
    """Rules that need no shapes, checked for every layer (so they are reported even after a shape error)."""
    problems = []
    nodes = {node.name: node for node in graph.nodes}
    readers: dict[str, int] = {}
    for node in graph.nodes:
        for name in node.inputs:
            readers[name] = readers.get(name, 0) + 1
    for node in graph.nodes:
        layer, where = node.layer, node.where
        problems += [spec.problem((*node.doc, key), f"{where}: {message}") for key, message in layer.rule_problems()]
        if not layer.overwrites_input():
            continue
        # The tensor it overwrites, followed back through layers that may hand on their input (dropout, flatten).
        chain = [node.inputs[0]]
        while chain[-1] in nodes and nodes[chain[-1]].layer.may_alias_input:
            chain.append(nodes[chain[-1]].inputs[0])
        before, root = nodes.get(chain[0]), nodes.get(chain[-1])
        shared = next((name for name in chain if readers.get(name, 0) > 1), None)
        reason = None
        if root is None:
            reason = "as the first layer it would overwrite the caller's input"
        elif before.layer.saves_output:
            reason = f"{before.name} ({before.layer.kind}) needs its output to compute its gradient"
        elif shared is not None:
            reason = f"{shared}'s output is read by another layer too"
        if reason:
            problems.append(spec.problem((*node.doc, "inplace"), f"{where}: inplace is not allowed here: {reason}"))
    return problems


def analyse(spec: Spec, max_params: int = DEFAULT_MAX_PARAMS) -> Analysis:
    """Propagate shapes through ``spec``; raise :class:`SpecError` naming the first layer that cannot work
    (later shapes would be meaningless) or a network whose output is not ``num_classes`` wide."""
    graph = expand(spec)
    problems = graph.problems + _rule_problems(spec, graph)
    rows: list[Row] = []
    shapes: dict[str, Shape] = {INPUT: tuple(spec.input)}
    fields: dict[str, tuple] = {INPUT: ((1, 1), (1, 1))}  # receptive field and jump of each output
    total = 0
    complete = not graph.broken
    for node in graph.nodes if complete else ():
        where, inputs = node.where, [shapes[name] for name in node.inputs]
        try:
            inferred = node.layer.infer_inputs(inputs)
        except ShapeError as exc:
            read = f" (from {', '.join(node.inputs)})" if len(node.inputs) > 1 else ""
            problems.append(spec.problem((*node.doc, exc.key), f"{where}: {exc.message}{read}"))
            complete = False
            break
        output = inferred.output
        # Over several inputs the largest field counts (None: one that already sees everything).
        rf, jump = max((fields[name] for name in node.inputs), key=lambda f: (f[0] is None, f[0] or (0, 0)))
        if len(output) == 1:
            rf = jump = None
        elif inferred.window is not None and rf is not None:
            kernel, stride = inferred.window
            rf = tuple(r + (k - 1) * j for r, k, j in zip(rf, kernel, jump, strict=True))
            jump = tuple(j * s for j, s in zip(jump, stride, strict=True))
        total += inferred.weights + inferred.biases
        if total > max_params:
            problems.append(spec.problem(node.doc, f"{where}: the network reaches {total:,} "
                                         f"parameters here, over the limit of {max_params:,} (see --max-params)"))
            complete = False
            break
        rows.append(Row(node.section, node.index, node.layer, inputs[0], output, inferred.weights, inferred.biases,
                        node.layer.macs(inferred), rf, jump, node.name, node.path, node.inputs, tuple(inputs)))
        shapes[node.name], fields[node.name] = output, (rf, jump)
    for instance in graph.instances if complete else ():
        if len(shapes[instance.input]) != 3:  # a block's class is written for feature maps (BatchNorm2d, ...)
            problems.append(spec.problem(instance.doc, f"block {instance.block!r} used as "
                                         f"{'.'.join(map(str, instance.path))}: a block reads (C, H, W) maps, got "
                                         f"{fmt_chw(shapes[instance.input])}"))
    if complete and shapes[graph.output] != (spec.num_classes,):
        problems.append(spec.problem(("num_classes",), f"num_classes is {spec.num_classes} but the network "
                                     f"outputs {fmt_chw(shapes[graph.output])}"))
    if problems:
        raise SpecError(problems)
    return Analysis(spec, tuple(rows), graph)
