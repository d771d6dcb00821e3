"""Measure the generator, the models, the LRN and the site; write docs/generated/benchmarks.{json,md,svg}.

    python -m tools.bench                      full run (what `make bench` does; tens of minutes on 2 cores)
    python -m tools.bench --quick              few rounds: a quick look, figures with wide spread
    python -m tools.bench --only lrn,models    measure some parts; the others keep their last results
    python -m tools.bench --device cuda --bf16 models and LRN on a GPU, with a bfloat16-autocast variant

Parts: generator, models, lrn, compile, training, site. Speed is measured here and only here, never in tests.
"""

from __future__ import annotations

import argparse
import json
import os
import shlex
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from alexnet.source import SpecError
from tools.generate import load_all, spec_paths, write_atomic

from .machine import machine_info
from .report import HEADER, render_markdown, render_svg

ROOT = Path(__file__).resolve().parents[2]
PARTS = ("generator", "models", "lrn", "compile", "training", "site")
OUTPUT = "docs/generated/benchmarks"
NO_GPU = ("No CUDA device was available to this run, so there are no GPU figures. On a GPU machine, "
          "`python -m tools.bench --only models,lrn "
          "--device cuda --bf16` adds them (float32 and bfloat16 autocast, images per second).")


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m tools.bench", description=__doc__.splitlines()[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter, epilog=__doc__)
    parser.add_argument("--quick", action="store_true", help="3 rounds (10 for the generator) instead of 15 (50)")
    parser.add_argument("--only", default=",".join(PARTS), help="comma-separated parts to measure")
    parser.add_argument("--skip", default="", help="comma-separated parts not to measure")
    parser.add_argument("--rounds", type=int, help="timed rounds per comparison (models, LRN, compile)")
    parser.add_argument("--gen-rounds", type=int, help="timed rounds of the generator benchmark")
    parser.add_argument("--warmup", type=int, default=1, help="untimed calls of each candidate first")
    parser.add_argument("--batch", type=int, default=16)
    parser.add_argument("--models", help="comma-separated model names (default: every generated model)")
    parser.add_argument("--lrn-shape", default="16,96,55,55", help="LRN input N,C,H,W (default: conv1's, batch 16)")
    parser.add_argument("--sizes", default="250,500,1000", help="synthetic spec sizes in layers")
    parser.add_argument("--graph-sizes", default="1000", help="synthetic graph sizes in nodes")
    parser.add_argument("--compile-budget", type=float, default=300,
                        help="seconds allowed for torch.compile's benchmark before it is skipped")
    parser.add_argument("--site-timeout", type=float, default=900, help="seconds allowed per site step")
    parser.add_argument("--device", default="cpu", help="torch device for models and LRN (cpu, cuda)")
    parser.add_argument("--bf16", action="store_true", help="also run the models under bfloat16 autocast")
    parser.add_argument("--out", default=OUTPUT, help="output path without extension (.json, .md, .svg)")
    parser.add_argument("--render-only", action="store_true", help="measure nothing; rewrite .md and .svg from .json")
    parser.add_argument("--fresh", action="store_true", help="drop the previous results of parts not measured")
    args = parser.parse_args(argv)
    chosen = [p for p in args.only.split(",") if p]
    unknown = sorted(set(chosen + [p for p in args.skip.split(",") if p]) - set(PARTS))
    if unknown:
        parser.error(f"unknown part(s) {', '.join(unknown)}; choose from {', '.join(PARTS)}")
    args.parts = [p for p in PARTS if p in chosen and p not in args.skip.split(",")]
    args.rounds = args.rounds or (3 if args.quick else 15)
    args.gen_rounds = args.gen_rounds or (10 if args.quick else 50)
    return args


class BenchError(Exception):
    """A part could not be measured; ``status`` is the exit status to give (2: bad input)."""

    def __init__(self, message: str, status: int = 1):
        super().__init__(message)
        self.status = status


def measure_generator(args: argparse.Namespace) -> dict:
    # A separate interpreter: it asserts that torch never gets imported on the generator path.
    done = subprocess.run([sys.executable, "-m", "tools.bench.gen_bench", "--rounds", str(args.gen_rounds),
                           "--warmup", str(args.warmup), "--sizes", args.sizes,
                           "--graph-sizes", args.graph_sizes], cwd=ROOT, capture_output=True,
                          text=True, check=False)
    if done.returncode:
        raise BenchError(done.stderr.strip() if done.returncode == 2 else
                         f"generator benchmark failed:\n{done.stderr[-2000:]}", done.returncode)
    return {**json.loads(done.stdout), "config": {"rounds": args.gen_rounds, "warmup": args.warmup}}


