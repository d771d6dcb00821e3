"""The nesting of a graph's branches, for drawing: a chain of units in which a fork opens parallel branches
that all end in the unit joining them (the ``add`` of a residual block, the ``concat`` of an Inception module).

Units are what a view draws (a box, a volume), numbered in execution order; each reads units numbered below
it. The join of a fork is its immediate post-dominator: the first unit that every path from the fork passes
through. They are computed from the last unit back, walking up already known post-dominators, which costs
about the nesting depth per fork. A graph whose branches do not nest (a branch reading a layer inside another
branch, a join that also reads from outside its fork) gives None: the caller draws its plain column instead.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass
class Fork:
    source: int
    branches: list[list]  # chains of units and nested forks, left to right in execution order
    skip: bool            # the join also reads the source itself: an identity shortcut
    join: int


class _NotNested(Exception):
    pass


def structure(sources: list[tuple[int, ...]]) -> list | None:
    """The chain from unit 0 (reads nothing) to the last unit (read by nothing); ``sources[i]`` are the
    units unit ``i`` reads. None when the branches do not nest."""
    n = len(sources)
    readers: list[list[int]] = [[] for _ in range(n)]
    for unit, read in enumerate(sources):
        for source in dict.fromkeys(read):  # add(x, x) draws one edge
            readers[source].append(unit)
    if any(not readers[u] for u in range(n - 1)):
        return None
    join: list[int | None] = [None] * n
    for unit in range(n - 2, -1, -1):
        meet = readers[unit][0]
        for other in readers[unit][1:]:
            a, b = meet, other
            while a != b:  # both chains end at the last unit
                if a < b:
                    a = join[a]
                else:
                    b = join[b]
            meet = a
        join[unit] = meet

    seen = [False] * n
    drawn: set[tuple[int, int]] = set()

    def chain(unit: int, stop: int | None) -> list:
        items: list = []
        while unit != stop:
            if seen[unit]:
                raise _NotNested
            seen[unit] = True
            items.append(unit)
            if unit == n - 1:
                break
            read_by = readers[unit]
            if len(read_by) == 1:
                drawn.add((unit, read_by[0]))
                unit = read_by[0]
                continue
            end = join[unit]
            if end == stop:  # inner branches ending in the outer join: not drawn as nested columns
                raise _NotNested
            branches = [chain(r, end) for r in read_by if r != end]
            if any(isinstance(b[-1], Fork) for b in branches):
                raise _NotNested
            drawn.update((unit, r) for r in read_by)
            drawn.update((b[-1], end) for b in branches)
            items.append(Fork(unit, branches, end in read_by, end))
            unit = end
        return items

    try:
        items = chain(0, None)
    except _NotNested:
        return None
    edges = {(s, u) for u, read in enumerate(sources) for s in read}
    return items if all(seen) and drawn == edges else None
