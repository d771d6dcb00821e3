"""`python -m alexnet import MODULE:CALLABLE`: torchvision module -> spec -> generated module is the same
network (state_dict keys and shapes, strict load, equal outputs), sequential or a graph of blocks; what a
spec cannot write is refused in one line; bad input exits 2 without a traceback."""

from __future__ import annotations

import types

import pytest
import torch
import torchvision
import yaml
from torch import nn

from alexnet import load_model
from alexnet.codegen import render_model
from alexnet.importer import ImportRefused, module_spec
from alexnet.kinds import KINDS
from alexnet.validation import validate_file
from tests import import_models
from tests.conftest import SPEC_NAMES, load_analysis, run_python

ROUND_TRIP = {"alexnet": (3, 224, 224), "vgg11_bn": (3, 224, 224), "vgg16": (3, 224, 224),
              "resnet18": (3, 224, 224), "resnet50": (3, 224, 224), "googlenet": (3, 224, 224)}
# The network of inference only: no auxiliary heads (their weights would never be called in eval mode).
BUILD_ARGS = {"googlenet": {"aux_logits": False, "transform_input": False, "init_weights": False}}
GRAPH_LINES = {"resnet18": 60, "resnet50": 65, "googlenet": 85}  # bounds on the written specs: blocks are reused


def generated(text: str, folder) -> tuple[nn.Module, object]:
    """The spec text validated and rendered by the generator, as a live module class."""
    name = yaml.safe_load(text)["name"]
    path = folder / f"{name}.yaml"
    path.write_text(text)
    analysis = validate_file(path)
    namespace = types.ModuleType(f"imported_{name}")
    exec(compile(render_model(analysis), str(path), "exec"), namespace.__dict__)  # our generator's code
    return getattr(namespace, namespace.__all__[0]), analysis


def assert_same_network(original: nn.Module, text: str, folder, shape: tuple[int, ...]) -> None:
    """The generated model of ``text`` has the source's keys in order, loads its weights strictly and gives
    the same outputs."""
    model_class, _ = generated(text, folder)
    ours = model_class().eval()
    assert list(ours.state_dict()) == list(original.state_dict())
    ours.load_state_dict(original.state_dict(), strict=True)
    x = torch.randn(2, *shape, generator=torch.Generator().manual_seed(1))
    with torch.no_grad():
        assert torch.equal(ours(x), original(x))


@pytest.mark.parametrize("name", list(ROUND_TRIP))
def test_torchvision_round_trip(name, tmp_path):
    torch.manual_seed(0)
    original = getattr(torchvision.models, name)(weights=None, **BUILD_ARGS.get(name, {})).eval()  # random weights
    text = module_spec(original, f"torchvision.models:{name}", ROUND_TRIP[name])
    assert len(text.splitlines()) <= GRAPH_LINES.get(name, 100)
    model_class, analysis = generated(text, tmp_path)
    with torch.device("meta"):
        ours = model_class()
    theirs = original.state_dict()
    assert [(k, v.shape) for k, v in ours.state_dict().items()] == [(k, v.shape) for k, v in theirs.items()]
    ours.load_state_dict(theirs, strict=True, assign=True)
    assert analysis.total_params == sum(p.numel() for p in original.parameters())
    x = torch.randn(1, *ROUND_TRIP[name], generator=torch.Generator().manual_seed(1))
    with torch.no_grad():
        expected, got = original(x), ours.eval()(x)
    assert torch.equal(got, expected) and got.abs().sum() > 0


@pytest.mark.parametrize("name", SPEC_NAMES)
def test_generated_models_import_back_to_their_spec(name, tmp_path):
    """Our own models (LRN in both conventions, groups, bias switches) come back layer for layer."""
    original = load_analysis(name)
    with torch.device("meta"):
        model = load_model(name)
    text = module_spec(model, f"alexnet.models.{name}:{type(model).__name__}", original.input, name=name)
    model_class, analysis = generated(text, tmp_path)
    # The same torch module per layer (labels, init and spellings such as a pool's explicit default stride aside;
    # a merge has no module), read from the same inputs.
    assert [_row_module(r) for r in analysis.rows] == [_row_module(r) for r in original.rows]
    assert [len(r.inputs) for r in analysis.rows] == [len(r.inputs) for r in original.rows]
    assert analysis.spec.num_classes == original.spec.num_classes
    with torch.device("meta"):
        model_class().load_state_dict(model.state_dict(), strict=True, assign=True)


