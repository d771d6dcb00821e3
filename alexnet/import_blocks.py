"""The sections and blocks of a traced module (``python -m alexnet import``), as YAML-ready dicts.

The model's children become sections, as the generator writes them back: an ``nn.Sequential`` is a section
of its layers, any other child a one-entry section. Every call of a module that is not a layer (a residual
block, an Inception module, an ``nn.Sequential`` inside a block) becomes a use of a block, named after the
attribute that holds it, so the generated model's state_dict keys are the original's (``layer1.0.conv1``).

Calls with the same structure (module class, entries, kinds, wiring and the settings that are not integers)
share one block. The integers that differ between its uses (channels, kernel sizes, strides) become params,
one per distinct series of values, so a use passes only what makes it differ; the rest is written once in
the block.
"""

from __future__ import annotations

import keyword
import re
from collections import Counter
from dataclasses import dataclass, field

from torch import fx

from .codegen_blocks import Sym, class_name
from .importer import Call, Op, kind_name
from .kinds import KINDS, Layer
from .yaml_out import compact, layer_entry

INPUT = "input"
_NOT_PARAMS = {"self", "in_channels", "x", "nn", "torch", INPUT}  # names the generated block class uses itself


@dataclass(eq=False)
class Entry:
    """One layer or block use in a section or a block: its name there, what it reads, what it returns."""

    name: str
    reads: tuple[fx.Node, ...]
    output: fx.Node
    layer: Layer | None = None
    use: Use | None = None


@dataclass(eq=False)
class Use:
    """One call of a composite module: the block use it becomes."""

    call: Call
    label: str                 # the name it has where it is used (names a chain's block)
    entries: list[Entry]
    output: str | None         # the entry whose value the block returns, when not the last
    signature: tuple = ()
    slots: list[int] | None = None  # where its entries sit in its block's template, when it leaves some out
    block: str = ""            # set by Blocks.resolve
    args: dict = field(default_factory=dict)  # every param's value in this use


def fresh(base: str, taken: set[str]) -> str:
    """``base``, or ``base_2``, ``base_3``... whichever is not taken yet (and take it)."""
    name, n = base, 1
    while name in taken:
        n += 1
        name = f"{base}_{n}"
    taken.add(name)
    return name


def snake(name: str) -> str:
    """``BasicConv2d`` -> ``basic_conv2d``: a class name as a block or layer name."""
    text = re.sub(r"(?<=[a-z0-9])(?=[A-Z])", "_", name).lower()
    text = re.sub(r"[^a-z0-9_]", "_", text).strip("_")
    return text if re.fullmatch(r"[a-z][a-z0-9_]*", text) else f"block_{text}".rstrip("_")


def _is_param_value(value) -> bool:
    """Integers and lists of them can be a block's params; other values (floats, flags, text) decide the code
    or the spec's format cannot pass them, so a difference in them makes another block."""
    if isinstance(value, list):
        return bool(value) and all(_is_param_value(v) for v in value)
    return isinstance(value, int) and not isinstance(value, bool)


def _hashable(value):
    return tuple(_hashable(v) for v in value) if isinstance(value, list | tuple) else value


def layer_values(layer: Layer) -> dict:
    """Every setting of a layer (defaults included), in the spec's compact spelling."""
    dumped = layer.model_dump(exclude={"name", "kind", "display", "inputs", "when"})
    return {key: compact(value) for key, value in dumped.items()}


def free_values(layer: Layer) -> dict:
    """The settings a block may take as params: integers the generated class can pass on as an argument."""
    return {key: value for key, value in layer_values(layer).items()
            if _is_param_value(value) and _takes_symbol(layer, key)}


