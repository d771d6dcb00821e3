"""`python -m alexnet export SPEC --onnx FILE`: a valid ONNX file, onnxruntime agrees with PyTorch, LRN is
ONNX's LRN node with the spec's convention converted, and bad input is one line with exit 2."""

from __future__ import annotations

import numpy as np
import onnx
import onnxruntime as ort
import pytest
import torch

from alexnet import load_model
from alexnet.kinds import torch_alpha
from alexnet.onnx_export import export_onnx
from tests.conftest import ROOT, SPEC_NAMES, run_python

TOLERANCE = 1e-5

TINY = """\
name: {name}
title: Tiny
class_name: Tiny
input: [6, 9, 9]
num_classes: 3
sections:
  features:
    - {{name: conv1, kind: conv, out_channels: 8, kernel_size: 3}}
    - {{name: relu1, kind: relu}}
    - {{name: norm1, kind: lrn, size: {size}, alpha: 0.5, beta: 0.75, k: 2.0, convention: paper}}
    - {{name: pool1, kind: maxpool, kernel_size: 3, stride: 2}}
  flatten:
    - {{name: flatten, kind: flatten}}
  classifier:
    - {{name: fc1, kind: linear, out_features: 3}}
"""


def run_both(model: torch.nn.Module, path, shape, batch: int = 1) -> tuple[np.ndarray, np.ndarray]:
    """Outputs of PyTorch and ONNX Runtime; the export traced a batch of 2, so 1 shows the batch is free."""
    x = torch.randn(batch, *shape, generator=torch.Generator().manual_seed(0))
    with torch.no_grad():
        expected = model.eval()(x).numpy()
    session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    (got,) = session.run(None, {"input": x.numpy()})
    return got, expected


def lrn_attributes(proto: onnx.ModelProto) -> list[dict]:
    return [{a.name: onnx.helper.get_attribute_value(a) for a in node.attribute}
            for node in proto.graph.node if node.op_type == "LRN"]


@pytest.mark.parametrize("name", SPEC_NAMES)
def test_bundled_spec_exports_and_runs_the_same(name, analyses, tmp_path):
    analysis = analyses[name]
    model = load_model(name).eval()
    out = tmp_path / f"{name}.onnx"
    export_onnx(model, analysis.input, out)
    onnx.checker.check_model(str(out), full_check=True)
    got, expected = run_both(model, out, analysis.input)
    assert got.shape == expected.shape == (1, analysis.spec.num_classes)
    assert np.abs(got - expected).max() <= TOLERANCE
    proto = onnx.load(str(out))
    ops = {node.op_type for node in proto.graph.node}
    assert not ops & {"ReduceSum", "Pow", "Sqrt", "Reciprocal"}, "LRN must not be decomposed"
    lrns = [row.layer for row in analysis.rows if row.kind == "lrn"]
    assert len(lrn_attributes(proto)) == len(lrns)
    for layer, attrs in zip(lrns, lrn_attributes(proto), strict=True):
        assert attrs["size"] == layer.size
        # ONNX divides alpha by size, as PyTorch does: the paper convention's alpha is multiplied by size.
        assert attrs["alpha"] == pytest.approx(torch_alpha(layer.size, layer.alpha, layer.convention), rel=1e-6)
        assert attrs["beta"] == pytest.approx(layer.beta, rel=1e-6)
        assert attrs["bias"] == pytest.approx(layer.k, rel=1e-6)


def tiny_model(tmp_path, size: int):
    from alexnet.onnx_export import build_model
    from alexnet.validation import validate_file

    spec = tmp_path / "tiny.yaml"
    spec.write_text(TINY.format(name="tiny", size=size))
    analysis = validate_file(spec)
    return build_model(analysis), analysis


