"""`python -m alexnet train | evaluate | lighting` end to end, and bad input: exit 2, one line, nothing lost."""

from __future__ import annotations

import json

import pytest
import yaml

from tests.train_helpers import alexnet, assert_one_line_error, jpeg_folder, recipe_file, tiny_spec

# The paper's recipe shrunk to a 3x32x32 net: resize 36, centre 36x36, random 32 crops, flips, lighting, ten crops.
PAPER_SMALL = {"epochs": "epochs: 1", "batch_size": "batch_size: 6", "data": "data: {source: imagenet_folder}",
               "augment": "augment: {resize: 36, center_crop: 36, crop: random, flip: true, lighting: {alphastd: 0.1}}",
               "evaluation": "evaluation: {resize: 36, center_crop: 36, ten_crop: true}"}


def _paper_small(folder, **more):
    lines = {**PAPER_SMALL, **more}
    text = recipe_file(folder, "paper", "paper_small", **lines).read_text()
    # The paper's augment block spans several lines: keep only the one-line replacement.
    kept = [line for line in text.splitlines() if not line.startswith("  ")]
    path = folder / "paper_small.yaml"
    path.write_text("\n".join(kept) + "\n")
    return path


@pytest.fixture(scope="module")
def jpegs(tmp_path_factory):
    return jpeg_folder(tmp_path_factory.mktemp("imagenet"))


@pytest.mark.slow
def test_imagenet_folder_train_one_epoch_then_evaluate_ten_crops(tmp_path, jpegs):
    spec = tiny_spec(tmp_path, "tiny_rgb", channels=3, size=32, classes=3)
    recipe = _paper_small(tmp_path)
    out = tmp_path / "run"
    done = alexnet("train", spec, "--recipe", recipe, "--data", jpegs, "--out", out)
    assert done.returncode == 0, done.stderr[-3000:]
    lines = (out / "metrics.jsonl").read_text().splitlines()
    metrics = json.loads(lines[0])
    assert len(lines) == 1
    for key in ("epoch", "train_loss", "val_loss", "val_top1_error", "val_top5_error", "lr", "images_per_s"):
        assert key in metrics, key
    assert metrics["epoch"] == 1 and metrics["lr"] == 0.01 and metrics["train_images"] == 24
    assert 0 <= metrics["ten_crop_top1_error"] <= 1 and metrics["val_top5_error"] == 0  # 3 classes: top-5 always right

    done = alexnet("evaluate", spec, "--weights", out / "checkpoint.pt", "--data", jpegs, "--ten-crop", "--json")
    assert done.returncode == 0, done.stderr[-3000:]
    result = json.loads(done.stdout)
    assert set(result) == {"top1_error", "top5_error", "images"}
    assert result["images"] == 12 and 0 <= result["top1_error"] <= 1
    assert result["top1_error"] == pytest.approx(metrics["ten_crop_top1_error"])


@pytest.mark.slow
def test_unreadable_image_is_skipped_and_counted_or_stops(tmp_path, jpegs):
    import shutil

    data = tmp_path / "data"
    shutil.copytree(jpegs, data)
    (data / "train" / "n00000000" / "broken.JPEG").write_bytes(b"not a jpeg")
    spec = tiny_spec(tmp_path, "tiny_rgb", channels=3, size=32, classes=3)
    skip = _paper_small(tmp_path, data="data: {source: imagenet_folder, unreadable: skip}",
                        evaluation="evaluation: {resize: 36, center_crop: 36, ten_crop: false}")
    done = alexnet("train", spec, "--recipe", skip, "--data", data, "--out", tmp_path / "skip", "--batch-size", "5")
    assert done.returncode == 0, done.stderr[-3000:]
    assert json.loads((tmp_path / "skip" / "metrics.jsonl").read_text())["unreadable_skipped"] == 1

    stop = _paper_small(tmp_path, data="data: {source: imagenet_folder, unreadable: stop}", batch_size="batch_size: 25")
    done = alexnet("train", spec, "--recipe", stop, "--data", data, "--out", tmp_path / "stop")
    assert_one_line_error(done, "broken.JPEG", "cannot read")