def _takes_symbol(layer: Layer, key: str) -> bool:
    """Whether the kind's constructor code can hold an argument in ``key`` (a zero padding's four sides, say,
    cannot be one symbol), tried the way the generator writes a block's class."""
    symbol = Sym(key)
    current = getattr(layer, key)
    value = (symbol, symbol) if isinstance(current, tuple) and len(current) == 2 else symbol
    try:
        return key in layer.model_copy(update={key: value}).torch_module((0, 1, 1), "in_channels", None)
    except (TypeError, ValueError):
        return False


class Blocks:
    """Collects every use, groups them by structure and turns each group into one block definition."""

    def __init__(self, reserved_classes: set[str]):
        self.groups: dict[tuple, list[Use]] = {}
        self.definitions: dict[str, dict] = {}
        self.comments: dict[str, str] = {}
        self.params: dict[str, dict] = {}  # block -> {param: default or None}
        self.classes = set(reserved_classes)
        self.home: dict[tuple, tuple] = {}  # a merged group's signature -> the one its uses joined
        self.done: set[tuple] = set()

    # --- building uses --------------------------------------------------------------------------------------
    def use(self, call: Call, label: str) -> Use:
        chain = call.is_chain
        taken = {INPUT} | (set() if chain else {name for name, _ in call.module.named_children()})
        seen: set[str] = set()
        entries = []
        for item in call.items:
            if isinstance(item, Call):
                attr = item.path.rpartition(".")[2]
                name = fresh(snake(type(item.module).__name__), taken) if chain else attr
                entries.append(Entry(name, (item.input,), item.output, use=self.use(item, name)))
            else:
                entries.append(Entry(self._op_name(item, chain, taken, seen), item.inputs, item.node, layer=item.layer))
        last = entries[-1].output
        output = next(e.name for e in entries if e.output is call.output) if call.output is not last else None
        use = Use(call, label, entries, output)
        use.signature = self._signature(use)
        self.groups.setdefault(use.signature, []).append(use)
        return use

    @staticmethod
    def _op_name(op: Op, chain: bool, taken: set[str], seen: set[str]) -> str:
        """In a module's block a layer keeps its attribute name; a second call of a module without weights
        (torchvision's one ReLU, called twice) and a function get a new one (relu_2, add)."""
        attr = op.path.rpartition(".")[2]
        if op.module is not None and not chain and attr not in seen:
            seen.add(attr)
            return attr
        return fresh(attr if op.module is not None and not chain else kind_name(type(op.layer)), taken)

    def _signature(self, use: Use) -> tuple:
        names = local_names(use)
        parts = []
        for entry in use.entries:
            reads = tuple(names[r] for r in entry.reads)
            if entry.use is not None:
                parts.append(("use", entry.name, entry.use.signature, reads))
            else:
                free = free_values(entry.layer)
                fixed = tuple((k, _hashable(v)) for k, v in layer_values(entry.layer).items() if k not in free)
                parts.append(("layer", entry.name, entry.layer.kind, fixed, reads))
        kind = None if use.call.is_chain else f"{type(use.call.module).__module__}.{type(use.call.module).__qualname__}"
        return (kind, tuple(parts), use.output)

    # --- one definition per group ----------------------------------------------------------------------------
    def merge_optional(self) -> None:
        """Uses of one class whose structures differ only by entries left out (torchvision's BasicBlock with
        and without its downsample) share the block of the fullest one; such an entry gets ``when: $flag``."""
        by_class: dict[str, list[tuple]] = {}
        for signature in self.groups:
            if signature[0] is not None:  # chains (nn.Sequential) have no optional parts
                by_class.setdefault(signature[0], []).append(signature)
        for signatures in by_class.values():
            full = max(signatures, key=lambda sig: len(sig[1]))
            for signature in signatures:
                slots = _slots(full, signature) if signature is not full else None
                if slots is not None:
                    for use in self.groups.pop(signature):
                        use.slots = slots
                        self.groups[full].append(use)
                    self.home[signature] = full

    def resolve(self) -> None:
        """Name each group's block and decide its params, inner blocks first (their uses' args are the outer
        block's values)."""
        for signature in list(self.groups):
            self._resolve(signature)

    def _resolve(self, signature: tuple) -> None:
        if signature in self.done:
            return
        self.done.add(signature)
        uses = self.groups[signature]
        for entry in (e for use in uses for e in use.entries if e.use is not None):
            self._resolve(self.home.get(entry.use.signature, entry.use.signature))
        template, values = uses[0], [_entry_values(use) for use in uses]
        series = _series(values)
        names = _param_names(template, [keys for keys, _ in series])
        param_of = {key: name for name, (keys, _) in zip(names, series, strict=True) for key in keys}
        params = {name: _default(vector, len(uses)) for name, (_, vector) in zip(names, series, strict=True)}
        flags = self._flags(template, uses, set(names))
        params.update({name: _default(vector, len(uses)) for name, vector in flags.values()})
        block = self._name(template)
        for i, use in enumerate(uses):
            use.block = block
            use.args = {name: vector[i] if vector[i] is not _ABSENT else params[name]
                        for name, (_, vector) in zip(names, series, strict=True)}
            use.args.update({name: vector[i] for name, vector in flags.values()})
        self.params[block] = params
        definition: dict = {"style": "sequential"} if template.call.is_chain else {}
        if params:
            definition["params"] = params
        definition["layers"] = entry_dicts(template, param_of, self.params, {i: n for i, (n, _) in flags.items()})
        if template.output:
            definition["output"] = template.output
        self.definitions[block] = definition
        module = type(template.call.module)
        self.comments[block] = f"{module.__module__}.{module.__qualname__}" if not template.call.is_chain else \
            f"an nn.Sequential, like {template.call.path}"

    @staticmethod
    def _flags(template: Use, uses: list[Use], taken: set[str]) -> dict[int, tuple[str, tuple]]:
        """entry index -> (flag param, whether each use has the entry), for the entries some uses leave out."""
        flags = {}
        for i, entry in enumerate(template.entries):
            present = tuple(use.slots is None or i in use.slots for use in uses)
            if not all(present):
                flags[i] = (fresh(entry.name, taken | set(_NOT_PARAMS)), present)
                taken.add(flags[i][0])
        return flags

    def _name(self, template: Use) -> str:
        base = template.label if template.call.is_chain else snake(type(template.call.module).__name__)
        n, name = 1, base
        while name in self.definitions or class_name(name) in self.classes:
            n += 1
            name = f"{base}_{n}"
        self.classes.add(class_name(name))
        return name


