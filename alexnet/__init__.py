"""An executable AlexNet reference: specs in spec/ become models, tables and diagrams.

Importing this package does not import torch: ``alexnet.spec`` and ``alexnet.analysis`` are pure
Python. ``load_model`` imports torch when it is called.
"""

from __future__ import annotations

import importlib
import re
from pathlib import Path
from typing import Any

from .analysis import Analysis, analyse
from .source import Problem, SpecError
from .spec import Spec, load_spec

__all__ = ["Analysis", "Problem", "Spec", "SpecError", "analyse", "available_models", "load_model", "load_spec",
           "spec_path"]

SPEC_DIR = Path(__file__).resolve().parent.parent / "spec"


def available_models() -> list[str]:
    """Names of the generated models (one per spec in spec/)."""
    folder = Path(__file__).parent / "models"
    return sorted(p.stem for p in folder.glob("*.py") if p.stem != "__init__")


def spec_path(name: str) -> Path:
    """``spec/<name>.yaml`` of a bundled spec."""
    return SPEC_DIR / f"{name}.yaml"


def load_model(name: str, **kwargs: Any):
    """Build the generated model of spec ``name`` (e.g. ``"alexnet_torchvision"``) as a torch ``nn.Module``.

    ``kwargs`` go to the model's constructor: ``num_classes`` and, for specs with an init scheme,
    ``init_weights``.
    """
    if not re.fullmatch(r"[a-z][a-z0-9_]*", name) or name not in available_models():
        raise ValueError(f"no generated model {name!r}; available: {', '.join(available_models())} "
                         "(add spec/<name>.yaml and run `python -m tools.generate`)")
    module = importlib.import_module(f"alexnet.models.{name}")
    return getattr(module, module.__all__[0])(**kwargs)
