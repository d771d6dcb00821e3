"""The code of blocks: one nn.Module class per block, written once for all its uses, in torchvision's style.

A class body cannot hold one use's numbers, so each layer is rendered with its ``$arguments`` as symbols
(:class:`Sym`): ``nn.Conv2d(in_channels, width, kernel_size=1, stride=stride, bias=False)``. Channel counts
flow through the block as code too (``in_channels``, ``width``, ``(a + b)`` after a concat).
"""

from __future__ import annotations

import keyword
from dataclasses import dataclass
from typing import Any

from .graph import INPUT, Instance
from .kinds import Layer
from .spec import Block, BlockUse, Spec

_PYTHON_NAMES = {"x", "self", "torch", "nn", "in_channels"}


class SymbolError(Exception):
    """A block argument used where the generated code must decide at generation time (``bias: $flag``)."""

    def __init__(self, block: str, index: int, message: str):
        super().__init__(message)
        self.block, self.index = block, index


class Sym:
    """A value known only as code (a block argument): prints as its code, equals only itself."""

    def __init__(self, code: str):
        self.code = code

    def __repr__(self) -> str:
        return self.code

    __str__ = __repr__

    def __format__(self, spec: str) -> str:
        return self.code

    def __eq__(self, other: object) -> bool:
        return other is self

    def __ne__(self, other: object) -> bool:
        return other is not self

    def __hash__(self) -> int:
        return id(self)

    def __bool__(self) -> bool:
        raise TypeError(f"{self.code} would decide the generated code")


def class_name(block: str) -> str:
    return "".join(part.capitalize() for part in block.split("_")) or "Block"


def variable(name: str) -> str:
    """A node's name as a Python variable: ``input`` is ``x``, a block's path ``layer1.0.relu2`` is
    ``layer1_0_relu2``, and names Python or the generated code already use get a trailing ``_``."""
    if name == INPUT:
        return "x"
    name = name.replace(".", "_")
    return f"{name}_" if keyword.iskeyword(name) or name in _PYTHON_NAMES else name


@dataclass
class BlockCode:
    name: str
    class_name: str
    signature: str
    init: list[str]
    forward: list[str]