def _entry_values(use: Use) -> dict[tuple[int, str], object]:
    """The integers a use's entries hold: a layer's settings, an inner use's args (keyed by the entry's index
    in the block's template)."""
    values = {}
    for i, entry in enumerate(use.entries):
        slot = use.slots[i] if use.slots is not None else i
        items = entry.use.args.items() if entry.use is not None else free_values(entry.layer).items()
        values.update({(slot, key): value for key, value in items if _is_param_value(value)})
    return values


_ABSENT = object()  # a value of an entry this use leaves out


def _series(values: list[dict]) -> list[tuple[list, tuple]]:
    """(keys, values across the uses) of each param: keys whose values differ between uses, one param for
    keys that agree everywhere. An entry some uses leave out takes the param of keys it agrees with where
    it is present, else a param of its own."""
    series: dict[tuple, list] = {}
    partial = []
    for key in values[0]:  # the template has every entry
        vector = tuple(_hashable(v[key]) if key in v else _ABSENT for v in values)
        present = {x for x in vector if x is not _ABSENT}
        if len(present) > 1 and _ABSENT not in vector:
            series.setdefault(vector, []).append(key)
        elif len(present) > 1:
            partial.append((key, vector))
    for key, vector in partial:
        match = next((full for full in series if all(x is _ABSENT or x == y for x, y in zip(vector, full, strict=True))),
                     vector)
        series.setdefault(match, []).append(key)
    return [(keys, tuple(v.get(keys[0], _ABSENT) for v in values)) for keys in series.values()]


