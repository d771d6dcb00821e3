"""Experiments (spec/experiments): validation, staleness of the committed results, statistics, and the harness
end to end on a tiny configuration (the digits, two seeds, one epoch)."""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest

from alexnet.experiment import (
    RESULTS_DIR,
    Experiment,
    bundled_experiments,
    load_experiment,
    stale_reasons,
    summarize,
)
from alexnet.source import SpecError
from tests.conftest import ROOT, run_python

TINY_RECIPE = """\
name: tiny_digits
title: Tiny digits
data: {source: digits, train_subset: 256, val_subset: 100}
epochs: 1
batch_size: 32
optimizer: {kind: sgd, lr: 0.02, momentum: 0.9}
schedule: {kind: constant}
augment: {pad: 1, crop: random, flip: false, mean: [0.3], std: [0.4]}
"""

TINY_EXPERIMENT = """\
name: tiny
title: Tiny LRN experiment
question: Does LRN help on eight steps of the digits?
base: alexnet_mini
recipe: recipe.yaml
seeds: [3, 7]
train_eval_subset: 64
curve_every: 2
variants:
  - name: lrn
    title: with LRN
  - name: no_lrn
    title: without LRN
    edits:
      - {kind: lrn, remove: true}
curves: [train_running_error, val_top1_error]
claims:
  - measure: final_val_top1_error
    variant: lrn
    against: no_lrn
    paper: 1.4 points
    paper_effect: 1.4
  - measure: epochs_to_train_error
    threshold: 0.5
    variant: lrn
    against: no_lrn
activations: {variant: lrn, images: 20}
"""


def _results(name: str) -> dict | None:
    path = RESULTS_DIR / f"{name}.json"
    return json.loads(path.read_text()) if path.exists() else None


# --- the committed results --------------------------------------------------------------------------------------

def test_the_bundled_experiments_cover_the_papers_four_claims():
    assert {"relu_tanh", "dropout", "lrn", "pooling"} <= set(bundled_experiments())
    for name in bundled_experiments():
        loaded = load_experiment(name)
        assert len(loaded.experiment.seeds) >= 5, f"{name}: fewer than 5 seeds"
        assert loaded.base.name == "alexnet_mini"


@pytest.mark.parametrize("name", bundled_experiments())
def test_committed_results_were_run_from_the_current_spec_variants_and_recipe(name):
    """Fails when an experiment's spec, recipe, variant or seeds changed and `make experiments` was not re-run."""
    reasons = stale_reasons(load_experiment(name), _results(name))
    assert not reasons, f"docs/generated/experiments/{name}.json is stale: " + "; ".join(reasons) + \
        " (run `make experiments` and commit the results)"


def test_every_results_file_belongs_to_an_experiment_and_has_provenance():
    for path in sorted(RESULTS_DIR.glob("*.json")):
        assert path.stem in bundled_experiments(), f"{path} has no spec/experiments/{path.stem}.yaml"
        data = json.loads(path.read_text())
        prov = data["provenance"]
        assert prov["torch"] and prov["date"] and prov["machine"]["cores"]
        assert set(prov["hashes"]) == {"spec", "recipe", "variants", "setting"}
        for variant in data["variants"]:
            assert [run["seed"] for run in variant["runs"]] == variant["seeds"]


def test_a_changed_variant_or_recipe_makes_the_results_stale(tmp_path: Path):
    name = "pooling"
    results = _results(name)
    text = (ROOT / "spec/experiments" / f"{name}.yaml").read_text()
    edited = tmp_path / f"{name}.yaml"
    edited.write_text(text.replace("kernel_size: 2", "kernel_size: 4"))
    assert any("non_overlapping" in r for r in stale_reasons(load_experiment(edited), results))
    recipe = tmp_path / "ablation.yaml"
    recipe.write_text((ROOT / "spec/recipes/ablation.yaml").read_text().replace("epochs: ", "epochs: 1"))
    edited.write_text(text.replace("recipe: ablation", "recipe: ablation.yaml"))
    assert any("recipe changed" in r for r in stale_reasons(load_experiment(edited), results))
    # Prose is not part of the hash: rewording the question needs no re-run.
    edited.write_text(text.replace("Does overlapping", "Do overlapping"))
    assert stale_reasons(load_experiment(edited), results) == stale_reasons(load_experiment(name), results)


