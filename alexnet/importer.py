"""``python -m alexnet import MODULE:CALLABLE --input C,H,W``: the spec of a PyTorch module, through torch.fx.

The module is traced with ``torch.fx`` (every class a layer kind names in ``torch_classes`` stays one node).
Each node becomes an :class:`Op` (a layer of a kind; modules are read by the kinds' ``from_torch``), and the
module calls around it, which torch.fx records per node (``nn_module_stack``), nest the ops into a tree of
:class:`Call`. The model's children become the spec's sections; any other module that calls layers (a
residual block, an Inception module, an ``nn.Sequential`` inside one) becomes a use of a block
(:mod:`alexnet.import_blocks`), so the generated model has the original's state_dict keys and shapes.
What a spec cannot write (a product of two tensors, a module called twice with its weights, a block that
reads two tensors) is refused in one line naming the node.
"""

from __future__ import annotations

import contextlib
import importlib
import operator
import re
import sys
import typing
import warnings
from dataclasses import dataclass, field

import torch
import torch.nn.functional as F
from torch import fx, nn

from .formatting import fmt_chw
from .kinds import KINDS, Layer, ShapeError
from .kinds.base import NotExpressible
from .source import SpecError
from .spec import generated_module_names
from .validation import validate_text
from .yaml_out import spec_yaml


class ImportRefused(Exception):
    """The module cannot become a spec; the message is one line naming the module or operation."""


def kind_of_class() -> dict[type, type[Layer]]:
    """Each torch class a kind declares (``torch_classes``), resolved: the only place classes are imported."""
    table = {}
    for kind in dict.fromkeys(KINDS.values()):
        for dotted in kind.torch_classes:
            module, _, name = dotted.rpartition(".")
            table[getattr(importlib.import_module(module), name)] = kind
    return table


class _Tracer(fx.Tracer):
    """Keeps every module a kind maps as one node (torch.fx would otherwise trace into our own LRN)."""

    def __init__(self, leaves: dict[type, type[Layer]]) -> None:
        super().__init__()
        self.leaves = leaves

    def is_leaf_module(self, module: nn.Module, qualified_name: str) -> bool:
        return type(module) in self.leaves or super().is_leaf_module(module, qualified_name)


def load_module(target: str) -> nn.Module:
    """``MODULE:CALLABLE`` -> the module the callable returns (called without arguments), in eval mode."""
    module_path, sep, attr = target.partition(":")
    if not sep or not module_path or not re.fullmatch(r"[A-Za-z_]\w*(\.[A-Za-z_]\w*)*", attr):
        raise ImportRefused(f"{target}: expected MODULE:CALLABLE, e.g. torchvision.models:vgg16")
    try:
        obj = importlib.import_module(module_path)
    except Exception as exc:  # any error of the user's module is bad input, told in one line
        raise ImportRefused(f"{target}: cannot import {module_path}: {_first_line(exc)}") from None
    for part in attr.split("."):
        if not hasattr(obj, part):
            raise ImportRefused(f"{target}: {module_path} has no attribute {attr!r}")
        obj = getattr(obj, part)
    if not isinstance(obj, nn.Module):
        if not callable(obj):
            raise ImportRefused(f"{target}: {attr} is not callable ({type(obj).__name__}); expected a function or "
                                "class that returns a module")
        try:
            obj = obj()
        except Exception as exc:
            raise ImportRefused(f"{target}: calling {attr}() failed: {_first_line(exc)}") from None
    if not isinstance(obj, nn.Module):
        raise ImportRefused(f"{target}: {attr}() returned a {type(obj).__name__}, not a torch.nn.Module")
    return obj.eval()  # the inference graph: training-only branches (auxiliary heads) are not the network


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return f"{type(exc).__name__}: {text[0] if text else ''}".rstrip(": ")


def _where(node: fx.Node) -> str:
    stack = node.meta.get("nn_module_stack") or {}
    return f"in {next(reversed(stack.values()))[0]}" if stack else "in forward"


