"""``python -m alexnet import MODULE:CALLABLE --input C,H,W``: the spec of a PyTorch module, through torch.fx.

The module is traced with ``torch.fx`` (every class a layer kind names in ``torch_classes`` stays one node);
its top-level children become the spec's sections (an ``nn.Sequential`` of layers, or one layer), and
``torch.flatten(x, 1)`` between them a lone ``flatten`` section, exactly the layout the generator writes back.
So the generated module has the original's state_dict keys and shapes. How a torch module maps to a layer
is the kinds' business (``Layer.from_torch``); this module only walks the graph. Anything a sequential spec
cannot write (a residual add, a concatenation, a nested block, a functional call) is refused in one line.
"""

from __future__ import annotations

import contextlib
import importlib
import operator
import re
import sys
import tempfile
import typing
import warnings
from pathlib import Path

import torch
from torch import fx, nn

from .formatting import fmt_chw
from .kinds import KINDS, Layer, ShapeError
from .kinds.base import NotExpressible
from .source import SpecError
from .spec import generated_module_names
from .validation import validate_file
from .yaml_out import spec_yaml


class ImportRefused(Exception):
    """The module cannot become a spec; the message is one line naming the module or operation."""


JOINS = {operator.add: "add", operator.iadd: "add", torch.add: "add", torch.cat: "concatenation",
         torch.concat: "concatenation", torch.stack: "stack", operator.mul: "product", torch.mul: "product"}


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


def _refuse_joins(graph: fx.Graph, target: str) -> None:
    """Operations that join two paths need graph specs: named first, as they are the real obstacle."""
    for node in graph.nodes:
        fn = node.target if node.op == "call_function" else getattr(torch, str(node.target), None)
        if node.op in ("call_function", "call_method") and fn in JOINS:
            inputs = [a for a in node.all_input_nodes if a.op != "get_attr"]
            if len(inputs) > 1 or JOINS[fn] in ("concatenation", "stack"):
                what = "the residual add" if JOINS[fn] == "add" else f"the {JOINS[fn]}"
                raise ImportRefused(f"{target}: {what} {_where(node)} ({_op_name(node)}) cannot be written in a "
                                    "sequential spec yet")


def trace_layers(model: nn.Module, target: str) -> list[tuple[str, str, nn.Module | None]]:
    """``(section, qualified name, module)`` per layer in order; the module is None for a functional flatten."""
    leaves = kind_of_class()
    try:
        graph = _Tracer(leaves).trace(model)
    except Exception as exc:
        raise ImportRefused(f"{target}: torch.fx cannot trace it: {_first_line(exc)}") from None
    _refuse_joins(graph, target)
    nodes = list(graph.nodes)
    inputs = [n for n in nodes if n.op == "placeholder"]
    if len(inputs) != 1:
        raise ImportRefused(f"{target}: forward takes {len(inputs)} inputs; a spec has one")
    layers, previous = [], inputs[0]
    for node in nodes[1:]:
        if node.op == "placeholder":
            continue
        if node.op == "output":
            if node.args[0] is not previous:
                raise ImportRefused(f"{target}: forward does not return the last layer's output as one tensor")
            break
        if len(previous.users) > 1:
            raise ImportRefused(f"{target}: the output of {_label(previous)} feeds {len(previous.users)} operations "
                                "(a branch), which a sequential spec cannot write yet")
        if not node.args or node.args[0] is not previous or len(node.all_input_nodes) != 1:
            raise ImportRefused(f"{target}: {_label(node)} does not read just the output of {_label(previous)}, "
                                "which a sequential spec cannot write yet")
        if node.op == "call_module":
            module = model.get_submodule(node.target)
            if type(module) not in leaves:
                raise ImportRefused(f"{target}: module {node.target} ({_class(module)}) has no layer kind")
            layers.append((_section_of(model, node.target, target), node.target, module))
        elif _is_flatten(node):
            layers.append(("flatten", "torch.flatten", None))
        else:
            raise ImportRefused(f"{target}: the call {_op_name(node)} {_where(node)} is not a layer a spec can "
                                "write (only modules, and torch.flatten(x, 1) between sections)")
        previous = node
    _check_sections(model, layers, target)
    return layers


def _label(node: fx.Node) -> str:
    return node.target if node.op == "call_module" else (_op_name(node) if node.op != "placeholder" else "the input")


def _class(module: nn.Module) -> str:
    cls = type(module)
    return f"{'torch.nn' if cls.__module__.startswith('torch.nn.') else cls.__module__}.{cls.__qualname__}"


def _section_of(model: nn.Module, qualified: str, target: str) -> str:
    """``features.3`` -> ``features`` (a Sequential's layer); ``avgpool`` -> ``avgpool`` (a lone layer)."""
    parts = qualified.split(".")
    if isinstance(model, nn.Sequential):
        raise ImportRefused(f"{target}: the model is an nn.Sequential (keys 0.weight, ...), and a spec's sections "
                            "are named: wrap it in a module with named children")
    if len(parts) == 1 or (len(parts) == 2 and parts[1].isdigit()
                           and isinstance(model.get_submodule(parts[0]), nn.Sequential)):
        return parts[0]
    parent = qualified.rsplit(".", 1)[0]
    raise ImportRefused(f"{target}: module {qualified} is nested in {parent} ({_class(model.get_submodule(parent))}): "
                        "a section holds layers directly, so nested blocks cannot be written in a sequential spec yet")


