"""The benchmark harness on tiny configurations: statistics, interleaving, JSON shape, Markdown and SVG.

Speed is never asserted here (that is what `python -m tools.bench` is for); these tests check that the
harness measures what it says, in the shape the performance page reads.
"""

from __future__ import annotations

import json
import re
import xml.etree.ElementTree as ET

import pytest
from hypothesis import given
from hypothesis import strategies as st

from alexnet.analysis import analyse
from alexnet.source import parse_source
from alexnet.spec import spec_from_source
from alexnet.validation import validate_text
from tests.conftest import ROOT, run_python
from tools.bench import site_bench
from tools.bench.gen_bench import synthetic_graph_spec, synthetic_spec
from tools.bench.machine import cpuinfo, machine_info, peak_gflops
from tools.bench.report import render_markdown, render_svg
from tools.bench.stats import interleave, paired_ratios, summarize
from tools.generate import MARKER

# One worker for the module: the tiny end-to-end run (a module fixture) then happens once.
pytestmark = pytest.mark.xdist_group("bench")

ZEN3_CPUINFO = """processor\t: 0
vendor_id\t: AuthenticAMD
cpu family\t: 25
model\t\t: 1
model name\t: AMD EPYC
cpu MHz\t\t: 2445.420
siblings\t: 2
cpu cores\t: 2
flags\t\t: fpu sse sse2 avx fma avx2

processor\t: 1
vendor_id\t: AuthenticAMD
model name\t: AMD EPYC
cpu MHz\t\t: 2445.420
"""


def test_summary_of_known_samples():
    s = summarize([5.0, 1.0, 4.0, 2.0, 3.0])
    assert (s.median, s.q1, s.q3, s.min, s.max, s.n) == (3.0, 2.0, 4.0, 1.0, 5.0, 5)
    assert s.iqr == 2.0
    one = summarize([0.25])
    assert (one.median, one.q1, one.q3, one.n) == (0.25, 0.25, 0.25, 1)
    with pytest.raises(ValueError):
        summarize([])


@given(st.lists(st.floats(min_value=1e-6, max_value=1e3), min_size=1, max_size=50))
def test_summary_is_ordered(samples):
    s = summarize(samples)
    assert s.min <= s.q1 <= s.median <= s.q3 <= s.max
    assert s.n == len(samples)


def test_interleave_warms_up_then_rotates_rounds_and_times_each_call():
    calls: list[str] = []
    ticks = iter(range(1000))
    clock = lambda: float(next(ticks))  # noqa: E731 - each reading one second later
    durations = {"a": 1, "b": 3}

    def task(name):
        def run():
            calls.append(name)
            for _ in range(durations[name] - 1):  # a task that "takes" n clock readings
                clock()
        return run

    samples = interleave({"a": task("a"), "b": task("b")}, rounds=3, warmup=2, clock=clock)
    assert calls == ["a", "a", "b", "b", "a", "b", "b", "a", "a", "b"]
    assert samples == {"a": [1.0, 1.0, 1.0], "b": [3.0, 3.0, 3.0]}
    with pytest.raises(ValueError):
        interleave({"a": task("a")}, rounds=0)


def test_paired_ratios_pair_rounds():
    assert paired_ratios([2.0, 6.0], [1.0, 3.0]) == [2.0, 2.0]
    with pytest.raises(ValueError):
        paired_ratios([1.0], [1.0, 2.0])


def test_cpuinfo_and_peak_of_a_zen3_machine():
    info = cpuinfo(ZEN3_CPUINFO)
    assert (info["model"], info["mhz"], info["logical_cpus"], info["physical_cores"]) == ("AMD EPYC", 2445.42, 2, 2)
    peak = peak_gflops(info["flags"], info["mhz"], info["physical_cores"])
    # 2 FMA pipes x 8 float32 lanes (AVX2) x 2 FLOPs per FMA = 32 per cycle; x 2 cores x 2.44542 GHz
    assert peak["flops_per_cycle"] == 32
    assert peak["gflops"] == pytest.approx(2 * 2.44542 * 32)
    assert peak_gflops({"avx512f", "avx2", "fma"}, 2000, 1)["flops_per_cycle"] == 64
    assert peak_gflops({"sse2"}, 2000, 1)["flops_per_cycle"] == 8
    assert peak_gflops({"avx2", "fma"}, None, 4)["gflops"] is None


@pytest.mark.parametrize("layers", [3, 4, 5, 100])
def test_synthetic_spec_has_exactly_the_requested_layers(layers):
    spec = spec_from_source(parse_source(synthetic_spec(layers).encode(), f"deep{layers}.yaml"))
    analysis = analyse(spec)
    assert len(analysis.rows) == layers
    assert analysis.rows[-1].output == (10,)