def _is_flatten(node: fx.Node) -> bool:
    """``torch.flatten(x, 1)`` (or ``x.flatten(1)``): all but the batch dimension, as the spec's flatten."""
    if not ((node.op == "call_function" and node.target is torch.flatten) or
            (node.op == "call_method" and node.target == "flatten")):
        return False
    args = dict(zip(("input", "start_dim", "end_dim"), node.args, strict=False)) | node.kwargs
    return args.get("start_dim", 0) == 1 and args.get("end_dim", -1) == -1


def _op_name(node: fx.Node) -> str:
    if node.op == "call_method":
        return f"Tensor.{node.target}"
    target = node.target
    module = getattr(target, "__module__", None) or ""
    return f"{module}.{getattr(target, '__name__', target)}".lstrip(".").replace("_operator.", "operator.")


def _class(module: nn.Module) -> str:
    cls = type(module)
    return f"{'torch.nn' if cls.__module__.startswith('torch.nn.') else cls.__module__}.{cls.__qualname__}"


def kind_name(kind: type[Layer]) -> str:
    return typing.get_args(kind.model_fields["kind"].annotation)[0]


# --- the traced graph as ops ---------------------------------------------------------------------------------
@dataclass(eq=False)
class Op:
    """One node of the traced graph that a spec writes as one layer."""

    node: fx.Node
    layer: Layer                  # its kind and values (named after its kind until the spec is written)
    inputs: tuple[fx.Node, ...]   # the tensors it reads, in order
    module: nn.Module | None      # the module it calls; None for a function (torch.flatten, +, torch.cat)
    path: str = ""                # the module's qualified name ("layer1.0.conv1")

    @property
    def label(self) -> str:
        return f"module {self.path}" if self.module is not None else f"the call {_op_name(self.node)} {_where(self.node)}"


@dataclass(eq=False)
class Call:
    """One call of a module that is not a layer (the model itself, a block, an nn.Sequential): its ops and
    inner calls in the order they ran, and the one tensor it reads and the one it returns."""

    path: str                     # qualified name; "" for the model
    module: nn.Module
    items: list = field(default_factory=list)  # Op | Call
    input: fx.Node | None = None
    output: fx.Node | None = None

    @property
    def is_chain(self) -> bool:
        """An nn.Sequential running its children in order (a subclass that keeps Sequential's forward too)."""
        return isinstance(self.module, nn.Sequential) and type(self.module).forward is nn.Sequential.forward

    def ops(self):
        for item in self.items:
            yield from item.ops() if isinstance(item, Call) else (item,)


_RELU = {torch.relu, torch.relu_, F.relu, F.relu_, torch.Tensor.relu, torch.Tensor.relu_}
_ADD = {operator.add, operator.iadd, torch.add, torch.Tensor.add, torch.Tensor.add_}
_CAT = {torch.cat, torch.concat, torch.concatenate}


def _function(node: fx.Node):
    """The callable a call_function or call_method node runs (a method as its torch.Tensor attribute)."""
    if node.op == "call_method":
        return getattr(torch.Tensor, str(node.target), None)
    return node.target


def _arg(node: fx.Node, index: int, name: str, default=None):
    return node.args[index] if len(node.args) > index else node.kwargs.get(name, default)


def _function_layer(node: fx.Node, target: str) -> tuple[str, dict, tuple]:
    """(kind, values, tensors read) of a functional call a spec writes as a layer; refused otherwise."""
    fn = _function(node)
    where = f"{_where(node)} ({_op_name(node)})"
    one = (node.args[0],) if node.args and node.all_input_nodes == [node.args[0]] else None  # reads one tensor
    if _is_flatten(node) and one:
        return "flatten", {}, one
    if fn in _RELU and one:
        inplace = fn in (torch.relu_, F.relu_, torch.Tensor.relu_) or bool(_arg(node, 1, "inplace", False))
        return "relu", {"inplace": inplace}, one
    if fn is F.adaptive_avg_pool2d and one:
        return "adaptive_avgpool", {"output_size": _arg(node, 1, "output_size")}, one
    if fn in _ADD:
        if not all(isinstance(a, fx.Node) for a in node.args[:2]):
            raise ImportRefused(f"{target}: the add {where} adds a constant; a spec's add sums layer outputs")
        if _arg(node, 2, "alpha", 1) != 1:
            raise ImportRefused(f"{target}: the add {where} scales its second input (alpha); a spec's add does not")
        return "add", {}, tuple(node.args[:2])
    if fn in _CAT:
        dim = _arg(node, 1, "dim", 0)
        if dim != 1:
            raise ImportRefused(f"{target}: the concatenation {where} joins dimension {dim}; a spec's concat "
                                "joins channels (dimension 1)")
        return "concat", {}, tuple(node.args[0])
    raise ImportRefused(f"{target}: the call {_op_name(node)} {_where(node)} is not a layer a spec can write "
                        "(modules of a layer kind, +, torch.cat(..., 1), relu, adaptive_avg_pool2d and "
                        "torch.flatten(x, 1) are)")