def _check_sections(model: nn.Module, layers: list, target: str) -> None:
    """Each section called once, in one run, every layer of a Sequential in order (so indices, and with
    them the state_dict keys, come out the same); no child with weights left out."""
    order: dict[str, list[str]] = {}
    for section, qualified, _ in layers:
        if section in order and section != next(reversed(order)):
            raise ImportRefused(f"{target}: {section} is used again after {next(reversed(order))}: a section runs once")
        order.setdefault(section, []).append(qualified)
    for section, names in order.items():
        if "torch.flatten" in names:
            if names != ["torch.flatten"] or hasattr(model, section):
                raise ImportRefused(f"{target}: torch.flatten(x, 1) becomes a section named flatten: it may be called "
                                    "once, and the model may have no child of that name")
            continue
        child = model.get_submodule(section)
        if isinstance(child, nn.Sequential):
            expected = [f"{section}.{i}" for i in range(len(child))]
            if names != expected:
                raise ImportRefused(f"{target}: {section} runs {', '.join(names)}; a spec runs every layer of it once, "
                                    "in order")
            if len(child) == 1:
                raise ImportRefused(f"{target}: {section} is an nn.Sequential of one layer, which a spec writes as the "
                                    f"layer itself ({section}.0.* keys would become {section}.*)")
        elif len(names) > 1:
            raise ImportRefused(f"{target}: module {section} is called {len(names)} times; a spec layer runs once")
    for name, child in model.named_children():
        if name not in order and any(True for _ in child.state_dict()):
            raise ImportRefused(f"{target}: module {name} ({_class(child)}) has weights but forward (in eval mode) "
                                "never calls it")


def kind_name(kind: type[Layer]) -> str:
    return typing.get_args(kind.model_fields["kind"].annotation)[0]


def to_layers(layers: list, target: str) -> list[tuple[str, str, Layer, nn.Module | None]]:
    """``(section, qualified name, layer, module)``: each module's spec layer, named after its kind (conv1,
    relu1, ...)."""
    leaves, counts, out = kind_of_class(), {}, []
    for section, qualified, module in layers:
        kind = KINDS["flatten"] if module is None else leaves[type(module)]
        name = kind_name(kind)
        counts[name] = counts.get(name, 0) + 1
        try:
            values = kind.from_torch(module) if module is not None else {}
            layer = kind.model_validate({"name": f"{name}{counts[name]}", "kind": name, **values})
        except (NotExpressible, ValueError) as exc:  # pydantic's ValidationError is a ValueError
            message = str(exc).splitlines()[0] if isinstance(exc, NotExpressible) else _first_line(exc)
            raise ImportRefused(f"{target}: module {qualified} ({_class(module)}): {message}") from None
        out.append((section, qualified, layer, module))
    return out


def num_classes(layers: list, shape: tuple[int, ...], target: str) -> int:
    """The width of the flat output, checking on the way that --input fits: the spec's parameter counts
    must equal the module's, layer by layer (a wrong channel count would otherwise go unnoticed)."""
    given = ",".join(map(str, shape))
    for _, qualified, layer, module in layers:
        where = "torch.flatten" if module is None else f"module {qualified}"
        try:
            inferred = layer.infer(shape)
        except ShapeError as exc:
            raise ImportRefused(f"{target}: --input {given} does not fit {where}: "
                                f"{exc.message}") from None
        own = sum(p.numel() for p in module.parameters()) if module is not None else 0
        if own != inferred.weights + inferred.biases:
            raise ImportRefused(f"{target}: --input {given} does not fit {where}: it has "
                                f"{own:,} parameters, the spec would give it {inferred.weights + inferred.biases:,}")
        shape = inferred.output
    if len(shape) != 1:
        raise ImportRefused(f"{target}: the network outputs {fmt_chw(shape)}, and a spec ends in a flat vector "
                            "of class scores")
    return shape[0]


def import_spec(target: str, shape: tuple[int, ...], name: str | None = None) -> str:
    """The spec (YAML text) of the module ``target`` returns, for inputs of ``shape`` (C, H, W)."""
    with warnings.catch_warnings(), contextlib.redirect_stdout(sys.stderr):  # stdout carries the spec only
        warnings.simplefilter("ignore")
        model = load_module(target)
        return module_spec(model, target, shape, name)


def module_spec(model: nn.Module, target: str, shape: tuple[int, ...], name: str | None = None) -> str:
    """The spec of ``model`` (in eval mode); ``target`` names it in messages and in the spec's comments."""
    layers = to_layers(trace_layers(model, target), target)
    attr = target.partition(":")[2].rsplit(".", 1)[-1]
    spec_name = name or re.sub(r"[^a-z0-9_]", "_", attr.lower()).strip("_")
    if not re.fullmatch(r"[a-z][a-z0-9_]{0,63}", spec_name):
        raise ImportRefused(f"--name {spec_name!r}: a spec name is lowercase letters, digits and _, starting with a "
                            "letter (at most 64)")
    class_name = "".join(part[:1].upper() + part[1:] for part in spec_name.split("_") if part)
    if class_name in generated_module_names():
        class_name += "Net"
    sections: dict[str, list[Layer]] = {}
    for section, _, layer, _ in layers:
        sections.setdefault(section, []).append(layer)
    text = spec_yaml(target, spec_name, class_name, shape, num_classes(layers, shape, target), sections)
    _validate(text, spec_name, target)
    return text


def _validate(text: str, name: str, target: str) -> None:
    """The one validation path every spec goes through (a spec this command writes must pass it)."""
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / f"{name}.yaml"
        path.write_text(text)
        try:
            validate_file(path, f"{name}.yaml")
        except SpecError as exc:
            raise ImportRefused(f"{target}: the spec would be invalid: {exc.problems[0]}") from None