@pytest.mark.parametrize("nodes", [4, 13, 14, 1000])
def test_synthetic_graph_has_exactly_the_requested_nodes_with_merges(nodes):
    analysis = validate_text(synthetic_graph_spec(nodes), f"graph{nodes}.yaml")
    assert len(analysis.rows) == nodes and analysis.rows[-1].output == (10,)
    units = (nodes - 4) // 10
    assert len(analysis.layers_of("add")) == len(analysis.layers_of("concat")) == units
    if units:
        assert not analysis.graph.is_sequential and len(analysis.graph.instances) == 3 * units  # a unit and its 2 blocks


def test_the_serve_edit_still_applies_to_the_bundled_spec():
    text = (ROOT / site_bench.EDITED_SPEC).read_text()
    assert text.count(site_bench.EDIT[0]) == 1, "site_bench.EDIT no longer matches conv1 in spec/alexnet.yaml"


@pytest.fixture(scope="module")
def tiny_run(tmp_path_factory):
    """One tiny end-to-end run of `python -m tools.bench` into a temporary folder."""
    out = tmp_path_factory.mktemp("bench") / "benchmarks"
    done = run_python("-m", "tools.bench", "--only", "generator,models,lrn", "--rounds", "2", "--gen-rounds", "2",
                      "--warmup", "0", "--batch", "1", "--sizes", "5,10", "--graph-sizes", "24",
                      "--models", "alexnet_torchvision,alexnet",
                      "--lrn-shape", "2,8,5,5", "--out", str(out))
    assert done.returncode == 0, done.stderr
    return out


@pytest.mark.slow
def test_tiny_run_writes_results_in_the_documented_shape(tiny_run):
    results = json.loads(tiny_run.with_suffix(".json").read_text())
    assert set(results) >= {"command", "machine", "torch", "gpu", "parts"}
    assert results["torch"]["threads"] >= 1
    parts = results["parts"]
    assert set(parts) == {"generator", "models", "lrn", "compile", "training", "site"}
    assert "skipped" in parts["compile"] and "skipped" in parts["site"] and "skipped" in parts["training"]

    generator = parts["generator"]
    assert generator["torch_imported"] is False
    assert [s["layers"] for s in generator["synthetic"]] == [5, 10]
    assert [s["layers"] for s in generator["synthetic_graph"]] == [24]
    assert generator["bundled"]["n"] == 2 and len(generator["bundled"]["samples"]) == 2
    assert generator["check_cli"]["exit_status"] in (0, 1)

    models = parts["models"]
    assert set(models["models"]) == {"alexnet_torchvision", "alexnet", "torchvision"}
    eager = models["models"]["alexnet"]["eager"]
    assert eager["forward"]["flops"] == 2 * 1_135_256_096  # the seed network's MACs, batch 1
    assert eager["train"]["flops"] > 2 * eager["forward"]["flops"]  # backward costs about twice the forward
    assert models["models"]["alexnet"]["channels_last"]["forward"]["vs_eager"]["n"] == 2
    assert models["reference"]["pair"] == ["alexnet_torchvision", "torchvision"]
    assert models["reference"]["max_abs_output_difference"] == 0.0  # same weights, same layers

    lrn = parts["lrn"]
    assert lrn["shape"] == [2, 8, 5, 5]
    assert lrn["max_abs_error_forward_float64"] < 1e-12 and lrn["max_abs_error_grad_float64"] < 1e-12
    assert lrn["forward"]["speedup"]["n"] == 2
    assert lrn["share"]["model"] == "alexnet" and lrn["share"]["lrn_layers"] == 2


@pytest.mark.slow
def test_tiny_run_markdown_and_svg(tiny_run):
    markdown = tiny_run.with_suffix(".md").read_text()
    assert markdown.startswith("<!-- Generated by `python -m tools.bench`")
    assert MARKER not in markdown  # or `python -m tools.generate --check` would call it an orphan
    for heading in ("### Generator", "### Models", "### Local response normalization", "### Site"):
        assert heading in markdown
    assert "| Synthetic spec, 10 layers" in markdown
    assert "| alexnet_torchvision | channels last |" in markdown
    assert "torch.compile" in markdown and "Not measured in this run" in markdown
    svg = tiny_run.with_suffix(".svg").read_text()
    assert ET.fromstring(svg).tag.endswith("svg")
    assert MARKER not in svg


@pytest.mark.slow
def test_render_only_rewrites_the_same_page_from_the_json(tiny_run):
    before = {suffix: tiny_run.with_suffix(suffix).read_bytes() for suffix in (".json", ".md", ".svg")}
    tiny_run.with_suffix(".md").write_text("stale")
    tiny_run.with_suffix(".svg").write_text("stale")
    done = run_python("-m", "tools.bench", "--render-only", "--out", str(tiny_run))
    assert done.returncode == 0, done.stderr
    assert {suffix: tiny_run.with_suffix(suffix).read_bytes() for suffix in before} == before  # deterministic


