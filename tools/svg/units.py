"""What the graph views draw: units (a layer with the elementwise layers folded into it), their nesting, and
the frames around top-level block uses.

A layer folds into the unit above it when it reads only that unit's last layer, nothing else reads that
layer, and the view accepts it there (badges in the compact view, listed followers in the detailed one).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from alexnet.analysis import Analysis, Row
from alexnet.graph import INPUT, Instance, path_name

from .flow import Frame
from .repeats import Run, layer_names
from .structure import Fork, structure


@dataclass
class Unit:
    rows: list[Row] = field(default_factory=list)  # the drawn layer, then those folded into it
    terminal: str = ""  # "input" or "output" for the two ends

    @property
    def head(self) -> Row:
        return self.rows[0]

    @property
    def output(self) -> tuple[int, ...]:
        return self.rows[-1].output


@dataclass
class Layout:
    units: list[Unit]
    items: list               # the nested chain (structure.py) of unit indexes
    frames: list[Frame]
    framed: list              # per frame: the Instance it draws, and its Run when repeated
    prefixes: dict[int, str]  # unit -> the path of its frame's block use (names inside drop it)


def units_of(analysis: Analysis, fold: Callable[[Unit, Row], bool], hidden: set[str] = frozenset(),
             rename: dict[str, str] | None = None) -> tuple[list[Unit], list[tuple[int, ...]]]:
    """Units in execution order, with the units each reads; ``hidden`` layers are left out and reads of a
    name in ``rename`` go to its replacement (a collapsed run of blocks)."""
    rename = rename or {}
    rows = [r for r in analysis.rows if r.name not in hidden]
    reads = {r.name: tuple(dict.fromkeys(rename.get(s, s) for s in r.sources)) for r in rows}
    readers: dict[str, int] = {}
    for r in rows:
        for s in reads[r.name]:
            readers[s] = readers.get(s, 0) + 1
    units, unit_of = [Unit(terminal="input")], {INPUT: 0}
    for row in rows:
        unit = units[-1]
        if unit.rows and reads[row.name] == (unit.rows[-1].name,) and readers[unit.rows[-1].name] == 1 \
                and fold(unit, row):
            unit.rows.append(row)
        else:
            units.append(Unit([row]))
        unit_of[row.name] = len(units) - 1
    output = rename.get(analysis.graph.output, analysis.graph.output)
    units.append(Unit(terminal="output"))
    sources = [()] + [tuple(unit_of[s] for s in reads[u.head.name]) for u in units[1:-1]] + [(unit_of[output],)]
    return units, sources


def layout(analysis: Analysis, fold: Callable[[Unit, Row], bool], runs: list[Run] = ()) -> Layout | None:
    """Units, nesting and frames; None when the branches do not nest (the caller draws a column). A run is
    drawn once only where its frame carries the "x N" (a run inside a branch gets no frame): the others are
    laid out again with every use drawn."""
    plan = _layout(analysis, fold, runs)
    shown = [run for _instance, run in plan.framed if run] if plan else runs
    if len(shown) < len(runs):
        return layout(analysis, fold, shown)
    return plan


def _layout(analysis: Analysis, fold: Callable[[Unit, Row], bool], runs: list[Run]) -> Layout | None:
    hidden = {name for run in runs for use in run.uses[1:] for name in layer_names(use)}
    rename = {run.uses[-1].output: run.first.output for run in runs}
    units, sources = units_of(analysis, fold, hidden, rename)
    items = structure(sources)
    if items is None:
        return None
    entry_of: dict[str, int] = {}
    instances: dict[int, Instance] = {}
    for index, (_section, _i, entry) in enumerate(analysis.graph.entries):
        if isinstance(entry, Instance):
            instances[index] = entry
            entry_of.update(dict.fromkeys(layer_names(entry), index))
        else:
            entry_of[entry.name] = index
    owner = {u: entry_of[unit.head.name] for u, unit in enumerate(units) if unit.rows}
    repeated = {id(run.first): run for run in runs}

    def owner_of(item) -> int | None:
        found = {owner.get(u) for u in _units_in(item)}
        return found.pop() if len(found) == 1 else None

    frames, framed, prefixes = [], [], {}
    k = 0
    while k < len(items):
        index = owner_of(items[k])
        end = k + 1
        while end < len(items) and index is not None and owner_of(items[end]) == index:
            end += 1
        instance = instances.get(index)
        run = repeated.get(id(instance))
        has_fork = any(isinstance(item, Fork) for item in items[k:end])
        if instance is not None and (has_fork or run) and not isinstance(items[end - 1], Fork):
            frames.append(Frame(k, end, 0))
            framed.append((instance, run))
            for item in items[k:end]:
                prefixes.update(dict.fromkeys(_units_in(item), path_name(instance.path)))
        k = end
    return Layout(units, items, frames, framed, prefixes)


def _units_in(item) -> list[int]:
    if isinstance(item, int):
        return [item]
    out = []
    for branch in item.branches:
        for part in branch:
            out += _units_in(part)
    return out


def local_name(name: str, prefix: str | None) -> str:
    """A layer's name inside its frame: ``branch2.1.conv`` in the frame of ``inception3a``."""
    return name[len(prefix) + 1:] if prefix and name.startswith(prefix + ".") else name