@pytest.mark.slow
def test_lighting_command_prints_recipe_yaml(jpegs):
    done = alexnet("lighting", "--data", jpegs, "--max-images", "6")
    assert done.returncode == 0, done.stderr[-2000:]
    values = yaml.safe_load(done.stdout)
    assert len(values["lighting"]["eigval"]) == 3 and len(values["lighting"]["eigvec"]) == 3
    assert values["lighting"]["eigval"] == sorted(values["lighting"]["eigval"], reverse=True)
    assert all(0 < m < 1 for m in values["mean"])


@pytest.mark.slow
def test_bad_inputs_exit_2_with_one_line(tmp_path, jpegs):
    spec = tiny_spec(tmp_path, "tiny_rgb", channels=3, size=32, classes=3)
    recipe = _paper_small(tmp_path)
    (tmp_path / "empty" / "train").mkdir(parents=True)
    (tmp_path / "empty" / "val").mkdir(parents=True)
    bad_recipe = tmp_path / "bad_recipe.yaml"
    bad_recipe.write_text(recipe.read_text().replace("epochs: 1", "epocs: 1"))
    ten = tiny_spec(tmp_path, "tiny_ten", channels=3, size=32, classes=10)
    cases = [
        (("train", spec, "--recipe", recipe, "--data", tmp_path / "missing"), ("missing", "no such folder")),
        (("train", spec, "--recipe", recipe, "--data", tmp_path / "empty"), ("empty",)),
        (("train", ten, "--recipe", recipe, "--data", jpegs), ("3 classes", "num_classes 10")),
        (("train", spec, "--recipe", bad_recipe, "--data", jpegs), ("bad_recipe.yaml:", "unknown key 'epocs'")),
        (("train", spec, "--recipe", "nonesuch", "--data", jpegs), ("no bundled recipe",)),
        (("train", "nonesuch", "--recipe", "digits"), ("no bundled spec",)),
        (("train", spec, "--recipe", "paper"), ("--data",)),
        (("train", spec, "--recipe", recipe, "--data", jpegs, "--batch-size", "0"), ("--batch-size must be positive",)),
        (("evaluate", spec, "--weights", tmp_path / "none.pt", "--recipe", recipe), ("no such file",)),
    ]
    for args, fragments in cases:
        assert_one_line_error(alexnet(*args, "--out", tmp_path / "out") if args[0] == "train" else alexnet(*args),
                              *fragments)
    assert not (tmp_path / "out").exists()  # nothing was written for any of them


@pytest.mark.slow
def test_checkpoint_of_another_spec_is_refused_naming_the_keys(tmp_path):
    small, wide = tiny_spec(tmp_path, "small"), tiny_spec(tmp_path, "wide", width=16)
    out = tmp_path / "run"
    args = ("--recipe", "digits", "--epochs", "1", "--train-subset", "64", "--device", "cpu", "--out", out)
    assert alexnet("train", small, *args).returncode == 0
    (tmp_path / "garbage.pt").write_bytes(b"garbage")
    before = {p.name: p.read_bytes() for p in out.iterdir()}
    line = assert_one_line_error(alexnet("train", wide, *args, "--epochs", "2", "--resume"),
                                 "checkpoint.pt", "features.0.weight", "[8, 1, 3, 3] vs [16, 1, 3, 3]")
    assert "'small'" in line
    assert {p.name: p.read_bytes() for p in out.iterdir()} == before  # the checkpoint is untouched
    assert_one_line_error(alexnet("evaluate", wide, "--weights", out / "checkpoint.pt"), "features.0.weight")
    assert_one_line_error(alexnet("evaluate", small, "--weights", tmp_path / "garbage.pt", "--recipe", "digits"),
                          "garbage.pt", "cannot read")
