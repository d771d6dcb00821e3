"""Find the torch module behind each analysis row, and record real output shapes with hooks."""

from __future__ import annotations

import torch
from torch import nn

from alexnet.analysis import Analysis


def module_of(model: nn.Module, row) -> nn.Module | None:
    """The module a row became, by its path (``features.3``, ``layer1.0.conv1``); None for a layer written
    into forward (add, concat, a section's lone flatten)."""
    if not row.path or (len(row.path) == 1 and row.layer.functional):
        return None
    return model.get_submodule(".".join(map(str, row.path)))


def real_rows(model: nn.Module, analysis: Analysis, device: str = "meta") -> dict[str, tuple[int, tuple]]:
    """Per layer name: (parameter count from named_parameters, output shape without batch from a hook)."""
    shapes: dict[str, tuple] = {}
    handles, counts = [], {}
    for row in analysis.rows:
        module = module_of(model, row)
        if module is None:
            continue
        counts[row.name] = sum(p.numel() for _, p in module.named_parameters())

        def hook(_module, _inputs, output, name=row.name):
            shapes[name] = tuple(output.shape[1:])

        handles.append(module.register_forward_hook(hook))
    try:
        model.eval()
        with torch.no_grad():
            model(torch.zeros(2, *analysis.input, device=device))
    finally:
        for handle in handles:
            handle.remove()
    return {name: (counts[name], shapes[name]) for name in counts}