@pytest.mark.slow
def test_parts_not_measured_are_kept_from_the_previous_run(tiny_run):
    done = run_python("-m", "tools.bench", "--only", "generator", "--gen-rounds", "1", "--warmup", "0",
                      "--sizes", "5", "--out", str(tiny_run))
    assert done.returncode == 0, done.stderr
    results = json.loads(tiny_run.with_suffix(".json").read_text())
    assert [s["layers"] for s in results["parts"]["generator"]["synthetic"]] == [5]
    assert "alexnet" in results["parts"]["models"]["models"]  # from the first run


def test_rendering_with_nothing_measured():
    results = {"command": "python -m tools.bench --only x", "machine": _machine(), "torch": None,
               "gpu": {"note": "No GPU."},
               "parts": {p: {"skipped": "not measured"} for p in ("generator", "models", "lrn", "compile", "site")}}
    markdown = render_markdown(results)
    assert markdown.count("Not measured in this run: not measured") == 5
    assert ET.fromstring(render_svg(results)).tag.endswith("svg")


def test_unknown_part_is_a_usage_error():
    done = run_python("-m", "tools.bench", "--only", "modles")
    assert done.returncode == 2
    assert "unknown part(s) modles" in done.stderr and "Traceback" not in done.stderr


def test_compile_over_budget_is_skipped_with_a_reason():
    from tools.bench.__main__ import measure_compile, parse_args

    args = parse_args(["--compile-budget", "1", "--rounds", "1", "--batch", "1"])
    result = measure_compile(args, ["alexnet_torchvision"])
    assert result == {"skipped": "compiling and timing took longer than the 1 s budget (--compile-budget) on this machine"}


def _machine() -> dict:
    info = cpuinfo(ZEN3_CPUINFO)
    return {"cpu": info["model"], "cpu_family_model": "AuthenticAMD family 25 model 1", "logical_cpus": 2,
            "usable_cpus": 2, "physical_cores": 2, "mhz": info["mhz"], "load_average": [0.5, 0.5, 0.5],
            "python": "3.11", "platform": "Linux", "peak": peak_gflops(info["flags"], info["mhz"], 2)}


def test_a_bad_spec_is_reported_like_the_generator_does_and_nothing_is_written(repo_copy):
    good = (repo_copy / "spec" / "alexnet.yaml").read_text()
    assert "kernel_size: 11" in good
    (repo_copy / "spec" / "broken.yaml").write_text(
        good.replace("name: alexnet", "name: broken", 1).replace("kernel_size: 11", "kernel_size: 0", 1))
    before = {p: p.read_bytes() for p in (repo_copy / "docs" / "generated").glob("benchmarks.*")}
    done = run_python("-m", "tools.bench", "--only", "generator", "--gen-rounds", "1", cwd=repo_copy)
    assert done.returncode == 2
    assert "Traceback" not in done.stderr
    lines = done.stderr.strip().splitlines()
    assert lines and all(re.match(r"spec/broken\.yaml:\d+:\d+: ", line) for line in lines), done.stderr
    assert "conv1" in done.stderr
    assert {p: p.read_bytes() for p in before} == before


def test_training_part_pipeline_and_its_paragraphs(tmp_path):
    """The data-pipeline measurement on four ImageNet-sized JPEGs, and the training section it renders into."""
    from tools.bench import training
    from tools.bench.__main__ import PARTS

    pipeline = training.bench_pipeline(4, 1)
    assert pipeline["one_worker"]["workers"] == 1 and pipeline["one_worker"]["images_per_s"] > 0
    assert pipeline["gpu_need"]["train_flops_per_image"] == 3 * 2 * 714_188_480  # alexnet_torchvision's MACs
    timed = {"median": 0.5, "q1": 0.4, "q3": 0.6, "min": 0.4, "max": 0.6, "n": 3, "images_per_s": 16.0}
    part = {"train_step": {"batch": 8, "generated": timed, "torchvision": timed,
                           "ratio": {"median": 1.0, "q1": 0.98, "q3": 1.02, "min": 0.9, "max": 1.1, "n": 3}},
            "pipeline": pipeline, "config": {"rounds": 3, "warmup": 1, "quick": True},
            "ddp": {"spec": "alexnet_mini", "recipe": "digits", "train_images": 64, "ratio_2_over_1": 0.7,
                    "processes_1": {"images_per_s": 100.0}, "processes_2": {"images_per_s": 70.0}}}
    results = {"command": "python -m tools.bench", "machine": machine_info(), "torch": None,
               "gpu": {"note": "no GPU"},
               "parts": {**{name: {"skipped": "not measured"} for name in PARTS}, "training": part}}
    markdown = render_markdown(results)
    assert "**Training step**" in markdown and "ratio 0.70" in markdown and "NVIDIA A100" in markdown