# --- validation ---------------------------------------------------------------------------------------------

@pytest.mark.parametrize(("change", "expected"), [
    (("seeds: [3, 7]", "seeds: [3, 7]\nseedz: [1]"), "7:1: unknown key 'seedz' (did you mean 'seeds'?)"),
    (("{kind: lrn, remove: true}", "{kind: lrn, remove: true, set: {size: 3}}"), "15:9: variants[1].edits[0]: an edit does"),
    (("{kind: lrn, remove: true}", "{layer: norm9, remove: true}"), "the base spec has no layer 'norm9'"),
    (("{kind: lrn, remove: true}", "{kind: conv, set: {kernel_size: 0}}"), "gives a spec that is not valid"),
    (("    against: no_lrn\n    paper:", "    against: nope\n    paper:"), "claims[0].against: no variant 'nope'"),
    (("base: alexnet_mini", "base: missing_spec.yaml"), "4:7: base: no spec 'missing_spec.yaml'"),
    (("threshold: 0.5", "threshold: 1.5"), "claims[1].threshold: must be less than 1.0, got 1.5"),
])
def test_bad_experiments_are_reported_at_their_line_and_column(tmp_path: Path, change, expected):
    (tmp_path / "recipe.yaml").write_text(TINY_RECIPE)
    path = tmp_path / "tiny.yaml"
    assert change[0] in TINY_EXPERIMENT
    path.write_text(TINY_EXPERIMENT.replace(*change))
    with pytest.raises(SpecError) as info:
        load_experiment(path, "tiny.yaml")
    assert any(expected in str(p) for p in info.value.problems), [str(p) for p in info.value.problems]
    assert all(str(p).startswith("tiny.yaml:") for p in info.value.problems)


def test_the_command_exits_2_with_one_line_per_problem(tmp_path: Path):
    path = tmp_path / "bad.yaml"
    path.write_text("name: bad\ntitle: Bad\nepochs: 3\n")
    done = run_python("-m", "alexnet.train.experiments", str(path), "--out", str(tmp_path / "out"))
    assert done.returncode == 2
    assert "Traceback" not in done.stderr
    assert "bad.yaml:3:1: unknown key 'epochs'" in done.stderr
    assert not (tmp_path / "out").exists()


def test_schema_of_every_edit_names_one_selector_and_one_action():
    with pytest.raises(ValueError):
        Experiment.model_validate({"name": "x", "title": "x", "base": "alexnet_mini", "recipe": "digits",
                                   "seeds": [0], "curves": ["val_top1_error"],
                                   "variants": [{"name": "a", "title": "a"},
                                                {"name": "b", "title": "b", "edits": [{"remove": True}]}],
                                   "claims": [{"measure": "final_gap", "variant": "a", "against": "b"}]})


# --- statistics ---------------------------------------------------------------------------------------------

def _fake(values_a: list[float], values_b: list[float]) -> tuple[Experiment, dict]:
    experiment = Experiment.model_validate({
        "name": "fake", "title": "Fake", "base": "alexnet_mini", "recipe": "digits", "seeds": list(range(len(values_a))),
        "curves": ["val_top1_error"], "variants": [{"name": "a", "title": "a"}, {"name": "b", "title": "b"}],
        "claims": [{"measure": "final_val_top1_error", "variant": "a", "against": "b"}]})

    def runs(values):
        return [{"seed": i, "epochs": [{"val_top1_error": v / 100}], "steps": []} for i, v in enumerate(values)]
    return experiment, {"variants": [{"name": "a", "runs": runs(values_a)}, {"name": "b", "runs": runs(values_b)}]}