def _row_module(row) -> tuple:
    return row.section, row.path, row.kind, None if row.layer.module_free else row.layer.torch_module(row.input, "c", None)


def test_every_declared_torch_class_reads_back_into_the_same_layer():
    """Each kind's example, built the way the generator writes it, is read back by its own from_torch."""
    from alexnet.layers import LocalResponseNorm

    covered = set()
    for kind, cls in KINDS.items():
        if not cls.torch_classes:
            continue
        layer = cls.model_validate({"name": "layer", "kind": kind, **cls.example})
        shape = (4, 9, 9) if kind not in ("linear", "dropout") else (16,)
        module = eval(layer.torch_module(shape, repr(shape[0]), None),  # the generator's code only
                      {"nn": nn, "torch": torch, "LocalResponseNorm": LocalResponseNorm})
        dotted = f"{type(module).__module__}.{type(module).__name__}"
        assert any(dotted.endswith(c.rpartition(".")[2]) for c in cls.torch_classes), (kind, dotted)
        again = cls.model_validate({"name": "layer", "kind": kind, **cls.from_torch(module)})
        assert again == layer, kind
        covered.add(kind)
    assert {"conv", "linear", "relu", "lrn", "batchnorm", "maxpool", "adaptive_avgpool", "flatten", "dropout"} <= covered


def test_every_kind_with_a_torch_class_round_trips(tmp_path):
    torch.manual_seed(0)
    original = import_models.Tiny().eval()
    text = module_spec(original, "tests.import_models:Tiny", (3, 17, 19))
    model_class, analysis = generated(text, tmp_path)
    ours = model_class().eval()
    ours.load_state_dict(original.state_dict(), strict=True)
    x = torch.randn(2, 3, 17, 19)
    with torch.no_grad():
        assert torch.allclose(ours(x), original(x), rtol=0, atol=1e-6)
    missing = {c for c, k in KINDS.items() if k.torch_classes} - {r.kind for r in analysis.rows}
    assert not missing, f"add a module of each of these kinds to tests/import_models.py:Tiny: {missing}"


def test_graph_module_round_trips_with_its_blocks(tmp_path):
    """Blocks nested in sections, `+=`, torch.add, torch.cat on the channels, functional ReLU, pooling and
    flatten, a ReLU module called twice: the same keys, a strict load and the same outputs."""
    torch.manual_seed(0)
    original = import_models.Branchy().eval()
    text = module_spec(original, "tests.import_models:Branchy", (3, 16, 16))
    spec = yaml.safe_load(text)
    assert set(spec["blocks"]) == {"unit", "project", "right", "mixed"}  # one block per class and structure
    # The unit with a projection shares the block: the projection is written with when: $project.
    assert spec["blocks"]["unit"]["params"] == {"out_channels": None, "stride": 1, "project": False}
    assert spec["sections"]["stage"] == [
        {"name": "stage_0", "block": "unit", "repeat": 2, "args": {"out_channels": 8}},
        {"name": "stage_2", "block": "unit", "args": {"out_channels": 12, "stride": 2, "project": True}},
        {"name": "stage_3", "block": "unit", "args": {"out_channels": 12}}]
    assert_same_network(original, text, tmp_path, (3, 16, 16))


@pytest.mark.parametrize(("shape", "message"), [
    ((1, 224, 224), "does not fit module features.0: it has 23,296 parameters, the spec would give it 7,808"),
    ((3, 16, 16), "--input 3,16,16 does not fit module features.5: the 3x3 kernel does not fit the 1x1 input"),
])
def test_input_that_does_not_fit_is_refused(shape, message):
    with torch.device("meta"):
        model = torchvision.models.alexnet().eval()
    with pytest.raises(ImportRefused, match=message.replace("(", r"\(")):
        module_spec(model, "torchvision.models:alexnet", shape)


