"""Runs of one block used again and again, which the compact view draws once with an "x N" marker.

Two top-level block uses are the same when they use the same block with the same arguments (after
defaults), the second reads the first's output (and nothing else does), and both map a tensor of one shape to that same shape.
Then their layers, shapes and parameters are identical, so drawing the first one says everything. ResNet's
stages are like this after their first block (which changes the shape and has the projection shortcut).
"""

from __future__ import annotations

from dataclasses import dataclass

from alexnet.analysis import Analysis
from alexnet.graph import INPUT, Instance, path_name


@dataclass(frozen=True)
class Run:
    uses: tuple[Instance, ...]  # two or more, in order

    @property
    def first(self) -> Instance:
        return self.uses[0]

    @property
    def name(self) -> str:
        return path_name(self.first.path)

    @property
    def title(self) -> str:
        return f"{self.name} to {path_name(self.uses[-1].path)} ({self.first.block})"


def repeated_runs(analysis: Analysis) -> list[Run]:
    graph = analysis.graph
    shapes = {INPUT: analysis.input, **{row.name: row.output for row in analysis.rows}}
    readers: dict[str, set[str]] = {}
    for row in analysis.rows:
        for source in row.sources:
            readers.setdefault(source, set()).add(row.name)

    def same(a: Instance, b: Instance) -> bool:
        return (a.block == b.block and a.args == b.args and b.input == a.output
                and shapes[a.input] == shapes[a.output] == shapes[b.output]
                and readers.get(a.output, set()) <= set(layer_names(b)))  # nothing else reads a hidden use

    runs, current = [], []
    for _section, _index, entry in graph.entries:
        if not isinstance(entry, Instance):
            current = []
        elif current and same(current[-1], entry):
            current.append(entry)
        else:
            current = [entry]
        if len(current) == 2:
            runs.append(current)
    return [Run(tuple(uses)) for uses in runs]


def layer_names(instance: Instance) -> list[str]:
    """The names of every layer of a block use, nested uses included, in order."""
    names = []
    for _child, item in instance.children:
        names += layer_names(item) if isinstance(item, Instance) else [item.name]
    return names