def _op(node: fx.Node, model: nn.Module, leaves: dict, target: str) -> Op:
    """The layer of one call_module, call_function or call_method node."""
    if node.op == "get_attr":
        raise ImportRefused(f"{target}: forward reads the tensor {node.target} {_where(node)} directly; a spec's "
                            "weights live in layers")
    module, path = None, ""
    if node.op == "call_module":
        path, module = str(node.target), model.get_submodule(str(node.target))
        if type(module) not in leaves:
            raise ImportRefused(f"{target}: module {path} ({_class(module)}) has no layer kind")
        kind, tensors = leaves[type(module)], tuple(node.all_input_nodes)
        if len(tensors) != 1 or node.args[0] is not tensors[0]:
            raise ImportRefused(f"{target}: module {path} is called on {len(tensors)} tensors; a layer reads one")
        try:
            values = kind.from_torch(module)
        except NotExpressible as exc:
            raise ImportRefused(f"{target}: module {path} ({_class(module)}): {str(exc).splitlines()[0]}") from None
    else:
        name, values, tensors = _function_layer(node, target)
        kind = KINDS[name]
    try:
        layer = kind.model_validate({"name": kind_name(kind), "kind": kind_name(kind), **values})
    except ValueError as exc:  # pydantic's ValidationError is a ValueError
        what = f"module {path} ({_class(module)})" if module is not None else f"the call {_op_name(node)} {_where(node)}"
        raise ImportRefused(f"{target}: {what}: {_first_line(exc)}") from None
    return Op(node, layer, tensors, module, path)


def trace(model: nn.Module, target: str) -> tuple[list[Op], fx.Graph]:
    """Every node of the traced module as an op, in the order forward runs them."""
    leaves = kind_of_class()
    try:
        graph = _Tracer(leaves).trace(model)
    except Exception as exc:
        raise ImportRefused(f"{target}: torch.fx cannot trace it: {_first_line(exc)}") from None
    inputs = [n for n in graph.nodes if n.op == "placeholder"]
    if len(inputs) != 1:
        raise ImportRefused(f"{target}: forward takes {len(inputs)} inputs; a spec has one")
    output = next(n for n in graph.nodes if n.op == "output")
    if not isinstance(output.args[0], fx.Node):
        raise ImportRefused(f"{target}: forward returns {type(output.args[0]).__name__}, not one tensor")
    ops = [_op(n, model, leaves, target) for n in graph.nodes if n.op not in ("placeholder", "output")]
    return ops, graph


# --- the module calls around the ops ---------------------------------------------------------------------------
def _callers(node: fx.Node) -> list[tuple[str, str]]:
    """(call key, qualified name) of each module call around ``node``, outermost first, the module the node
    calls itself left out. torch.fx keys a module's second call ``path@1``."""
    stack = [(key, value[0]) for key, value in (node.meta.get("nn_module_stack") or {}).items()]
    return stack[:-1] if node.op == "call_module" else stack