class BlockWriter:
    """Writes the classes of a spec's blocks and the constructor calls of their uses."""

    def __init__(self, spec: Spec, instances: list[Instance]):
        self.spec = spec
        self.example = {}  # block -> the args of one use: real values, to validate its layers with
        for instance in instances:
            self.example.setdefault(instance.block, instance.args)

    # --- calls -----------------------------------------------------------------------------------------------
    def call(self, block: str, in_code: str, args: dict[str, str], given: list[str]) -> str:
        """The expression building one use: ``Bottleneck(64, width=64, ...)`` or an inline nn.Sequential."""
        definition = self.spec.blocks[block]
        if definition.style == "sequential":
            symbols = {p: Sym(code) for p, code in args.items()}
            parts, channels = [], in_code
            for index, raw in enumerate(definition.layers):
                expr, channels = self._child_expr(block, index, raw, channels, symbols)
                parts.append(expr)
            return "nn.Sequential(" + ", ".join(parts) + ")"
        keywords = "".join(f", {key}={args[key]}" for key in given)
        return f"{class_name(block)}({in_code}{keywords})"

    def channels(self, block: str, in_code: str, args: dict[str, str]) -> str:
        """The channel count a use outputs, as code."""
        definition = self.spec.blocks[block]
        symbols = {p: Sym(code) for p, code in args.items()}
        local, prev = {INPUT: in_code}, in_code
        for index, raw in enumerate(definition.layers):
            child = self._symbolic(block, index, raw, symbols)
            reads = [local[n] for n in child.inputs] if child.inputs else [prev]
            if isinstance(child, BlockUse) and child.block not in self.example:
                out = reads[0]  # a block only ever left out (when: false in every use): never built
            elif isinstance(child, BlockUse):
                out = reads[0]
                for _ in range(child.repeat):
                    out = self.channels(child.block, out, self._arg_codes(child, symbols))
            else:
                out = child.channels_expr(reads)
            if child.when:  # left out when the flag is false: its input passes on
                out = f"({out} if {symbols[child.when[1:]]!r} else {reads[0]})"
            local[child.name] = prev = out
        return local[definition.output] if definition.output else prev

    # --- classes ---------------------------------------------------------------------------------------------
    def classes(self) -> list[BlockCode]:
        used = [b for b in self.spec.blocks if b in self.example and self.spec.blocks[b].style == "module"]
        return [self._class(b) for b in _dependencies_first(self.spec, used)]

    def _class(self, block: str) -> BlockCode:
        definition: Block = self.spec.blocks[block]
        symbols = {p: Sym(variable(p)) for p in definition.params}
        required = [p for p, default in definition.params.items() if default is None]
        optional = [(p, default) for p, default in definition.params.items() if default is not None]
        example = self.example[block]
        signature = "".join(f", {variable(p)}: {_annotation(example[p])}" for p in required) + "".join(
            f", {variable(p)}: {_annotation(default)} = {_literal(default)}" for p, default in optional)
        init, forward = [], []
        local, prev = {INPUT: "in_channels"}, INPUT
        names = {INPUT: INPUT}
        for index, raw in enumerate(definition.layers):
            child = self._symbolic(block, index, raw, symbols)
            reads = list(child.inputs) if child.inputs else [prev]
            expr, channels = self._child_expr(block, index, raw, local[reads[0]], symbols,
                                              [local[r] for r in reads])
            args = [variable(names[r]) for r in reads]
            target = variable(child.name)
            attribute = f"self.{child.name}"
            if isinstance(child, Layer) and child.module_free:
                call = child.torch_call(attribute, args)
            else:
                condition = f" if {variable(child.when[1:])} else None" if child.when else ""
                init.append(f"{attribute} = {wrap(expr, 8)}{condition}")
                call = child.torch_call(attribute, args) if isinstance(child, Layer) else f"{attribute}({args[0]})"
                if child.when:
                    call = f"{call} if {attribute} is not None else {args[0]}"
            forward.append(f"{target} = {call}")
            if child.when:
                channels = f"({channels} if {variable(child.when[1:])} else {local[reads[0]]})"
            local[child.name], names[child.name], prev = channels, child.name, child.name
        output = definition.output or prev
        forward.append(f"return {variable(output)}")
        return BlockCode(block, class_name(block), signature, init, forward)

    # --- one child ---------------------------------------------------------------------------------------------
    def _child_expr(self, block: str, index: int, raw: dict, in_code: str, symbols: dict,
                    reads: list[str] | None = None) -> tuple[str, str]:
        """(constructor expression, output channels code) of one layer or block use of ``block``."""
        child = self._symbolic(block, index, raw, symbols)
        reads = reads or [in_code]
        if isinstance(child, BlockUse) and child.block not in self.example:
            return "None", in_code  # only ever left out (when: false in every use): never built
        if isinstance(child, BlockUse):
            args = self._arg_codes(child, symbols)
            out = self.channels(child.block, in_code, args)
            given = list(child.args)
            if child.repeat == 1:
                return self.call(child.block, in_code, args, given), out
            calls, channels = [], in_code
            for _ in range(child.repeat):
                calls.append(self.call(child.block, channels, args, given))
                channels = self.channels(child.block, channels, args)
            return "nn.Sequential(" + ", ".join(calls) + ")", channels
        if child.module_free:
            return "", child.channels_expr(reads)
        try:
            expr = child.torch_module(self._shape_hint(child), in_code, None)
        except TypeError as exc:
            raise SymbolError(block, index, f"block {block!r} layer {child.name!r}: {exc}; give it a fixed value") from None
        return expr, child.channels_expr(reads)

    def _arg_codes(self, use: BlockUse, symbols: dict) -> dict[str, str]:
        definition = self.spec.blocks[use.block]
        codes = {}
        for param, default in definition.params.items():
            value = use.args.get(param, default)
            codes[param] = repr(symbols[value[1:]]) if isinstance(value, str) else _literal(value)
        return codes

    def _symbolic(self, block: str, index: int, raw: dict, symbols: dict):
        """The child validated with one use's real values, then with each ``$argument`` put back as a symbol."""
        from .graph import _LAYER  # one validator for layers, shared with the expansion

        example = self.example.get(block) or {p: d for p, d in self.spec.blocks[block].params.items()}
        data = _fill(raw, example)
        child = BlockUse.model_validate(data) if "block" in raw else _LAYER.validate_python(data)
        if isinstance(child, BlockUse):
            return child
        update = {}
        for key, value in raw.items():
            if key in ("name", "kind", "from", "when", "display"):
                continue
            field = _field_name(child, key)
            if isinstance(value, str) and value.startswith("$"):
                symbol = symbols[value[1:]]
                update[field] = (symbol, symbol) if isinstance(getattr(child, field), tuple) else symbol
            elif isinstance(value, list) and any(isinstance(v, str) and v.startswith("$") for v in value):
                update[field] = tuple(symbols[v[1:]] if isinstance(v, str) else v for v in value)
        return child.model_copy(update=update) if update else child

    def _shape_hint(self, child: Layer) -> tuple:
        # Only the rank matters to a constructor (BatchNorm2d or 1d): blocks hold feature maps.
        return (0, 1, 1)


def _field_name(layer: Layer, key: str) -> str:
    return next((name for name, info in type(layer).model_fields.items() if (info.alias or name) == key), key)


def _fill(raw: Any, args: dict) -> Any:
    if isinstance(raw, str) and raw.startswith("$"):
        return args.get(raw[1:], raw)
    if isinstance(raw, dict):
        return {k: (v if k in ("when", "args") else _fill(v, args)) for k, v in raw.items()}
    if isinstance(raw, list):
        return [_fill(v, args) for v in raw]
    return raw


def wrap(expr: str, indent: int, width: int = 100) -> str:
    """A long ``nn.Sequential(a, b)`` written one module per line (the template indents the first line)."""
    if len(expr) + indent <= width or not expr.startswith("nn.Sequential(") or not expr.endswith(")"):
        return expr
    parts, depth, start, inner = [], 0, 0, expr[len("nn.Sequential("):-1]
    for i, char in enumerate(inner):
        depth += char in "([{"
        depth -= char in ")]}"
        if char == "," and depth == 0:
            parts.append(inner[start:i].strip())
            start = i + 1
    parts.append(inner[start:].strip())
    pad = " " * (indent + 4)
    return "nn.Sequential(\n" + "".join(f"{pad}{wrap(part, indent + 4)},\n" for part in parts) + " " * indent + ")"


def _annotation(value: Any) -> str:
    return {bool: "bool", int: "int", list: "tuple[int, ...]"}.get(type(value), "object")


def _literal(value: Any) -> str:
    return repr(tuple(value)) if isinstance(value, list) else repr(value)


def _dependencies_first(spec: Spec, blocks: list[str]) -> list[str]:
    """Blocks ordered so that a class is defined before a class that uses it."""
    order: list[str] = []

    def visit(name: str) -> None:
        if name in order:
            return
        for raw in spec.blocks[name].layers:
            if isinstance(raw, dict) and raw.get("block") in spec.blocks:
                visit(raw["block"])
        order.append(name)

    for name in blocks:
        visit(name)
    return [b for b in order if spec.blocks[b].style == "module" and b in blocks]