def _default(vector: tuple, uses: int):
    """The value most uses have, if more than half have it (a use then leaves it out); a param only some
    uses need (their entry is optional) always has one."""
    present = [v for v in vector if v is not _ABSENT]
    value, count = Counter(_hashable(v) for v in present).most_common(1)[0]
    if count * 2 > uses or len(present) < len(vector):
        return present[[_hashable(v) for v in present].index(value)]
    return None


def _slots(full: tuple, part: tuple) -> list[int] | None:
    """Where each entry of the structure ``part`` sits in ``full``, if ``part`` is ``full`` with some entries
    left out, each reading one tensor that passes on in its place (what ``when:`` does); else None."""
    alias, slots, j = {INPUT: INPUT}, [], 0
    for i, entry in enumerate(full[1]):
        other = part[1][j] if j < len(part[1]) else None
        reads = tuple(alias[r] for r in entry[-1])
        if other is not None and entry[:-1] == other[:-1] and reads == other[-1]:
            alias[entry[1]], j = entry[1], j + 1
            slots.append(i)
        elif len(entry[-1]) == 1 and (entry[0] == "use" or not KINDS[entry[2]].module_free):
            alias[entry[1]] = reads[0]
        else:
            return None
    full_out = alias[full[2] or full[1][-1][1]]
    return slots if j == len(part[1]) and full_out == (part[2] or part[1][-1][1]) else None


def _param_names(template: Use, groups: list[list[tuple[int, str]]]) -> list[str]:
    """A param is named after the setting it fills (out_channels); when several params fill settings of one
    name, after its first entry too (conv1_out_channels, conv3_out_channels), or in a chain, whose entry
    names are made up, after its position (out_channels_0, out_channels_1)."""
    firsts = [keys[0] for keys in groups]
    counts = Counter(key for _, key in firsts)
    names, taken = [], set(_NOT_PARAMS)
    for index, key in firsts:
        base = key if counts[key] == 1 else \
            f"{key}_{index}" if template.call.is_chain else f"{template.entries[index].name}_{key}"
        if keyword.iskeyword(base) or base.startswith("_"):
            base = f"p_{base.lstrip('_')}"
        names.append(fresh(base, taken))
    return names


def local_names(use: Use) -> dict[fx.Node, str]:
    """The name each tensor has inside a block: ``input`` for what the block reads, else its entry's."""
    return {use.call.input: INPUT, **{entry.output: entry.name for entry in use.entries}}


def entry_dicts(use: Use, param_of: dict, block_params: dict[str, dict], flags: dict[int, str]) -> list[dict]:
    """A block's layers, with ``$param`` where its uses differ, ``from:`` where an entry does not read the
    one before and ``when: $flag`` on an entry some uses leave out."""
    names, previous, out = local_names(use), INPUT, []
    for i, entry in enumerate(use.entries):
        params = {key: f"${name}" for (index, key), name in param_of.items() if index == i}
        data = entry_dict(entry, tuple(names[r] for r in entry.reads), previous, params, block_params)
        out.append({**data, "when": f"${flags[i]}"} if i in flags else data)
        previous = entry.name
    return out


def entry_dict(entry: Entry, reads: tuple[str, ...], previous: str, params: dict, block_params: dict) -> dict:
    """One entry as the spec writes it: literal values left at their default are left out."""
    if entry.use is not None:
        defaults = block_params[entry.use.block]
        args = {key: params.get(key, value) for key, value in entry.use.args.items()
                if key in params or value != defaults.get(key)}
        data = {"name": entry.name, "block": entry.use.block, **({"args": args} if args else {})}
    else:
        literal = layer_entry(entry.layer)
        data = {"name": entry.name, "kind": entry.layer.kind}
        data.update({key: params.get(key, literal.get(key)) for key in layer_values(entry.layer)
                     if key in params or key in literal})
    if reads != (previous,):
        data["from"] = reads[0] if len(reads) == 1 else list(reads)
    return data


