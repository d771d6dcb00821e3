"""Generator benchmark, run as its own process so that torch can be proven absent from this path.

    python -m tools.bench.gen_bench [--rounds N] [--warmup N] [--sizes 250,500,1000] [--graph-sizes 1000]

Measures, interleaved: planning every bundled spec in-process (load, validate, analyse, render every
artifact), the in-process ``--check`` (plan + compare with disk), synthetic specs of N layers
(load + analyse + every per-spec artifact), to show the cost per layer stays flat, and synthetic graphs of N
nodes (residual adds and concatenations inside repeated, nested blocks).
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from alexnet.analysis import analyse
from alexnet.source import SpecError
from alexnet.spec import load_spec
from tools.generate import ROOT, plan, spec_artifacts, spec_paths, stale

from .stats import interleave, summarize, timing

# conv / batchnorm / relu keep a 16x16 map, so any depth is a valid network with small parameters.
REPEATING = (
    "{{name: l{i}, kind: conv, out_channels: 8, kernel_size: 3, padding: 1}}",
    "{{name: l{i}, kind: batchnorm}}",
    "{{name: l{i}, kind: relu, inplace: true}}",
)


def synthetic_spec(layers: int) -> str:
    """YAML of a valid spec with exactly ``layers`` layers (a conv stack, a flatten, one linear)."""
    if layers < 3:
        raise ValueError("a synthetic spec needs at least 3 layers")
    body = [REPEATING[i % 3].format(i=i) for i in range(layers - 2)]
    lines = [
        f"name: deep{layers}", f"title: Synthetic {layers}-layer network", f"class_name: Deep{layers}",
        "input: [3, 16, 16]", "num_classes: 10", "sections:", "  features:",
        *(f"    - {item}" for item in body),
        "  flatten:", f"    - {{name: l{layers - 2}, kind: flatten}}",
        "  classifier:", f"    - {{name: l{layers - 1}, kind: linear, out_features: 10}}",
    ]
    return "\n".join(lines) + "\n"


# A unit of the synthetic graph: a residual block (7 nodes) then two parallel convolutions joined by a concat
# (3 nodes), 8 channels on a 16x16 map throughout, so units chain to any depth.
GRAPH_BLOCKS = """blocks:
  residual:
    layers:
      - {name: conv1, kind: conv, out_channels: 8, kernel_size: 3, padding: 1, bias: false}
      - {name: bn1, kind: batchnorm}
      - {name: relu1, kind: relu, inplace: true}
      - {name: conv2, kind: conv, out_channels: 8, kernel_size: 3, padding: 1, bias: false}
      - {name: bn2, kind: batchnorm}
      - {name: add, kind: add, from: [bn2, input]}
      - {name: relu2, kind: relu}
  mixed:
    layers:
      - {name: narrow, kind: conv, out_channels: 4, kernel_size: 1, from: input}
      - {name: wide, kind: conv, out_channels: 4, kernel_size: 3, padding: 1, from: input}
      - {name: concat, kind: concat, from: [narrow, wide]}
  unit:
    layers:
      - {name: residual, block: residual}
      - {name: mixed, block: mixed}
