"""Property tests: the pure-Python analysis agrees with real torch modules, and no input breaks validation.

1. Random valid specs (depths, kernels, strides, paddings, dilations, groups, pools, ceil_mode, adaptive
   pooling, batch norm, flatten, linear) are rendered to Python, built on the meta device (no memory, no
   compute) and run: every layer's output shape (forward hooks), every parameter count, and the MACs
   (torch's FlopCounterMode = 2 x MACs) equal the analysis.
2. Random mutations of a valid spec's data or text give a valid spec or a clean SpecError, never another
   exception.

Example counts come from the hypothesis profile in tests/conftest.py (at least 300 each when CI=true).
"""

from __future__ import annotations

import torch
import yaml
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st
from torch.utils.flop_counter import FlopCounterMode

from alexnet.analysis import analyse
from alexnet.codegen import render_model
from alexnet.source import SpecError, parse_source
from alexnet.spec import spec_from_source
from tests.conftest import ROOT

BATCH = 2
PAIR = st.one_of(st.integers(1, 3), st.lists(st.integers(1, 3), min_size=2, max_size=2))


def _pair(value) -> tuple[int, int]:
    return (value, value) if isinstance(value, int) else tuple(value)


@st.composite
def _window(draw, size: tuple[int, int], pool: bool) -> dict:
    """kernel/stride/padding/dilation that fit ``size`` (the textbook formula guides the choice only)."""
    kernel = draw(st.one_of(st.integers(1, 5), st.lists(st.integers(1, 5), min_size=2, max_size=2)))
    k = _pair(kernel)
    layer = {"kernel_size": kernel}
    if draw(st.booleans()):
        layer["stride"] = draw(PAIR)
    padding = draw(st.one_of(st.integers(0, 2), st.lists(st.integers(0, 2), min_size=2, max_size=2)))
    if pool:  # PyTorch: pool padding at most half the kernel
        padding = min(padding, min(k) // 2) if isinstance(padding, int) else \
            [min(p, kk // 2) for p, kk in zip(padding, k, strict=True)]
    layer["padding"] = padding
    if draw(st.booleans()) and (not pool or draw(st.booleans())):
        layer["dilation"] = draw(st.integers(1, 2))
    d = _pair(layer.get("dilation", 1))
    p = _pair(padding)
    fits = all(dd * (kk - 1) + 1 <= n + 2 * pp for dd, kk, n, pp in zip(d, k, size, p, strict=True))
    if not fits:  # shrink to a 1x1 window, which always fits
        layer = {"kernel_size": 1, "stride": layer.get("stride", 1)}
    return layer


def _next_size(size, layer) -> tuple[int, int]:
    """A lower bound of the output size (exact without ceil_mode): enough to keep later windows fitting."""
    k, p, d = _pair(layer["kernel_size"]), _pair(layer.get("padding", 0)), _pair(layer.get("dilation", 1))
    s = _pair(layer.get("stride", layer["kernel_size"] if layer.get("pool") else 1))
    return tuple((n + 2 * pp - dd * (kk - 1) - 1) // ss + 1 for n, kk, pp, dd, ss in zip(size, k, p, d, s, strict=True))


@st.composite
def valid_specs(draw) -> dict:
    """A random valid spec as plain data."""
    names = iter(f"layer{i}" for i in range(1000))
    channels = draw(st.integers(1, 6))
    image = draw(st.booleans())
    size = (draw(st.integers(3, 24)), draw(st.integers(3, 24)))
    input_shape = [channels, *size] if image else [draw(st.integers(1, 64))]
    features: list[dict] = []
    if image:
        for _ in range(draw(st.integers(0, 6))):
            kind = draw(st.sampled_from(["conv", "conv", "maxpool", "avgpool", "relu", "tanh", "sigmoid", "lrn",
                                         "batchnorm", "dropout"]))
            layer: dict = {"name": next(names), "kind": kind}
            if kind == "conv":
                groups = draw(st.sampled_from([g for g in (1, 2, 3) if channels % g == 0]))
                layer.update(draw(_window(size, pool=False)), out_channels=groups * draw(st.integers(1, 4)))
                if groups > 1:
                    layer["groups"] = groups
                if draw(st.booleans()):
                    layer["bias"] = False
                size, channels = _next_size(size, layer), layer["out_channels"]
            elif kind in ("maxpool", "avgpool"):
                window = draw(_window(size, pool=True))
                if kind == "avgpool":
                    window.pop("dilation", None)
                layer.update(window)
                if draw(st.booleans()):
                    layer["ceil_mode"] = True
                size = _next_size(size, {**layer, "pool": True})
            elif kind == "lrn":
                layer.update(size=draw(st.integers(1, 5)), alpha=1e-4, beta=0.75, k=2.0,
                             convention=draw(st.sampled_from(["paper", "divided_by_n"])))
            elif kind == "dropout":
                layer["p"] = 0.5
            features.append(layer)
        if draw(st.booleans()):
            features.append({"name": next(names), "kind": "adaptive_avgpool",
                             "output_size": draw(st.one_of(st.integers(1, 4),
                                                           st.lists(st.integers(1, 4), min_size=2, max_size=2)))})
    classifier: list[dict] = []
    for _ in range(draw(st.integers(0, 2))):
        classifier.append({"name": next(names), "kind": "linear", "out_features": draw(st.integers(1, 16))})
        extra = draw(st.sampled_from([None, "relu", "dropout", "batchnorm"]))
        if extra:
            classifier.append({"name": next(names), "kind": extra})
    num_classes = draw(st.integers(1, 10))
    classifier.append({"name": next(names), "kind": "linear", "out_features": num_classes})
    sections: dict[str, list[dict]] = {}
    if features:
        sections["features"] = features
    if image:
        flatten = {"name": next(names), "kind": "flatten"}
        if draw(st.booleans()):
            sections["flatten"] = [flatten]  # becomes torch.flatten(x, 1) in forward
        else:
            classifier.insert(0, flatten)  # becomes nn.Flatten() inside the Sequential
    sections["classifier"] = classifier
    return {"name": "random", "title": "Random network", "class_name": "Random",
            "input": input_shape, "num_classes": num_classes,
            "sections": sections}


def _load(data: dict):
    text = yaml.safe_dump(data, sort_keys=False)
    return analyse(spec_from_source(parse_source(text.encode(), "spec/random.yaml")))


def _build(analysis):
    namespace: dict = {}
    exec(compile(render_model(analysis), "random.py", "exec"), namespace)  # our own generated code
    with torch.device("meta"):
        return namespace[analysis.spec.class_name]().eval()


@settings(deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(valid_specs())
def test_analysis_equals_the_torch_module(data):
    analysis = _load(data)
    model = _build(analysis)
    seen: dict[tuple[str, int], tuple[int, ...]] = {}
    modules = {}
    for row in analysis.rows:
        layers = analysis.spec.sections[row.section]
        if len(layers) == 1 and row.kind == "flatten":
            continue  # torch.flatten(x, 1) in forward: no module to hook
        module = model.get_submodule(row.section if len(layers) == 1 else f"{row.section}.{row.index}")
        modules[row.section, row.index] = module
        module.register_forward_hook(
            lambda _m, _i, out, key=(row.section, row.index): seen.__setitem__(key, tuple(out.shape)))
    with FlopCounterMode(display=False) as flops:
        out = model(torch.empty(BATCH, *analysis.input, device="meta"))
    assert tuple(out.shape) == (BATCH, analysis.spec.num_classes)
    for row in analysis.rows:
        if (row.section, row.index) not in modules:
            continue
        module = modules[row.section, row.index]
        assert seen[row.section, row.index] == (BATCH, *row.output), row
        params = sum(p.numel() for p in module.parameters())
        weight = getattr(module, "weight", None)
        bias = getattr(module, "bias", None)
        assert (params, weight.numel() if weight is not None else 0, bias.numel() if bias is not None else 0) == \
            (row.params, row.weights, row.biases), row
    assert sum(p.numel() for p in model.parameters()) == analysis.total_params
    assert flops.get_total_flops() == 2 * BATCH * analysis.total_macs


# --- mutations: anything goes in, only a valid spec or a clean SpecError comes out --------------------------

ANY_VALUE = st.one_of(
    st.none(), st.booleans(), st.integers(-3, 2**40), st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=12), st.sampled_from(["conv", "linear", "flatten", "paper", "3", "1e3", "nan", "", "x" * 200]),
    st.lists(st.integers(-2, 40), max_size=4), st.dictionaries(st.text(max_size=6), st.integers(0, 9), max_size=2),
)
KEYS = st.one_of(st.sampled_from(["name", "kind", "kernel_size", "stride", "padding", "groups", "out_channels",
                                  "out_features", "display", "bias", "sections", "input", "p", "size"]),
                 st.text(max_size=8))


def _paths(node, path=()):
    yield path
    if isinstance(node, dict):
        for key, value in node.items():
            yield from _paths(value, (*path, key))
    elif isinstance(node, list):
        for index, value in enumerate(node):
            yield from _paths(value, (*path, index))


def _get(node, path):
    for part in path:
        node = node[part]
    return node


@st.composite
def mutated_data(draw):
    data = draw(st.one_of(valid_specs(), st.just(yaml.safe_load((ROOT / "spec/alexnet.yaml").read_text()))))
    for _ in range(draw(st.integers(1, 3))):
        path = draw(st.sampled_from(list(_paths(data))))
        parent, last = (_get(data, path[:-1]), path[-1]) if path else (None, None)
        action = draw(st.sampled_from(["replace", "drop", "add", "retype"]))
        if parent is None:  # the whole document
            data = draw(ANY_VALUE) if action == "replace" else data
        elif action == "replace":
            parent[last] = draw(ANY_VALUE)
        elif action == "drop":
            del parent[last]
        elif action == "add" and isinstance(parent, dict):
            parent[draw(KEYS)] = draw(ANY_VALUE)
        elif action == "add":
            parent.insert(last, draw(ANY_VALUE))
        else:
            value = parent[last]
            parent[last] = draw(st.sampled_from([[value], str(value), {"value": value}, None]))
        if not isinstance(data, (dict, list)):
            break
    return data


def _check_clean(raw: bytes) -> None:
    try:
        analysis = analyse(spec_from_source(parse_source(raw, "spec/mutant.yaml")))
    except SpecError as error:
        event("refused with SpecError")
        assert error.problems
        for problem in error.problems:
            assert problem.file == "spec/mutant.yaml" and problem.line >= 1 and problem.col >= 1
            assert problem.message and "\n" not in problem.message and "Traceback" not in problem.message
        return
    event("valid")
    compile(render_model(analysis), "mutant.py", "exec")  # a valid spec must also render to valid Python


@settings(deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(mutated_data())
def test_mutated_data_gives_a_spec_or_a_clean_error(data):
    _check_clean(yaml.safe_dump(data, sort_keys=False, allow_unicode=True).encode())


YAML_BITS = st.sampled_from(["{", "}", "[", "]", ":", ": ", "- ", "&a ", "*a", "!!python/object:os.system ", "!x ",
                             "\t", "\n", "  ", "#", "'", '"', "---\n", "\\", "\x00", "\x07", "\ufeff", "é", "%YAML 1.1\n",
                             "? ", "|\n", ">-\n", "<<: ", ".nan", "1e400", "0x1F", "~", "yes", "9" * 5000])


@st.composite
def mutated_text(draw):
    data = draw(st.one_of(valid_specs(), st.just(yaml.safe_load((ROOT / "spec/alexnet.yaml").read_text()))))
    text = yaml.safe_dump(data, sort_keys=False, default_flow_style=draw(st.sampled_from([None, False, True])))
    for _ in range(draw(st.integers(1, 4))):
        at = draw(st.integers(0, len(text)))
        action = draw(st.sampled_from(["insert", "delete", "duplicate"]))
        if action == "insert":
            text = text[:at] + draw(st.one_of(YAML_BITS, st.text(max_size=4))) + text[at:]
        elif action == "delete":
            text = text[:at] + text[at + draw(st.integers(1, 40)):]
        else:
            lines = text.splitlines(keepends=True)
            if lines:
                i = draw(st.integers(0, len(lines) - 1))
                lines.insert(i, lines[i])
            text = "".join(lines)
    raw = text.encode("utf-8", "surrogatepass")
    if draw(st.booleans()):  # and sometimes bytes that are not UTF-8 at all
        at = draw(st.integers(0, len(raw)))
        raw = raw[:at] + draw(st.binary(min_size=1, max_size=3)) + raw[at:]
    return raw


@settings(deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(mutated_text())
def test_mutated_text_gives_a_spec_or_a_clean_error(raw):
    _check_clean(raw)

