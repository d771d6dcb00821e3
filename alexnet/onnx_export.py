"""``python -m alexnet export SPEC --onnx FILE [--opset N]``: a spec's model as an ONNX file.

The export goes through ``torch.onnx.export(dynamo=True)``, the exporter PyTorch maintains (the TorchScript
one warns that it is deprecated). Our LRN layer would be traced into its arithmetic (unfold, sum, roots), so
for the export each :class:`~alexnet.layers.LocalResponseNorm` is swapped for a module that calls one opaque
custom op, ``alexnet::lrn``, and a custom translation writes that op as ONNX's ``LRN`` node. ONNX divides
alpha by ``size`` as PyTorch does, so the layer's PyTorch alpha (the spec's, converted by ``torch_alpha``)
goes in unchanged.
"""

from __future__ import annotations

import contextlib
import io
from pathlib import Path

import torch
from torch import nn

from .analysis import Analysis
from .interchange import EVEN_LRN
from .layers import LocalResponseNorm, local_response_norm, torch_alpha


class ExportError(Exception):
    """The export cannot be done as asked; the message is one line for the user."""


@torch.library.custom_op("alexnet::lrn", mutates_args=())
def _lrn_op(x: torch.Tensor, size: int, alpha: float, beta: float, k: float) -> torch.Tensor:
    """LRN with PyTorch's alpha (divided by ``size`` inside), as one node of the exported graph."""
    return local_response_norm(x, size, alpha, beta, k)


@_lrn_op.register_fake
def _(x: torch.Tensor, size: int, alpha: float, beta: float, k: float) -> torch.Tensor:
    return torch.empty_like(x)


def _lrn_to_onnx(x, size: int, alpha: float, beta: float, k: float):
    """The ONNX node of ``alexnet::lrn``."""
    from onnxscript import opset18 as op

    return op.LRN(x, size=size, alpha=alpha, beta=beta, bias=k)


class _ExportLRN(nn.Module):
    def __init__(self, layer: LocalResponseNorm) -> None:
        super().__init__()
        self.size, self.beta, self.k = layer.size, layer.beta, layer.k
        self.alpha = torch_alpha(layer.size, layer.alpha, layer.convention)  # what ONNX's LRN takes, as PyTorch

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.ops.alexnet.lrn(x, self.size, self.alpha, self.beta, self.k)


def build_model(analysis: Analysis) -> nn.Module:
    """The spec's module (the generated one of a bundled spec, else the code the generator would write),
    initialised from seed 0 so that the same spec gives the same file."""
    from .train.model import build_model as spec_model

    with torch.random.fork_rng():
        torch.manual_seed(0)
        return spec_model(analysis)


def exportable(model: nn.Module) -> nn.Module:
    """``model`` in eval mode with every LRN layer replaced by its one-node export twin (in place)."""
    for name, child in list(model.named_modules()):
        if isinstance(child, LocalResponseNorm):
            if child.size % 2 == 0:
                raise ExportError(f"{name}: LRN size {child.size} is even. {EVEN_LRN}")
            model.set_submodule(name, _ExportLRN(child))
    return model.eval()


def export_onnx(model: nn.Module, input_shape: tuple[int, ...], out: str | Path, opset: int | None = None) -> None:
    """Write ``model`` (eval mode, any batch size) to ``out`` as one self-contained ONNX file. Its LRN layers
    are swapped in place for their export twins, which compute the same."""
    example = torch.zeros(2, *input_shape)  # only its shape matters: the trace has no data-dependent branch
    batch = torch.export.Dim("batch", min=1)
    chatter = io.StringIO()
    with contextlib.redirect_stdout(chatter):  # the exporter prints its progress; stdout stays quiet
        program = torch.onnx.export(exportable(model), (example,), dynamo=True, opset_version=opset,
                                    input_names=["input"], output_names=["output"],
                                    dynamic_shapes=({0: batch},), external_data=False,
                                    custom_translation_table={torch.ops.alexnet.lrn.default: _lrn_to_onnx})
    # The exporter notes on every node the Python stack that made it (absolute paths of this machine); the
    # file should depend on the spec alone.
    for node in program.model.graph.all_nodes():
        node.metadata_props.clear()
    program.save(str(out), external_data=False)
