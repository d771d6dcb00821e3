"""The layer kinds. Importing this package registers every kind in :attr:`Layer.registry`, in the
order of the modules below (the order the spec reference and error messages list them)."""

from . import weighted, activation, normalization, pooling, reshape, merge  # noqa: F401, I001  (registers the kinds)
from .base import Inferred, Layer, Shape, ShapeError
from .geometry import output_size
from .normalization import torch_alpha

KINDS = Layer.registry

__all__ = ["KINDS", "Inferred", "Layer", "Shape", "ShapeError", "output_size", "torch_alpha"]
