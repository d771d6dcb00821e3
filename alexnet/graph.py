"""A spec unrolled into a graph: every layer (blocks expanded, `$arguments` filled in) with the names of the
layers it reads.

Inputs are referred to by name, never by position, and a name must be defined before it is read, so a graph
written in a spec cannot have a cycle. A layer without ``from:`` reads the layer before it; ``input`` is the
input of the network or of the block. Problems are collected, each located in the file.
"""

from __future__ import annotations

import keyword
from dataclasses import dataclass, field
from typing import Any

from pydantic import TypeAdapter, ValidationError

from .errors import layer_where, problems_at, suggest
from .kinds import KINDS, Layer
from .source import Problem
from .spec import RESERVED_SECTIONS, AnyLayer, BlockUse, Spec

INPUT = "input"
_LAYER = TypeAdapter(AnyLayer)


@dataclass(frozen=True)
class Node:
    name: str                  # unique: a top-level layer's own name, else its module path ("layer1.0.conv1")
    path: tuple                # where the module sits: ("features", 3), ("layer1", 0, "conv1")
    layer: Layer
    inputs: tuple[str, ...]    # names of the nodes it reads (INPUT: the network's input)
    section: str
    index: int                 # position of its top-level entry in the section, repeats unrolled
    where: str                 # how messages name it
    doc: tuple                 # its definition in the document, for file:line:col


@dataclass(frozen=True)
class Instance:
    """One use of a block: what the generated code builds as one module."""

    path: tuple
    block: str
    args: dict
    given: dict                # the args the use wrote ($-references kept), for the generated call
    input: str
    output: str
    children: tuple = ()       # (child name, node name or nested Instance) in definition order, `when`-skipped left out
    doc: tuple = ()            # the use in the document, for file:line:col


@dataclass
class Graph:
    nodes: list[Node] = field(default_factory=list)
    instances: list[Instance] = field(default_factory=list)
    entries: list[tuple[str, int, Any]] = field(default_factory=list)  # top level: (section, index, Node | Instance)
    output: str = INPUT
    problems: list[Problem] = field(default_factory=list)
    broken: bool = False  # a problem that leaves shapes unknowable (an unknown input, block or argument)

    @property
    def is_sequential(self) -> bool:
        """True for a plain chain of layers: no block, every layer reading the one before."""
        return not self.instances and all(n.layer.inputs is None for n in self.nodes)


def expand(spec: Spec) -> Graph:
    return _Expander(spec).run()


def path_name(path: tuple) -> str:
    return ".".join(map(str, path))


