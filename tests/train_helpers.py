"""Helpers of the training tests: tiny specs and recipes, JPEG folders, the command line in a subprocess."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

# One conv block and one linear layer on 12x12 grey images: trains in well under a second per epoch.
TINY_SPEC = """\
name: {name}
title: Tiny test net
class_name: Tiny
input: [{channels}, {size}, {size}]
num_classes: {classes}
init: {{weights: normal, std: 0.1, bias: 0.0}}
sections:
  features:
    - {{name: conv1, kind: conv, out_channels: {width}, kernel_size: 3, padding: 1}}
    - {{name: relu1, kind: relu}}
    - {{name: norm1, kind: lrn, size: 3, alpha: 1.0e-4, beta: 0.75, k: 2.0, convention: divided_by_n}}
    - {{name: pool1, kind: maxpool, kernel_size: 3, stride: 2}}
  flatten:
    - {{name: flatten, kind: flatten}}
  classifier:
{dropout}    - {{name: fc1, kind: linear, out_features: {classes}}}
"""
DROPOUT = "    - {name: drop1, kind: dropout, p: 0.5}\n"


def tiny_spec(folder: Path, name: str = "tiny", *, channels: int = 1, size: int = 12, classes: int = 10,
              width: int = 8, dropout: bool = False) -> Path:
    path = folder / f"{name}.yaml"
    path.write_text(TINY_SPEC.format(name=name, channels=channels, size=size, classes=classes, width=width,
                                     dropout=DROPOUT if dropout else ""))
    return path


def recipe_file(folder: Path, base: str, name: str = "test_recipe", **replace: str) -> Path:
    """A bundled recipe with some top-level lines replaced (``epochs="epochs: 2"``)."""
    lines = (ROOT / "spec" / "recipes" / f"{base}.yaml").read_text().splitlines()
    out = []
    for line in lines:
        key = line.split(":", 1)[0]
        if key == "name":
            line = f"name: {name}"
        elif key in replace:
            line = replace.pop(key)
        out.append(line)
    out += list(replace.values())
    path = folder / f"{name}.yaml"
    path.write_text("\n".join(out) + "\n")
    return path


def jpeg_folder(root: Path, classes: int = 3, train: int = 8, val: int = 4, size: tuple[int, int] = (40, 48)) -> Path:
    """ImageNet's layout, ``train/<class>/*.JPEG`` and ``val/<class>/*.JPEG``, with one colour per class."""
    import numpy as np
    from PIL import Image

    rng = np.random.default_rng(0)
    for split, count in (("train", train), ("val", val)):
        for c in range(classes):
            folder = root / split / f"n{c:08d}"
            folder.mkdir(parents=True, exist_ok=True)
            for i in range(count):
                base = np.array([80 * c % 256, 255 - 70 * c % 256, 40 * c], dtype=np.float64)
                pixels = np.clip(base + rng.normal(0, 30, (*size, 3)), 0, 255).astype(np.uint8)
                Image.fromarray(pixels).save(folder / f"img_{i}.JPEG", quality=90)
    return root


def env(**extra: str) -> dict[str, str]:
    """One intra-op thread per process: tests run two at a time on two cores."""
    base = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "RANK", "WORLD_SIZE", "LOCAL_RANK")}
    return {**base, "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1", "ALEXNET_DIST_TIMEOUT_S": "300", **extra}


def alexnet(*args: str | Path, timeout: float = 600, **extra: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "alexnet", *map(str, args)], cwd=ROOT, capture_output=True,
                          text=True, timeout=timeout, env=env(**extra))


def popen(*args: str | Path, **extra: str) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "alexnet", *map(str, args)], cwd=ROOT, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, env=env(**extra))


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def weights(checkpoint: Path) -> dict:
    import torch

    return torch.load(checkpoint, map_location="cpu", weights_only=True)["model"]


def assert_one_line_error(done: subprocess.CompletedProcess, *fragments: str) -> str:
    """Exit 2, exactly one line on stderr, no traceback, and the line says what is wrong."""
    lines = done.stderr.strip().splitlines()
    assert done.returncode == 2, (done.returncode, done.stderr[-2000:])
    assert len(lines) == 1 and "Traceback" not in done.stderr, done.stderr[-2000:]
    for fragment in fragments:
        assert fragment in lines[0], lines[0]
    return lines[0]
