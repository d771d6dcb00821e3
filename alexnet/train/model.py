"""The model to train: the generated module of a bundled spec, or the same code rendered from any spec file.

Either way the code comes from one renderer (``tools.render_python``), so a spec outside ``spec/`` trains the
exact module the generator would write for it, with the spec's init (``reset_parameters``).
"""

from __future__ import annotations

import hashlib
import types
from pathlib import Path

import torch

from alexnet import available_models, load_model
from alexnet.analysis import Analysis

from . import TrainError


def model_source(analysis: Analysis) -> str:
    from tools.render_python import render_model

    return render_model(analysis)


def spec_digest(analysis: Analysis) -> str:
    """Identifies the network's code (not its file's comments): the hash of the rendered model."""
    return hashlib.sha256(model_source(analysis).encode()).hexdigest()[:16]


def build_model(analysis: Analysis) -> torch.nn.Module:
    """A fresh module with the spec's init (seed torch first for reproducible weights)."""
    spec = analysis.spec
    source = model_source(analysis)
    bundled = Path(spec.file).name == f"{spec.name}.yaml" and spec.name in available_models()
    generated = Path(__file__).resolve().parents[1] / "models" / f"{spec.name}.py"
    if bundled and generated.read_text() == source:  # the committed module is this spec's, unchanged
        return load_model(spec.name, num_classes=spec.num_classes)
    module = types.ModuleType(f"alexnet_spec_{spec.name}")
    exec(compile(source, f"<model rendered from {spec.file}>", "exec"), module.__dict__)  # our own renderer's code
    return getattr(module, module.__all__[0])()


def check_state_dict(model: torch.nn.Module, state: dict, where: str) -> None:
    """Refuse weights that do not fit ``model``, naming the keys that differ."""
    own = {k: tuple(v.shape) for k, v in model.state_dict().items()}
    theirs = {k: tuple(v.shape) for k, v in state.items() if hasattr(v, "shape")}
    missing = [k for k in own if k not in theirs]
    extra = [k for k in theirs if k not in own]
    shapes = [f"{k} {list(theirs[k])} vs {list(own[k])}" for k in own if k in theirs and theirs[k] != own[k]]
    if missing or extra or shapes:
        def few(items: list[str]) -> str:
            return ", ".join(items[:4]) + (f" and {len(items) - 4} more" if len(items) > 4 else "")
        parts = ([f"missing {few(missing)}"] if missing else []) + ([f"unexpected {few(extra)}"] if extra else []) \
            + ([f"shape {few(shapes)}"] if shapes else [])
        raise TrainError(f"{where}: weights of another network: " + "; ".join(parts))
