"""Find the torch module behind each analysis row, and record real output shapes with hooks."""

from __future__ import annotations

import torch
from torch import nn

from alexnet.analysis import Analysis


def module_of(model: nn.Module, section: str, index: int, section_length: int) -> nn.Module | None:
    """The module a row became: ``model.<section>[index]``, the section itself, or None (functional flatten)."""
    attr = getattr(model, section, None)
    if attr is None:
        return None
    return attr if section_length == 1 else attr[index]


def real_rows(model: nn.Module, analysis: Analysis, device: str = "meta") -> dict[str, tuple[int, tuple]]:
    """Per layer name: (parameter count from named_parameters, output shape without batch from a hook)."""
    spec = analysis.spec
    shapes: dict[str, tuple] = {}
    handles, counts = [], {}
    for row in analysis.rows:
        module = module_of(model, row.section, row.index, len(spec.sections[row.section]))
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
