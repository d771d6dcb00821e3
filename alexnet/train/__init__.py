"""Training and evaluation from a spec and a recipe (``python -m alexnet train|evaluate|lighting``).

Importing this package does not import torch: the command line's analysis commands stay torch-free, and the
training modules (``data``, ``optim``, ``loop``) import it themselves.
"""

from __future__ import annotations


class TrainError(Exception):
    """Bad input for training or evaluation: printed as one line, exit status 2, nothing written."""