@pytest.mark.parametrize(("target", "message"), [
    ("tests.import_models:Unknown", "module features.1 (torch.nn.SiLU) has no layer kind"),
    ("tests.import_models:Functional", "the call torch.sigmoid in forward is not a layer a spec can write"),
    ("tests.import_models:Product", "the call operator.mul in gate is not a layer a spec can write"),
    ("tests.import_models:CatOnHeight", "the concatenation in forward (torch.cat) joins dimension 2; a spec's "
                                        "concat joins channels (dimension 1)"),
    ("tests.import_models:Shared", "module conv (torch.nn.Conv2d) is called more than once; its weights would be "
                                   "shared"),
    ("tests.import_models:Unused", "module spare (torch.nn.Linear) has weights but forward (in eval mode) never calls"),
])
def test_what_a_spec_cannot_write_is_named(target, message):
    from alexnet.importer import load_module

    with pytest.raises(ImportRefused, match=message.replace("(", r"\(").replace(")", r"\)")):
        module_spec(load_module(target), target, (3, 8, 8))


@pytest.mark.parametrize(("target", "shape", "blocks"), [("Tiny", "3,17,19", False), ("Branchy", "3,16,16", True)])
def test_command_prints_a_valid_spec(target, shape, blocks, tmp_path):
    result = run_python("-m", "alexnet", "import", f"tests.import_models:{target}", "--input", shape, "--name", "tiny_net")
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("# yaml-language-server: $schema=schema.json\n")
    (tmp_path / "tiny_net.yaml").write_text(result.stdout)
    analysis = validate_file(tmp_path / "tiny_net.yaml")
    assert analysis.spec.class_name == "TinyNet" and analysis.spec.num_classes == 10
    assert bool(analysis.spec.blocks) == blocks


@pytest.mark.parametrize(("args", "message"), [
    (["no_such_module_xyz:net"], "no_such_module_xyz:net: cannot import no_such_module_xyz: ModuleNotFoundError"),
    (["tests.import_models"], "expected MODULE:CALLABLE"),
    (["tests.import_models:missing"], "tests.import_models has no attribute 'missing'"),
    (["tests.import_models:NOT_A_CALLABLE"], "NOT_A_CALLABLE is not callable (int)"),
    (["tests.import_models:not_a_module"], "not_a_module() returned a dict, not a torch.nn.Module"),
    (["tests.import_models:needs_arguments"], "calling needs_arguments() failed: TypeError"),
    (["tests.import_models:Untraceable"], "torch.fx cannot trace it: TraceError"),
    (["tests.import_models:Product"], "tests.import_models:Product: the call operator.mul in gate is not a layer"),
    (["tests.import_models:Tiny", "--input", "3,17"], "--input '3,17': expected C,H,W"),
    (["tests.import_models:Tiny", "--input", "3,0,4"], "--input '3,0,4': expected C,H,W"),
    (["tests.import_models:Tiny", "--name", "Bad-Name"], "--name 'Bad-Name': a spec name is lowercase"),
])
def test_bad_input_is_one_line(args, message, capsys):
    from alexnet.cli import main

    if "--input" not in args:
        args = [*args, "--input", "3,17,19"]
    assert main(["import", *args]) == 2
    out, err = capsys.readouterr()
    assert out == "" and len(err.strip().splitlines()) == 1, err
    assert message in err


def test_bad_input_exits_2_without_traceback():
    result = run_python("-m", "alexnet", "import", "tests.import_models:Untraceable", "--input", "4")
    assert result.returncode == 2 and result.stdout == ""
    assert result.stderr.strip() == ("tests.import_models:Untraceable: torch.fx cannot trace it: TraceError: "
                                     "symbolically traced variables cannot be used as inputs to control flow")


def test_a_module_without_weights_called_twice_becomes_two_layers(tmp_path):
    torch.manual_seed(0)
    original = import_models.SharedPool().eval()
    text = module_spec(original, "tests.import_models:SharedPool", (3, 32, 32))
    sections = yaml.safe_load(text)["sections"]
    assert [layer["kind"] for layer in sections["pool"] + sections["pool_2"]] == ["maxpool", "maxpool"]
    assert_same_network(original, text, tmp_path, (3, 32, 32))
