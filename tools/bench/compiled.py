"""torch.compile benchmark, run as its own process so the caller can stop a compile that takes too long.

    python -m tools.bench.compiled MODEL [--batch 16] [--rounds N] [--warmup N]   (prints JSON)

Compiles the model's inference forward (the default inductor backend), times the first call (compile
included), then interleaves eager and compiled forwards and checks that both give the same output.
"""

from __future__ import annotations

import argparse
import json
import sys
import time

import torch

from alexnet import load_model

from .models import forward_task, model_input, torch_info
from .stats import interleave, paired_ratios, summarize, timing


def run(name: str, batch: int, rounds: int, warmup: int) -> dict:
    torch.manual_seed(0)
    eager = load_model(name).eval()
    x = torch.randn(batch, *model_input(name))
    compiled = torch.compile(eager)
    start = time.perf_counter()
    with torch.no_grad():
        out = compiled(x)
    compile_s = time.perf_counter() - start
    with torch.no_grad():
        difference = float((out - eager(x)).abs().max())
    samples = interleave({"eager": forward_task(eager, x), "compiled": forward_task(compiled, x)}, rounds, warmup)
    return {
        "model": name, "batch": batch, "mode": "forward (inference)", "backend": "inductor",
        "compile_s": compile_s, "max_abs_output_difference": difference,
        "eager": timing(samples["eager"]), "compiled": timing(samples["compiled"]),
        "speedup": summarize(paired_ratios(samples["eager"], samples["compiled"])).as_dict(),
        "torch": torch_info(),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tools.bench.compiled")
    parser.add_argument("model")
    parser.add_argument("--batch", type=int, default=16)
    parser.add_argument("--rounds", type=int, default=10)
    parser.add_argument("--warmup", type=int, default=1)
    args = parser.parse_args(argv)
    print(json.dumps(run(args.model, args.batch, args.rounds, args.warmup)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
