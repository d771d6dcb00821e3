"""An executable AlexNet reference: specs in spec/ become models, tables and diagrams.

Importing this package does not import torch: ``alexnet.spec`` and ``alexnet.analysis`` are pure
Python. ``load_model`` imports torch when it is called.
"""

from __future__ import annotations

import importlib
import inspect
import re
from pathlib import Path
from typing import Any

from .analysis import Analysis, analyse
from .source import Problem, SpecError
from .spec import Spec, load_spec
from .validation import validate_file

__all__ = [
    "Analysis",
    "Problem",
    "Spec",
    "SpecError",
    "analyse",
    "available_models",
    "build_model",
    "load_model",
    "load_spec",
    "resolve_spec",
    "spec_path",
    "validate_file",
]

_PACKAGE = Path(__file__).resolve().parent
# An installed wheel carries the bundled specs as alexnet/specs/; in a checkout they are spec/ beside the package.
SPEC_DIR = _PACKAGE / "specs" if (_PACKAGE / "specs").is_dir() else _PACKAGE.parent / "spec"


def available_models() -> list[str]:
    """Names of the generated models (one per spec in spec/)."""
    folder = Path(__file__).parent / "models"
    return sorted(p.stem for p in folder.glob("*.py") if p.stem != "__init__")


def spec_path(name: str) -> Path:
    """``spec/<name>.yaml`` of a bundled spec."""
    return SPEC_DIR / f"{name}.yaml"


def resolve_spec(name_or_path: str | Path) -> Path:
    """A spec file given as a path, or as the name of a bundled spec (``alexnet``)."""
    path = Path(name_or_path)
    if path.suffix or path.is_file() or not re.fullmatch(r"[a-z][a-z0-9_]*", str(name_or_path)):
        return path
    return spec_path(str(name_or_path))


def load_model(name: str, **kwargs: Any):
    """Build the generated model of spec ``name`` (e.g. ``"alexnet_torchvision"``) as a torch ``nn.Module``.

    ``kwargs`` go to the model's constructor: ``num_classes`` and, for specs with an init scheme,
    ``init_weights``.
    """
    if not re.fullmatch(r"[a-z][a-z0-9_]*", name) or name not in available_models():
        raise ValueError(f"no generated model {name!r}; available: {', '.join(available_models())} "
                         "(add spec/<name>.yaml and run `python -m tools.generate`)")
    module = importlib.import_module(f"alexnet.models.{name}")
    return build_model(getattr(module, module.__all__[0]), **kwargs)


def build_model(model_class: type, **kwargs: Any):
    """Instantiate a generated model class, saying plainly when ``num_classes`` does not apply to it."""
    if "num_classes" in kwargs and "num_classes" not in inspect.signature(model_class).parameters:
        raise ValueError(f"{model_class.__name__}: num_classes cannot be changed: no last convolution or linear "
                         "layer alone sets the output size (a later layer changes the channel count, a flatten "
                         "reads maps larger than 1x1, or the last convolution has groups)")
    return model_class(**kwargs)
