"""torchvision's ImageNet weights in the generated ``alexnet_torchvision`` model.

``spec/alexnet_torchvision.yaml`` reproduces ``torchvision.models.alexnet`` down to its state_dict keys
and shapes, so torchvision's IMAGENET1K_V1 checkpoint (acc@1 56.522 on ImageNet-1K) loads unchanged::

    from alexnet.pretrained import load_torchvision_weights

    model = load_torchvision_weights("alexnet-owt-7be5be79.pth").eval()  # a file you downloaded
    model = load_torchvision_weights(download=True).eval()                # or let torchvision fetch it

Inputs must be preprocessed as torchvision's were: ``AlexNet_Weights.IMAGENET1K_V1.transforms()``
(resize 256, centre crop 224, ImageNet mean and std).
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path

import torch
from torch import nn

SPEC_NAME = "alexnet_torchvision"
CHECKPOINT_URL = "https://download.pytorch.org/models/alexnet-owt-7be5be79.pth"

StateDict = Mapping[str, torch.Tensor]


class WeightsMismatchError(ValueError):
    """The weights do not fit the model: missing, unexpected or differently shaped entries."""


def load_torchvision_weights(source: StateDict | str | os.PathLike | None = None, *, model: nn.Module | None = None,
                             download: bool = False, map_location: str | torch.device = "cpu") -> nn.Module:
    """Load torchvision AlexNet weights into ``model`` (default: a new generated ``alexnet_torchvision``).

    ``source`` is a state_dict, or the path of a checkpoint such as torchvision's
    ``alexnet-owt-7be5be79.pth`` (read with ``weights_only=True``: tensors only, no code). With no
    source, ``download=True`` asks torchvision's weights API for IMAGENET1K_V1 (network access, cached in
    ``$TORCH_HOME``); without it nothing is fetched and a ``ValueError`` says how to get the file.
    Keys and shapes are checked before anything is copied; a :class:`WeightsMismatchError` lists every
    difference. Returns the model, with its training mode unchanged (call ``.eval()`` for inference).
    """
    state = _state_dict(source, download, map_location)
    if model is None:
        from . import load_model

        model = load_model(SPEC_NAME)
    check_compatible(model, state)
    model.load_state_dict(state, strict=True)
    return model


def check_compatible(model: nn.Module, state: StateDict) -> None:
    """Raise :class:`WeightsMismatchError` unless ``state`` has exactly ``model``'s keys and shapes."""
    expected = {key: tuple(value.shape) for key, value in model.state_dict().items()}
    given = {key: tuple(value.shape) for key, value in state.items()}
    problems = [f"missing {key} {_fmt(shape)}" for key, shape in expected.items() if key not in given]
    problems += [f"unexpected {key} {_fmt(shape)}" for key, shape in given.items() if key not in expected]
    problems += [f"{key}: the model has {_fmt(shape)}, the weights {_fmt(given[key])}"
                 for key, shape in expected.items() if key in given and given[key] != shape]
    if problems:
        raise WeightsMismatchError(f"the weights do not fit {type(model).__name__} ({len(problems)} problem(s)): "
                                   + "; ".join(problems))


def _state_dict(source: StateDict | str | os.PathLike | None, download: bool,
                map_location: str | torch.device) -> StateDict:
    if source is None:
        if not download:
            raise ValueError("no weights given: pass a state_dict or the path of torchvision's checkpoint "
                             f"({CHECKPOINT_URL}), or download=True to let torchvision fetch it")
        from torchvision.models import AlexNet_Weights

        return AlexNet_Weights.IMAGENET1K_V1.get_state_dict(progress=True)
    if isinstance(source, (str, os.PathLike)):
        path = Path(source)
        if not path.is_file():
            raise FileNotFoundError(f"no checkpoint at {path} (torchvision's is {CHECKPOINT_URL})")
        source = torch.load(path, map_location=map_location, weights_only=True)
        if isinstance(source, Mapping) and isinstance(source.get("state_dict"), Mapping):
            source = source["state_dict"]  # a training checkpoint wrapping the weights
    if not isinstance(source, Mapping) or not all(isinstance(v, torch.Tensor) for v in source.values()):
        raise WeightsMismatchError(f"expected a state_dict (names -> tensors), got {type(source).__name__}")
    return source


def _fmt(shape: tuple[int, ...]) -> str:
    return "x".join(map(str, shape)) or "scalar"