class _Expander:
    def __init__(self, spec: Spec):
        self.spec, self.graph = spec, Graph()
        self.seen: set[tuple] = set()  # (document path, message): a block's mistake is reported once

    def problem(self, doc: tuple, message: str, breaks: bool = True) -> None:
        self.graph.broken = self.graph.broken or breaks
        if (doc, message) not in self.seen:
            self.seen.add((doc, message))
            self.graph.problems.append(self.spec.problem(doc, message))

    def run(self) -> Graph:
        self.graph_syntax = bool(self.spec.blocks) or any(
            e.inputs is not None for entries in self.spec.sections.values() for e in entries)
        self._check_blocks()
        scope = {INPUT: INPUT}
        later = {e.name for entries in self.spec.sections.values() for e in entries}
        prev = INPUT
        for section, entries in self.spec.sections.items():
            count = sum(getattr(e, "repeat", 1) for e in entries if not getattr(e, "module_free", False))
            index = 0
            for i, entry in enumerate(entries):
                doc = ("sections", section, i)
                where = layer_where(entry.name, section, i)
                if entry.when is not None:
                    self.problem((*doc, "when"), f"{where}: when: applies inside blocks only")
                if entry.name == INPUT and self.graph_syntax:  # in a plain chain the name is only a label
                    self.problem((*doc, "name"), f"{where}: 'input' names the network's input in from:, not a layer")
                inputs = self._inputs(entry, scope, prev, later, doc, where)
                later.discard(entry.name)
                for _ in range(getattr(entry, "repeat", 1)):
                    path = (section,) if count == 1 else (section, index)
                    if getattr(entry, "module_free", False):
                        path = ()  # written into forward: no module, no place in the section's container
                    if isinstance(entry, BlockUse):
                        result = self._use(entry, path, inputs, {}, doc, where, (), section, index)
                    else:
                        result = self._node(entry.name, path, entry, inputs, doc, where, section, index)
                    if result is None:
                        break  # reported; the rest is still checked, reading the last layer that worked
                    self.graph.entries.append((section, index, result))
                    prev = result.output if isinstance(result, Instance) else result.name
                    inputs = (prev,)
                    index += 0 if path == () else 1
                scope[entry.name] = prev
        self.graph.output = prev
        if not self.graph.broken:
            self._check_used()
        return self.graph

    def _inputs(self, entry, scope: dict, prev: str, later: set, doc: tuple, where: str) -> tuple[str, ...] | None:
        if entry.inputs is None:
            return (prev,)
        found = []
        for name in entry.inputs:
            if name in scope:
                found.append(scope[name])
            elif name in later:
                self.problem((*doc, "from"), f"{where}: input {name!r} is defined later: a layer reads only layers "
                                             "above it (so a spec cannot write a cycle)")
            else:
                self.problem((*doc, "from"), f"{where}: unknown input {name!r}{suggest(name, list(scope))}")
        return tuple(found) if len(found) == len(entry.inputs) else None

    def _node(self, name, path, layer: Layer, inputs, doc, where, section, index) -> Node | None:
        if inputs is None:
            return None
        low, high = layer.arity
        if not (low <= len(inputs) and (high is None or len(inputs) <= high)):
            wanted = f"{low}" if low == high else f"at least {low}"
            self.problem((*doc, "from"), f"{where}: {layer.kind} reads {wanted} input{'s' if low > 1 else ''}, "
                                         f"got {len(inputs)}")
            return None
        node = Node(name, path, layer, inputs, section, index, where, doc)
        self.graph.nodes.append(node)
        return node

    def _use(self, use: BlockUse, path, inputs, outer: dict, doc, where, stack, section, index) -> Instance | None:
        if inputs is None:
            return None
        block = self.spec.blocks.get(use.block)
        if block is None:
            self.problem((*doc, "block"), f"{where}: unknown block {use.block!r}{suggest(use.block, list(self.spec.blocks))}")
            return None
        if use.block in stack:
            self.problem((*doc, "block"), f"{where}: block {use.block!r} uses itself ({' -> '.join([*stack, use.block])})")
            return None
        if len(inputs) != 1:
            self.problem((*doc, "from"), f"{where}: a block reads one input, got {len(inputs)}")
            return None
        args = self._args(use, block, outer, doc, where)
        if args is None:
            return None
        local = {INPUT: inputs[0]}
        prev, children, position, failed = inputs[0], [], 0, False
        ahead = {raw.get("name") for raw in block.layers if isinstance(raw, dict) and isinstance(raw.get("name"), str)}
        for j, raw in enumerate(block.layers):
            ldoc = ("blocks", use.block, "layers", j)
            data = self._fill(raw, args, ldoc, use.block)
            child = self._validate(data, ldoc, use.block, path) if data is not None else None
            if child is None:
                failed = True
                continue
            cwhere = f"layer {path_name((*path, child.name))!r} (block {use.block!r})"
            ahead.discard(child.name)
            local.setdefault(child.name, prev)  # read by later layers even if it fails below: one problem, not a cascade
            if block.style == "sequential" and (child.inputs is not None or child.when is not None
                                                or getattr(child, "repeat", 1) > 1):
                self.problem(ldoc, f"{cwhere}: a sequential block is a chain: from:, when: and repeat: do not apply")
                failed = True
                continue
            if child.when is not None and getattr(child, "module_free", False):
                self.problem((*ldoc, "when"), f"{cwhere}: when: does not apply to {child.kind} (it has no module "
                                              "to leave out)")
                failed = True
                continue
            # Names resolve inside the block's definition, the same for every use: said once, of the definition.
            cinputs = self._inputs(child, local, prev, ahead, ldoc, f"layer {child.name!r} in block {use.block!r}")
            if child.when is not None and not args.get(child.when[1:]):
                local[child.name] = cinputs[0] if cinputs else prev  # left out: its input passes on
                prev = local[child.name]
                continue
            cpath = (*path, position) if block.style == "sequential" else (*path, child.name)
            if isinstance(child, BlockUse):
                result = None
                for r in range(child.repeat):
                    rpath = (*path, position + r) if block.style == "sequential" else \
                        (cpath if child.repeat == 1 else (*cpath, r))
                    result = self._use(child, rpath, cinputs if r == 0 else (result.output,), args,
                                       ldoc, cwhere, (*stack, use.block), section, index)
                    if result is None:
                        break
                    children.append((child.name, result))
                if result is None:
                    failed = True
                    continue
                position += child.repeat
                out = result.output
            else:
                if not child.in_blocks:  # reported by _check_blocks
                    self.graph.broken = failed = True
                    continue
                module_path = () if child.module_free else cpath  # add, concat: written into forward, no module
                node = self._node(path_name(cpath), module_path, child, cinputs, ldoc, cwhere, section, index)
                if node is None:
                    failed = True
                    continue
                children.append((child.name, node))
                position += 1
                out = node.name
            local[child.name] = prev = out
        if failed:
            return None
        output = local.get(block.output, prev) if block.output else prev
        instance = Instance(path, use.block, args, dict(use.args), inputs[0], output, tuple(children), doc)
        self.graph.instances.append(instance)
        return instance

    def _args(self, use: BlockUse, block, outer: dict, doc, where) -> dict | None:
        args, ok = {}, True  # every argument is checked before giving up
        for key, value in use.args.items():
            if key not in block.params:
                self.problem((*doc, "args", key), f"{where}: block {use.block!r} has no param {key!r}"
                                                  f"{suggest(key, list(block.params))}; params: {', '.join(block.params)}")
                ok = False
            elif isinstance(value, str):  # $name: the enclosing block's argument
                if value[1:] not in outer:
                    self.problem((*doc, "args", key), f"{where}: {value} is not an argument here")
                    ok = False
                args[key] = outer.get(value[1:])
            else:
                args[key] = value
        for key, default in block.params.items():
            if key not in args:
                if default is None:
                    self.problem(doc, f"{where}: block {use.block!r} needs the argument {key!r}")
                    ok = False
                args[key] = default
        return args if ok else None

    def _fill(self, raw: Any, args: dict, doc: tuple, block: str) -> Any:
        """``raw`` with every ``$name`` replaced by its argument (None after reporting an unknown one)."""
        if isinstance(raw, str) and raw.startswith("$") and raw[1:].isidentifier():
            if raw[1:] not in args:  # reported with the block's definition (_check_blocks)
                self.graph.broken = True
                return None
            return args[raw[1:]]
        if isinstance(raw, dict):
            out = {}
            for key, value in raw.items():
                if key in ("when", "args"):  # resolved where they are used
                    out[key] = value
                    continue
                filled = self._fill(value, args, (*doc, key), block)
                if filled is None and value is not None:
                    return None
                out[key] = filled
            return out
        if isinstance(raw, list):
            filled = [self._fill(v, args, (*doc, i), block) for i, v in enumerate(raw)]
            return None if any(f is None and v is not None for f, v in zip(filled, raw, strict=True)) else filled
        return raw

    def _validate(self, data: dict, doc: tuple, block: str, path: tuple):
        where = f"block {block!r}, used as {path_name(path)}: "
        try:
            if isinstance(data, dict) and "block" in data:
                return BlockUse.model_validate(data)
            return _LAYER.validate_python(data)
        except ValidationError as exc:
            for problem in problems_at(exc, self.spec._source, doc, where):
                if (problem.line, problem.col, problem.message.split(": ", 1)[-1]) not in self.seen:
                    self.seen.add((problem.line, problem.col, problem.message.split(": ", 1)[-1]))
                    self.graph.problems.append(problem)
            return None

    def _check_blocks(self) -> None:
        """Rules of a block's definition, whether or not it is used: names, params used, its output."""
        for name, block in self.spec.blocks.items():
            names, text = set(), repr(block.layers)
            for j, raw in enumerate(block.layers):
                doc = ("blocks", name, "layers", j)
                layer_name = raw.get("name") if isinstance(raw, dict) else None
                if isinstance(layer_name, str):
                    if layer_name in names:
                        self.problem((*doc, "name"), f"block {name!r} layer {layer_name!r}: duplicate layer name")
                    if keyword.iskeyword(layer_name) or layer_name in RESERVED_SECTIONS or layer_name == INPUT \
                            or layer_name.startswith("_"):
                        self.problem((*doc, "name"), f"block {name!r} layer {layer_name!r}: not a possible name in a "
                                                     "block (it becomes a module attribute)")
                    names.add(layer_name)
            for j, raw in enumerate(block.layers):
                label = raw.get("name") if isinstance(raw, dict) else None
                where = f"block {name!r} layer {label if label is not None else j!r}"
                for doc, value in _references(raw, ("blocks", name, "layers", j)):
                    if value[1:] not in block.params:
                        self.problem(doc, f"{where}: {value} is not one of the block's params "
                                          f"({', '.join(block.params) or 'none'})")
                kind = KINDS.get(raw.get("kind")) if isinstance(raw, dict) and isinstance(raw.get("kind"), str) else None
                if kind is not None and not kind.in_blocks:
                    self.problem(("blocks", name, "layers", j, "kind"), f"{where}: {raw['kind']} cannot be used in "
                                                                        "a block")
            for param in block.params:
                if keyword.iskeyword(param) or param in ("self", "in_channels", "x", "nn", "torch") \
                        or param.startswith("_"):
                    self.problem(("blocks", name, "params", param), f"block {name!r}: {param!r} cannot name a param "
                                                                    "(it becomes an argument of the generated class)")
                if f"'${param}'" not in text:
                    self.problem(("blocks", name, "params", param), f"block {name!r}: param {param!r} is never used "
                                                                    f"(write ${param} where its value goes)")
            if block.output is not None and block.output not in names:
                self.problem(("blocks", name, "output"), f"block {name!r}: output {block.output!r} is not one of "
                                                         f"its layers{suggest(block.output, sorted(names))}")

    def _check_used(self) -> None:
        """Every layer's output is read by another or is the network's output (a dangling branch is a mistake)."""
        read = {i for node in self.graph.nodes for i in node.inputs} | {self.graph.output}
        read |= {inst.input for inst in self.graph.instances}
        for node in self.graph.nodes:
            if node.name not in read:
                self.problem(node.doc, f"{node.where}: its output is never used (read it with from:, or remove it)",
                             breaks=False)


def _references(node: Any, doc: tuple):
    """(document path, "$name") of every argument written in a block's layers."""
    if isinstance(node, str) and node.startswith("$"):
        yield doc, node
    elif isinstance(node, dict):
        for key, value in node.items():
            yield from _references(value, (*doc, key))
    elif isinstance(node, list):
        for i, value in enumerate(node):
            yield from _references(value, (*doc, i))