@pytest.mark.parametrize("size", [1, 3, 5])
def test_lrn_window_and_alpha_match(size, tmp_path):
    """alpha 0.5 makes the window matter: a wrong alpha or centre differs by far more than the tolerance."""
    model, analysis = tiny_model(tmp_path, size)
    out = tmp_path / "tiny.onnx"
    export_onnx(model, analysis.input, out)
    onnx.checker.check_model(str(out), full_check=True)
    got, expected = run_both(model, out, analysis.input, batch=3)  # the export leaves the model's maths as it was
    assert np.abs(got - expected).max() <= TOLERANCE
    assert lrn_attributes(onnx.load(str(out)))[0]["alpha"] == pytest.approx(0.5 * size)


def test_even_lrn_size_is_refused(tmp_path):
    from alexnet.onnx_export import ExportError

    model, analysis = tiny_model(tmp_path, 4)
    with pytest.raises(ExportError, match=r"features\.2: LRN size 4 is even"):
        export_onnx(model, analysis.input, tmp_path / "tiny.onnx")
    assert not (tmp_path / "tiny.onnx").exists()


def test_command_writes_a_checked_file(tmp_path):
    spec = tmp_path / "tiny.yaml"
    spec.write_text(TINY.format(name="tiny", size=5))
    out = tmp_path / "tiny.onnx"
    result = run_python("-m", "alexnet", "export", str(spec), "--onnx", str(out), "--opset", "18")
    assert result.returncode == 0, result.stderr
    assert out.is_file() and "tiny" in result.stdout
    proto = onnx.load(str(out))
    onnx.checker.check_model(proto, full_check=True)
    assert next(o.version for o in proto.opset_import if o.domain in ("", "ai.onnx")) == 18
    assert [n.op_type for n in proto.graph.node].count("LRN") == 1
    assert not any(n.metadata_props for n in proto.graph.node), "no stack traces with this machine's paths"
    assert not list(tmp_path.glob(".*.tmp"))


@pytest.mark.parametrize(("args", "message"), [
    (["alexnet", "--onnx", "{tmp}/x.onnx", "--opset", "9"], "--opset 9: the exporter writes opsets 18 to"),
    (["alexnet", "--onnx", "{tmp}/missing/x.onnx"], "not a file in an existing folder"),
    (["alexnet", "--onnx", "{tmp}"], "not a file in an existing folder"),
    (["no_such_spec", "--onnx", "{tmp}/x.onnx"], "no_such_spec.yaml"),
    (["{tmp}/bad.yaml", "--onnx", "{tmp}/x.onnx"], "bad.yaml:"),
    (["{tmp}/even.yaml", "--onnx", "{tmp}/x.onnx"], "even.yaml:10:38: layer 'norm1': LRN size 4 is even"),
])
def test_bad_input_is_one_line(args, message, tmp_path, capsys):
    from alexnet.cli import main

    (tmp_path / "bad.yaml").write_text(TINY.format(name="bad", size=5).replace("out_channels: 8", "out_channels: 0"))
    (tmp_path / "even.yaml").write_text(TINY.format(name="even", size=4))
    (tmp_path / "x.onnx").write_text("keep me")
    assert main(["export", *(a.format(tmp=tmp_path) for a in args)]) == 2
    out, err = capsys.readouterr()
    assert out == "" and len(err.strip().splitlines()) == 1, err
    assert message in err
    assert (tmp_path / "x.onnx").read_text() == "keep me"


def test_bad_input_exits_2_without_traceback(tmp_path):
    (tmp_path / "even.yaml").write_text(TINY.format(name="even", size=4))
    result = run_python("-m", "alexnet", "export", str(tmp_path / "even.yaml"), "--onnx", str(tmp_path / "x.onnx"),
                        cwd=ROOT)
    assert result.returncode == 2 and result.stdout == ""
    assert result.stderr.startswith(f"{tmp_path / 'even.yaml'}:10:38: layer 'norm1': LRN size 4 is even.")
    assert len(result.stderr.strip().splitlines()) == 1 and not (tmp_path / "x.onnx").exists()