def measure_compile(args: argparse.Namespace, names: list[str]) -> dict:
    name = "alexnet_torchvision" if "alexnet_torchvision" in names else names[0]
    command = [sys.executable, "-m", "tools.bench.compiled", name, "--batch", str(args.batch),
               "--rounds", str(args.rounds), "--warmup", str(args.warmup)]
    # An empty inductor cache, so the compile time is what a first-time user waits.
    with tempfile.TemporaryDirectory(prefix="bench-inductor-") as cache:
        try:
            done = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=args.compile_budget,
                                  env={**os.environ, "TORCHINDUCTOR_CACHE_DIR": cache}, check=False)
        except subprocess.TimeoutExpired:
            return {"skipped": f"compiling and timing took longer than the {args.compile_budget:.0f} s budget "
                               f"(--compile-budget) on this machine"}
    if done.returncode:
        return {"skipped": f"torch.compile failed here: {done.stderr.strip().splitlines()[-1:]}"}
    return {**json.loads(done.stdout), "config": {"rounds": args.rounds, "warmup": args.warmup}}


def run(args: argparse.Namespace, previous: dict) -> dict:
    command = "python -m tools.bench " + shlex.join(args.argv) if args.argv else "python -m tools.bench"
    parts = {} if args.fresh else dict(previous.get("parts", {}))
    results: dict = {"$comment": f"{HEADER}; measurements, not generated from the spec.", "command": command,
                     "machine": machine_info(), "torch": previous.get("torch"),
                     "gpu": previous.get("gpu") or {"note": NO_GPU}, "parts": parts}
    stamp = {"measured_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()), "command": command}

    def record(part: str, measure) -> None:
        print(f"measuring {part} ...", file=sys.stderr, flush=True)
        start = time.perf_counter()
        parts[part] = {**measure(), **stamp, "load_average_before": results["machine"]["load_average"]}
        print(f"  {part}: {time.perf_counter() - start:.0f} s", file=sys.stderr, flush=True)

    if "generator" in args.parts:  # first, before this process imports torch
        record("generator", lambda: measure_generator(args))
    if {"models", "lrn", "compile"} & set(args.parts):
        import torch

        from . import models

        device = torch.device(args.device)
        results["torch"] = models.torch_info()
        if device.type == "cuda":
            results["gpu"] = {"note": f"GPU: {torch.cuda.get_device_name(device)}; model and LRN figures below "
                                      f"were measured on it."}
        elif torch.cuda.is_available():
            results["gpu"] = {"note": f"This machine has a GPU ({torch.cuda.get_device_name()}), but this run measured "
                                      f"the CPU; `--device cuda --bf16` measures the GPU."}
        else:
            results["gpu"] = {"note": NO_GPU}
        names = args.models.split(",") if args.models else models.default_models()
        peak = results["machine"]["peak"]["gflops"] if device.type == "cpu" else None
        variants = ("eager", "channels_last", *(("bf16_autocast",) if args.bf16 else ()))
        if "models" in args.parts:
            record("models", lambda: {**models.bench_models(names, args.batch, args.rounds, args.warmup, device,
                                                            variants, peak),
                                      "config": {"rounds": args.rounds, "warmup": args.warmup}})
        if "lrn" in args.parts:
            def lrn() -> dict:
                result = models.bench_lrn(tuple(int(n) for n in args.lrn_shape.split(",")), args.rounds, args.warmup, device)
                target = models.lrn_model(names)
                result["share"] = models.lrn_share(target, args.batch, args.rounds, args.warmup, device) \
                    if target else None
                return {**result, "config": {"rounds": args.rounds, "warmup": args.warmup}}
            record("lrn", lrn)
        if "compile" in args.parts:
            record("compile", lambda: measure_compile(args, names))
    if "training" in args.parts:
        from . import training

        record("training", lambda: training.measure(args.rounds, args.warmup, args.quick))
    if "site" in args.parts:
        from . import site_bench

        record("site", lambda: site_bench.run(args.site_timeout))
    for part in PARTS:
        parts.setdefault(part, {"skipped": "not measured (left out with --only/--skip)"})
    return results


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    args = parse_args(argv)
    args.argv = argv
    out = (ROOT / args.out) if not Path(args.out).is_absolute() else Path(args.out)
    json_path = out.with_suffix(".json")
    previous = json.loads(json_path.read_text()) if json_path.exists() else {}
    if args.render_only:
        if not previous:
            print(f"{json_path}: no results to render", file=sys.stderr)
            return 2
        results = previous
    else:
        try:
            load_all(spec_paths(ROOT), ROOT)  # refuse bad specs before minutes of measuring
            results = run(args, previous)
        except SpecError as exc:
            for problem in exc.problems:
                print(problem, file=sys.stderr)
            return 2
        except BenchError as exc:
            print(exc, file=sys.stderr)
            return exc.status
    write_atomic(json_path, json.dumps(results, indent=1) + "\n")
    write_atomic(out.with_suffix(".md"), render_markdown(results))
    write_atomic(out.with_suffix(".svg"), render_svg(results))
    for suffix in (".json", ".md", ".svg"):
        path = out.with_suffix(suffix)
        print(f"wrote {path.relative_to(ROOT) if path.is_relative_to(ROOT) else path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