def test_paired_difference_confidence_interval_and_verdicts():
    experiment, results = _fake([10, 10, 10, 10, 10], [11, 12, 13, 14, 15])
    s = summarize(experiment, results, experiment.claims[0])
    half = 2.7764451 * math.sqrt(2.5) / math.sqrt(5)  # t(0.975, 4) * sd / sqrt(n)
    assert s.diff_mean == pytest.approx(3.0)
    assert (s.diff_low, s.diff_high) == (pytest.approx(3.0 - half), pytest.approx(3.0 + half))
    assert s.verdict == "held"
    experiment, results = _fake([11, 12, 13, 14, 15], [10, 10, 10, 10, 10])
    assert summarize(experiment, results, experiment.claims[0]).verdict == "did not hold"
    experiment, results = _fake([10, 12, 10, 12, 10], [12, 10, 12, 10, 11])
    assert summarize(experiment, results, experiment.claims[0]).verdict == "within noise"


# --- the harness end to end ---------------------------------------------------------------------------------

def test_harness_end_to_end_on_the_digits_and_the_page_renders_it(tmp_path: Path):
    from alexnet.train.experiments import run_all
    from tools.render_experiments import _figure, _plot_activations, render_activations, render_experiment

    (tmp_path / "recipe.yaml").write_text(TINY_RECIPE)
    (tmp_path / "tiny.yaml").write_text(TINY_EXPERIMENT)
    loaded = load_experiment(tmp_path / "tiny.yaml")
    lines: list[str] = []
    [written] = run_all([loaded], tmp_path / "out", jobs=1, log=lines.append)
    results = json.loads(written.read_text())
    assert lines[0].startswith("4 runs in 1 experiment(s), 4 distinct")
    assert stale_reasons(loaded, results) == []
    assert [v["seeds"] for v in results["variants"]] == [[3, 7], [3, 7]]
    run = results["variants"][0]["runs"][0]
    assert run["train_images"] == 256 and run["val_images"] == 100 and run["train_eval_images"] == 64
    assert [e["epoch"] for e in run["epochs"]] == [1]
    assert [p["epoch"] for p in run["steps"]] == pytest.approx([0.25, 0.5, 0.75, 1.0])
    # Without LRN the network has the same parameters (LRN has none) but other outputs.
    a, b = (v["runs"][0]["epochs"][0]["train_loss"] for v in results["variants"])
    assert a != b
    layers = results["activations"]["layers"]
    assert [layer["layer"] for layer in layers] == ["norm1", "norm2"]
    assert len(layers[0]["channels"]) == 24 and len(layers[1]["channels"]) == 48
    assert layers[0]["k_factor"] == pytest.approx(2 ** -0.75, rel=1e-5)
    assert all(0 < c["scale_median"] <= 2 ** -0.75 + 1e-6 for layer in layers for c in layer["channels"])
    assert all(layer["formula_matches_module"] for layer in layers), "the float64 formula is not what the layer does"
    assert all(0 <= layer["departure_median"] <= layer["departure_max"] < 1 for layer in layers)

    page = render_experiment(loaded, results)
    s = summarize(loaded.experiment, results, loaded.experiment.claims[0])
    assert f"{s.diff_mean:+.2f}".replace("-", "\u2212") in page
    assert s.verdict in page and "+++ no_lrn" in page and "out of date" not in page
    assert "norm1" in render_activations(loaded, results)
    svg = _figure("tiny-activations", lambda plt: _plot_activations(plt, results))
    assert svg.startswith("<svg") and "currentColor" in svg and "\n\n" not in svg


def test_the_same_seed_gives_the_same_run(tmp_path: Path):
    from alexnet.train.experiments import train_run

    (tmp_path / "recipe.yaml").write_text(TINY_RECIPE)
    spec = str(ROOT / "spec/alexnet_mini.yaml")
    first = train_run(spec, str(tmp_path / "recipe.yaml"), 5, 32, 4)
    second = train_run(spec, str(tmp_path / "recipe.yaml"), 5, 32, 4)
    for one in (first, second):
        for epoch in one["epochs"]:
            epoch.pop("seconds")
            epoch.pop("wall_seconds")
        for point in one["steps"]:
            point.pop("seconds")
    assert first == second


def test_every_bundled_experiment_is_valid_under_the_editors_schema():
    import jsonschema
    import yaml

    schema = json.loads((ROOT / "spec/experiments/schema.json").read_text())
    for name in bundled_experiments():
        jsonschema.validate(yaml.safe_load((ROOT / "spec/experiments" / f"{name}.yaml").read_text()), schema)