"""
UNIT_NODES = 10


def synthetic_graph_spec(nodes: int) -> str:
    """YAML of a valid graph spec with exactly ``nodes`` layers once unrolled: a stem convolution, repeated
    units of a residual add and a two-branch concat, ReLUs to make up the count, then pool, flatten, linear."""
    body = nodes - 4
    if body < 0:
        raise ValueError("a synthetic graph needs at least 4 layers")
    units, extra = divmod(body, UNIT_NODES)
    lines = [
        f"name: graph{nodes}", f"title: Synthetic {nodes}-node graph", f"class_name: Graph{nodes}",
        "input: [3, 16, 16]", "num_classes: 10", GRAPH_BLOCKS.rstrip("\n"), "sections:",
        "  stem:", "    - {name: stem, kind: conv, out_channels: 8, kernel_size: 3, padding: 1}",
        *(["  body:", f"    - {{name: units, block: unit, repeat: {units}}}"] if units else []),
        *(["  tail:", *(f"    - {{name: relu{i}, kind: relu}}" for i in range(extra))] if extra else []),
        "  head:", "    - {name: pool, kind: adaptive_avgpool, output_size: 1}",
        "    - {name: flatten, kind: flatten}", "    - {name: fc, kind: linear, out_features: 10}",
    ]
    return "\n".join(lines) + "\n"


def _generate_one(path: Path) -> dict[str, str]:
    return spec_artifacts(analyse(load_spec(path, path.name)))


def run(rounds: int, warmup: int, sizes: list[int], root: Path = ROOT, graph_sizes: tuple[int, ...] = ()) -> dict:
    with tempfile.TemporaryDirectory(prefix="bench-gen-") as tmp:
        synthetic, graphs = {}, {}
        for size in sizes:
            synthetic[size] = Path(tmp) / f"deep{size}.yaml"
            synthetic[size].write_text(synthetic_spec(size))
        for size in graph_sizes:
            graphs[size] = Path(tmp) / f"graph{size}.yaml"
            graphs[size].write_text(synthetic_graph_spec(size))
        tasks = {
            "bundled": lambda: plan(root),
            "check": lambda: stale(root, plan(root).files),
            **{f"synthetic_{size}": (lambda p=path: _generate_one(p)) for size, path in synthetic.items()},
            **{f"graph_{size}": (lambda p=path: _generate_one(p)) for size, path in graphs.items()},
        }
        samples = interleave(tasks, rounds, warmup)
        artifacts = sorted(_generate_one(synthetic[sizes[0]])) if sizes else []
        check_cli = _cli_check(root, rounds)
    result = {
        "specs": [p.stem for p in spec_paths(root)],
        "bundled": timing(samples["bundled"]),
        "check": timing(samples["check"]),
        "check_cli": check_cli,
        "synthetic": [
            {"layers": size, **timing(samples[f"synthetic_{size}"]),
             "us_per_layer": summarize(samples[f"synthetic_{size}"]).median / size * 1e6}
            for size in sizes
        ],
        "synthetic_graph": [
            {"layers": size, **timing(samples[f"graph_{size}"]),
             "us_per_layer": summarize(samples[f"graph_{size}"]).median / size * 1e6}
            for size in graph_sizes
        ],
        # Per-spec artifacts as generated for the synthetic spec, with its name made generic.
        "synthetic_artifacts": [a.replace(f"deep{sizes[0]}", "<name>") for a in artifacts],
        "synthetic_has_svg": any(a.endswith(".svg") for a in artifacts),
    }
    result["torch_imported"] = "torch" in sys.modules
    return result


def _cli_check(root: Path, rounds: int) -> dict:
    """``python -m tools.generate --check`` as a user runs it: interpreter start and imports included."""
    samples = []
    for _ in range(rounds):
        start = time.perf_counter()
        done = subprocess.run([sys.executable, "-m", "tools.generate", "--check"], cwd=root, capture_output=True,
                              text=True, check=False)
        samples.append(time.perf_counter() - start)
    return {**timing(samples), "exit_status": done.returncode}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tools.bench.gen_bench")
    parser.add_argument("--rounds", type=int, default=10)
    parser.add_argument("--warmup", type=int, default=1)
    parser.add_argument("--sizes", default="250,500,1000", help="synthetic spec sizes (layers), comma-separated")
    parser.add_argument("--graph-sizes", default="1000", help="synthetic graph sizes (nodes), comma-separated")
    parser.add_argument("--root", type=Path, default=ROOT)
    args = parser.parse_args(argv)
    sizes = [int(s) for s in args.sizes.split(",") if s]
    try:
        graph_sizes = tuple(int(s) for s in args.graph_sizes.split(",") if s)
        result = run(args.rounds, args.warmup, sizes, args.root.resolve(), graph_sizes)
    except SpecError as exc:  # a bad bundled spec: its problems, one per line, as the generator prints them
        for problem in exc.problems:
            print(problem, file=sys.stderr)
        return 2
    # The promise of this path: analysis and rendering never need torch.
    assert not result["torch_imported"], "torch was imported on the generator path"
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
