"""alexnet_mini learns scikit-learn's digits with the digits recipe (a loose bound; never a timing)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from alexnet.recipe import FASHION_MNIST_DIR
from tests.train_helpers import alexnet

CHANCE = 0.9  # ten classes


@pytest.mark.slow
def test_digits_training_lowers_the_loss_and_beats_chance(tmp_path):
    out = tmp_path / "run"
    done = alexnet("train", "alexnet_mini", "--recipe", "digits", "--out", out, "--device", "cpu")
    assert done.returncode == 0, done.stderr[-3000:]
    metrics = [json.loads(line) for line in (out / "metrics.jsonl").read_text().splitlines()]
    assert [m["epoch"] for m in metrics] == [1, 2, 3]
    assert metrics[-1]["train_loss"] < 0.8 * metrics[0]["train_loss"]
    assert metrics[-1]["val_top1_error"] < 0.6 < CHANCE, metrics[-1]
    assert all(0 <= m[k] <= 1 for m in metrics for k in ("val_top1_error", "val_top5_error"))

    done = alexnet("evaluate", "alexnet_mini", "--weights", out / "checkpoint.pt", "--json")
    assert done.returncode == 0, done.stderr[-3000:]
    result = json.loads(done.stdout)
    assert result["images"] == 300
    assert result["top1_error"] == pytest.approx(metrics[-1]["val_top1_error"])


@pytest.mark.slow
@pytest.mark.skipif(not Path(FASHION_MNIST_DIR, "train-images-idx3-ubyte.gz").exists(),
                    reason="dataset-fashion-mnist is not installed (make fashion-mnist)")
def test_the_built_in_default_trains_from_a_spec_path(tmp_path):
    out = tmp_path / "run"
    done = alexnet("train", "spec/alexnet_mini.yaml", "--recipe", "fashion_mnist", "--epochs", "1",
                   "--train-subset", "512", "--out", out, "--device", "cpu")
    assert done.returncode == 0, done.stderr[-3000:]
    metrics = json.loads((out / "metrics.jsonl").read_text())
    assert metrics["train_images"] == 512 and metrics["val_images"] == 10_000
    assert metrics["lr"] == 0.01 and 0 <= metrics["val_top1_error"] <= 1