def nest(model: nn.Module, ops: list[Op], graph: fx.Graph, target: str) -> Call:
    """The tree of module calls: each op inside the calls torch.fx recorded around it."""
    root = Call("", model)
    calls: dict[str, Call] = {}
    for op in ops:
        parent = root
        for key, path in _callers(op.node):
            call = calls.get(key)
            if call is None:
                if "@" in key:
                    raise ImportRefused(f"{target}: module {path} ({_class(model.get_submodule(path))}) is called more "
                                        "than once; a spec's block runs once")
                _check_owner(path, parent, model, target)
                call = calls[key] = Call(path, model.get_submodule(path))
                parent.items.append(call)
            parent = call
        if op.module is not None:
            _check_owner(op.path, parent, model, target)
        parent.items.append(op)
    _connect(root, graph, target)
    return root


def _check_owner(path: str, parent: Call, model: nn.Module, target: str) -> None:
    """A module must be called by the module that holds it: the spec builds it there."""
    owner = path.rpartition(".")[0]
    if owner != parent.path:
        caller = f"module {parent.path} ({_class(parent.module)})" if parent.path else "the model's forward"
        raise ImportRefused(f"{target}: module {path} is called by {caller}, not by {owner or 'the model'} that holds "
                            "it; a spec builds each module where it is called")


def _connect(root: Call, graph: fx.Graph, target: str) -> None:
    """The one tensor each call reads and the one it returns (a block has one input and one output)."""
    readers: dict[fx.Node, list] = {}
    for node in graph.nodes:
        for used in node.all_input_nodes:
            readers.setdefault(used, []).append(node)

    def visit(call: Call) -> None:
        for item in call.items:
            if isinstance(item, Call):
                visit(item)
        made = {op.node for op in call.ops()}
        reads = list(dict.fromkeys(i for op in call.ops() for i in op.inputs if i not in made))
        out = [n for n in made if any(r not in made for r in readers.get(n, ()))]
        if call.path and (len(reads) != 1 or len(out) != 1):
            what = f"reads {len(reads)} tensors" if len(reads) != 1 else f"returns {len(out)} tensors"
            raise ImportRefused(f"{target}: module {call.path} ({_class(call.module)}) {what} from outside; a spec's "
                                "block reads one and returns one")
        call.input = reads[0] if reads else None
        call.output = out[0] if out else None

    visit(root)
    root.input = next(n for n in graph.nodes if n.op == "placeholder")
    root.output = next(n for n in graph.nodes if n.op == "output").args[0]


def check_calls(model: nn.Module, root: Call, target: str) -> None:
    """Each nn.Sequential runs every child once, in order (so indices, and with them the keys, come out the
    same); a leaf with weights runs once; no weights are left uncalled."""
    if root.is_chain:
        raise ImportRefused(f"{target}: the model is an nn.Sequential (keys 0.weight, ...), and a spec's sections "
                            "are named: wrap it in a module with named children")
    called: dict[str, int] = {}
    for op in root.ops():
        if op.module is not None:
            called[op.path] = called.get(op.path, 0) + 1
            if called[op.path] > 1 and any(True for _ in op.module.state_dict()):
                raise ImportRefused(f"{target}: module {op.path} ({_class(op.module)}) is called more than once; its "
                                    "weights would be shared, which a spec cannot write")
    _check_chains(root, target)
    entered = set(called) | {call.path for call in _calls(root)}
    for key in model.state_dict():
        owner = key.rpartition(".")[0]
        if owner in called:
            continue
        if owner in entered:
            raise ImportRefused(f"{target}: module {owner or 'the model'} holds the tensor {key} itself; a spec keeps "
                                "weights in layers")
        uncalled = _outermost_uncalled(owner, entered)
        raise ImportRefused(f"{target}: module {uncalled} ({_class(model.get_submodule(uncalled))}) has weights but "
                            "forward (in eval mode) never calls it")


def _calls(call: Call):
    yield call
    for item in call.items:
        if isinstance(item, Call):
            yield from _calls(item)


def _outermost_uncalled(owner: str, entered: set[str]) -> str:
    """The outermost module around ``owner`` that forward never enters (an auxiliary head, a spare layer)."""
    parts = owner.split(".")
    for i in range(1, len(parts) + 1):
        prefix = ".".join(parts[:i])
        if prefix not in entered:
            return prefix
    return owner


