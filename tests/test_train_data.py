"""Recipes validate like specs; the paper's ten crops and PCA lighting noise; the data sets' checks."""

from __future__ import annotations

import math

import pytest
import torch
from torchvision.transforms import v2

from alexnet.recipe import IMAGENET_EIGVAL, IMAGENET_EIGVEC, bundled_recipes, load_recipe
from alexnet.source import SpecError
from alexnet.train import TrainError, data
from tests.train_helpers import ROOT


def test_bundled_recipes_load_and_name_their_files():
    names = bundled_recipes()
    assert {"paper", "torchvision", "fashion_mnist", "digits"} <= set(names)
    for name in names:
        assert load_recipe(name).name == name


def test_paper_recipe_says_what_the_paper_says():
    r = load_recipe("paper")
    assert (r.optimizer.kind, r.optimizer.lr, r.optimizer.momentum, r.optimizer.weight_decay) == \
        ("paper_sgd", 0.01, 0.9, 0.0005)
    assert (r.batch_size, r.epochs, r.schedule.kind, r.schedule.factor, r.schedule.max_reductions) == \
        (128, 90, "plateau", 0.1, 3)
    assert (r.augment.resize, r.augment.center_crop, r.augment.crop, r.augment.flip) == (256, 256, "random", True)
    assert r.augment.lighting.alphastd == 0.1 and r.augment.lighting.eigval == IMAGENET_EIGVAL
    assert r.evaluation.ten_crop


@pytest.mark.parametrize(("text", "where", "words"), [
    ("optimizer: {kind: paper_sgd, lr: 0.01, momentun: 0.9}", ":6:", "did you mean 'momentum'"),
    ("optimizer: {kind: adam, lr: 0.01}", ":6:", "must be one of"),
    ("optimizer: {kind: sgd, lr: -1}", ":6:", "must be greater than 0"),
])
def test_bad_recipe_is_located(tmp_path, text, where, words):
    path = tmp_path / "bad.yaml"
    path.write_text("name: bad\ntitle: Bad\ndata: {source: digits}\nepochs: 1\nbatch_size: 8\n" + text +
                    "\nschedule: {kind: constant}\n")
    with pytest.raises(SpecError) as info:
        load_recipe(path)
    message = str(info.value.problems[0])
    assert message.startswith(str(path) + where) and words in message, message


def test_step_schedule_needs_a_step_size(tmp_path):
    path = tmp_path / "bad.yaml"
    path.write_text("name: bad\ntitle: Bad\ndata: {source: digits}\nepochs: 1\nbatch_size: 8\n"
                    "optimizer: {kind: sgd, lr: 0.1}\nschedule: {kind: step}\n")
    with pytest.raises(SpecError, match="step_size"):
        load_recipe(path)


def test_ten_crops_are_the_papers_ten():
    image = torch.arange(3 * 7 * 9, dtype=torch.float32).view(3, 7, 9)
    crops = data.ten_crops(image, (5, 5))
    corners = [image[:, :5, :5], image[:, :5, 4:], image[:, 2:, :5], image[:, 2:, 4:], image[:, 1:6, 2:7]]
    expected = corners + [c.flip(-1) for c in corners]
    assert crops.shape == (10, 3, 5, 5)
    for got, want in zip(crops, expected, strict=True):
        assert torch.equal(got, want)
    # torchvision's TenCrop crops the flipped image, so its last five come in another order: the same ten patches.
    theirs = v2.TenCrop(5)(image)
    assert sorted(map(_key, crops)) == sorted(map(_key, theirs))


def _key(t: torch.Tensor) -> tuple:
    return tuple(t.flatten().tolist())


def test_pca_lighting_noise_has_the_recipes_statistics():
    torch.manual_seed(0)
    lighting = data.PCALighting(load_recipe("paper").augment.lighting)
    draws = 20_000
    shifts = torch.stack([lighting(torch.zeros(3, 1, 1)).view(3) for _ in range(draws)])
    eigvec, eigval = torch.tensor(IMAGENET_EIGVEC), torch.tensor(IMAGENET_EIGVAL)
    alpha = (shifts @ torch.linalg.inv(eigvec).T) / eigval  # back from RGB shifts to the drawn alphas
    tolerance = 4 / math.sqrt(draws)  # a few standard errors
    assert (alpha.mean(0).abs() < 0.1 * tolerance).all(), alpha.mean(0)  # mean 0
    assert ((alpha.std(0) - 0.1).abs() < 0.1 * tolerance).all(), alpha.std(0)  # standard deviation alphastd
    # The same shift for every pixel of one image, a different one per image.
    image = lighting(torch.zeros(3, 4, 4))
    assert torch.allclose(image, image[:, :1, :1].expand_as(image))


def test_lighting_statistics_recover_a_known_covariance():
    torch.manual_seed(1)
    basis = torch.linalg.qr(torch.randn(3, 3, dtype=torch.float64)).Q
    values = torch.tensor([0.04, 0.01, 0.0025], dtype=torch.float64)
    pixels = 0.5 + (torch.randn(200_000, 3, dtype=torch.float64) * values.sqrt()) @ basis.T
    images = pixels.T.reshape(3, 400, 500).split(100, dim=1)  # four images
    stats = data.lighting_statistics(images, max_pixels_per_image=10**9)
    assert stats["eigval"] == pytest.approx(values.tolist(), rel=0.03)
    got = torch.tensor(stats["eigvec"])
    assert torch.allclose((got.T @ basis.float()).abs(), torch.eye(3), atol=0.03)


def test_fashion_mnist_missing_names_the_debian_package(tmp_path, monkeypatch):
    monkeypatch.setattr(data, "FASHION_MNIST_DIR", str(tmp_path))
    with pytest.raises(TrainError, match="apt-get install dataset-fashion-mnist"):
        data.fashion_mnist("train", None)


@pytest.mark.skipif(not (ROOT / "spec").exists() or not data.Path(data.FASHION_MNIST_DIR).exists(),
                    reason="dataset-fashion-mnist is not installed (make fashion-mnist)")
def test_fashion_mnist_reads_debians_files():
    images, labels = data.fashion_mnist("val", None)
    assert images.shape == (10_000, 1, 28, 28) and images.dtype == torch.uint8
    assert sorted(set(labels.tolist())) == list(range(10))