# --- the model's own children: sections ------------------------------------------------------------------------
def sections(root: Call, blocks: Blocks) -> dict[str, list[Entry]]:
    """Each item the model's forward runs, as a section: a child's attribute name, or a function's kind."""
    taken_sections = {name for name, _ in root.module.named_children()}
    taken_names: set[str] = {INPUT}
    counts: Counter = Counter()
    out: dict[str, list[Entry]] = {}
    for item in root.items:
        if isinstance(item, Op):
            entry = Entry(_numbered(item.layer.kind, counts, taken_names), item.inputs, item.node, layer=item.layer)
            if item.layer.module_free and out:  # a merge has no module: it joins the section before it
                out[next(reversed(out))].append(entry)
                continue
            section = item.path if item.module is not None else fresh(item.layer.kind, taken_sections)
            out[_unused(section, out, taken_sections)] = [entry]
        elif item.is_chain and len(item.items) > 1:
            section = _unused(item.path, out, taken_sections)
            out[section] = [_section_entry(child, i, section, blocks, counts, taken_names)
                            for i, child in enumerate(item.items)]
        else:  # a block, or an nn.Sequential of one module: a sequential block keeps its ".0" in the keys
            name = fresh(item.path, taken_names)
            out[_unused(item.path, out, taken_sections)] = [Entry(name, (item.input,), item.output,
                                                                  use=blocks.use(item, name))]
    return out


def _unused(section: str, out: dict, taken: set[str]) -> str:
    """A child called a second time (check_calls lets only modules without weights through, such as one
    pooling layer used after each convolution) becomes a section of its own: pool, then pool_2."""
    return fresh(section, taken) if section in out else section


def _section_entry(item, index: int, section: str, blocks: Blocks, counts: Counter, taken: set[str]) -> Entry:
    if isinstance(item, Call):
        name = fresh(f"{section}_{index}", taken)
        return Entry(name, (item.input,), item.output, use=blocks.use(item, name))
    return Entry(_numbered(item.layer.kind, counts, taken), item.inputs, item.node, layer=item.layer)


def _numbered(kind: str, counts: Counter, taken: set[str]) -> str:
    """conv1, conv2, relu1...: a top-level layer is named after its kind and how many came before."""
    while True:
        counts[kind] += 1
        if f"{kind}{counts[kind]}" not in taken:
            taken.add(f"{kind}{counts[kind]}")
            return f"{kind}{counts[kind]}"


def section_dicts(root: Call, entries: dict[str, list[Entry]], blocks: Blocks) -> dict[str, list[dict]]:
    """The sections as the spec writes them; a run of equal uses in a section becomes one use with repeat."""
    names = {root.input: INPUT, **{e.output: e.name for section in entries.values() for e in section}}
    previous, out = INPUT, {}
    for section, items in entries.items():
        written: list[dict] = []
        for entry in items:
            data = entry_dict(entry, tuple(names[r] for r in entry.reads), previous, {}, blocks.params)
            last = written[-1] if written else None
            if last and entry.use is not None and "from" not in data and last.get("block") == data["block"] \
                    and last.get("args") == data.get("args"):
                last["repeat"] = last.get("repeat", 1) + 1
                names[entry.output] = last["name"]
            else:
                written.append(data)
            previous = names[entry.output]
        out[section] = [_repeat_last(d) for d in written]
    return out


def _repeat_last(data: dict) -> dict:
    """``repeat`` after the block's name, before its args (as the bundled specs write it)."""
    if "repeat" not in data:
        return data
    order = ["name", "block", "repeat"]
    return {**{k: data[k] for k in order}, **{k: v for k, v in data.items() if k not in order}}