def _check_chains(call: Call, target: str) -> None:
    for item in call.items:
        if isinstance(item, Call):
            _check_chains(item, target)
    if call.is_chain:
        names = [item.path.rpartition(".")[2] for item in call.items]
        if names != [str(i) for i in range(len(call.module))]:
            raise ImportRefused(f"{target}: {call.path} runs {', '.join(names)}; a spec runs every layer of an "
                                "nn.Sequential once, in order")


def num_classes(ops: list[Op], graph: fx.Graph, shape: tuple[int, ...], target: str) -> int:
    """The width of the flat output, checking on the way that --input fits: the spec's parameter counts
    must equal the module's, layer by layer (a wrong channel count would otherwise go unnoticed)."""
    given = ",".join(map(str, shape))
    shapes = {next(n for n in graph.nodes if n.op == "placeholder"): shape}
    for op in ops:
        try:
            inferred = op.layer.infer_inputs([shapes[i] for i in op.inputs])
        except ShapeError as exc:
            raise ImportRefused(f"{target}: --input {given} does not fit {op.label}: {exc.message}") from None
        own = sum(p.numel() for p in op.module.parameters()) if op.module is not None else 0
        if own != inferred.weights + inferred.biases:
            raise ImportRefused(f"{target}: --input {given} does not fit {op.label}: it has {own:,} parameters, the "
                                f"spec would give it {inferred.weights + inferred.biases:,}")
        shapes[op.node] = inferred.output
    out = shapes[next(n for n in graph.nodes if n.op == "output").args[0]]
    if len(out) != 1:
        raise ImportRefused(f"{target}: the network outputs {fmt_chw(out)}, and a spec ends in a flat vector "
                            "of class scores")
    return out[0]


def import_spec(target: str, shape: tuple[int, ...], name: str | None = None) -> str:
    """The spec (YAML text) of the module ``target`` returns, for inputs of ``shape`` (C, H, W)."""
    with warnings.catch_warnings(), contextlib.redirect_stdout(sys.stderr):  # stdout carries the spec only
        warnings.simplefilter("ignore")
        model = load_module(target)
        return module_spec(model, target, shape, name)


def module_spec(model: nn.Module, target: str, shape: tuple[int, ...], name: str | None = None) -> str:
    """The spec of ``model`` (in eval mode); ``target`` names it in messages and in the spec's comments."""
    from . import import_blocks  # it builds on this module's Op and Call

    ops, graph = trace(model, target)
    root = nest(model, ops, graph, target)
    check_calls(model, root, target)
    classes = num_classes(ops, graph, shape, target)
    spec_name = _spec_name(target, name)
    class_name = "".join(part[:1].upper() + part[1:] for part in spec_name.split("_") if part)
    if class_name in generated_module_names():
        class_name += "Net"
    blocks = import_blocks.Blocks({class_name, *generated_module_names()})
    entries = import_blocks.sections(root, blocks)
    blocks.merge_optional()
    blocks.resolve()
    sections = import_blocks.section_dicts(root, entries, blocks)
    text = spec_yaml(target, spec_name, class_name, shape, classes, sections, blocks.definitions, blocks.comments)
    _validate(text, spec_name, target)
    return text


def _spec_name(target: str, name: str | None) -> str:
    attr = target.partition(":")[2].rsplit(".", 1)[-1]
    spec_name = name or re.sub(r"[^a-z0-9_]", "_", attr.lower()).strip("_")
    if not re.fullmatch(r"[a-z][a-z0-9_]{0,63}", spec_name):
        raise ImportRefused(f"--name {spec_name!r}: a spec name is lowercase letters, digits and _, starting with a "
                            "letter (at most 64)")
    return spec_name


def _validate(text: str, name: str, target: str) -> None:
    """The one validation path every spec goes through (a spec this command writes must pass it)."""
    try:
        validate_text(text, f"{name}.yaml")
    except SpecError as exc:
        raise ImportRefused(f"{target}: the spec would be invalid: {exc.problems[0]}") from None
