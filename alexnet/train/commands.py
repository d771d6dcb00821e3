"""``python -m alexnet train | evaluate | lighting``: argument parsing, and bad input as one line (exit 2).

This module does not import torch; the commands import the training code when they run, so the analysis
commands (``summary``, ``validate``) stay fast and torch-free.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from alexnet.analysis import Analysis, analyse
from alexnet.source import SpecError
from alexnet.spec import load_spec

from . import TrainError

COMMANDS = ("train", "evaluate", "lighting")
BAD_INPUT = 2


def add_commands(commands) -> None:
    train = commands.add_parser("train", help="train a spec with a recipe (also under torchrun)")
    train.add_argument("spec", help="a bundled spec name (alexnet_mini) or a spec file")
    train.add_argument("--recipe", required=True, help="a bundled recipe (paper, torchvision, fashion_mnist, "
                       "digits, caffe) or a recipe file")
    train.add_argument("--data", help="data folder (default: the recipe's built-in data)")
    train.add_argument("--out", help="run folder for metrics.jsonl and checkpoint.pt (default runs/SPEC-RECIPE)")
    train.add_argument("--epochs", type=int, help="override the recipe's epochs")
    train.add_argument("--batch-size", type=int, help="override the recipe's global batch size")
    train.add_argument("--seed", type=int, help="override the recipe's seed")
    train.add_argument("--train-subset", type=int, help="train on this many images (a fixed random choice)")
    train.add_argument("--resume", action="store_true", help="continue the run in --out from its checkpoint")
    train.add_argument("--device", default="auto", help="auto (cuda when available), cpu or cuda")
    train.add_argument("--compile", action="store_true", help="torch.compile the model")
    train.add_argument("--no-bf16", action="store_true", help="on a GPU, train in float32 (default: bfloat16 autocast)")
    train.add_argument("--trace", help=argparse.SUPPRESS)  # tests: each rank writes the index batches it trained on

    evaluate = commands.add_parser("evaluate", help="top-1 / top-5 error of trained weights")
    evaluate.add_argument("spec")
    evaluate.add_argument("--weights", required=True, help="a checkpoint.pt of `train`, or a state_dict file")
    evaluate.add_argument("--recipe", help="preprocessing and data (default: the one the checkpoint records)")
    evaluate.add_argument("--data", help="data folder (default: the recipe's built-in data)")
    evaluate.add_argument("--ten-crop", action="store_true", help="average the softmax over the paper's ten crops")
    evaluate.add_argument("--batch-size", type=int)
    evaluate.add_argument("--device", default="auto")
    evaluate.add_argument("--json", action="store_true", help='print {"top1_error", "top5_error", "images"}')

    lighting = commands.add_parser("lighting", help="channel statistics and PCA lighting eigen-decomposition of a "
                                   "training set, as recipe YAML")
    lighting.add_argument("--recipe", default="paper", help="which data (default: paper, an ImageNet folder)")
    lighting.add_argument("--data", help="data folder (ImageNet layout: its train/ is read)")
    lighting.add_argument("--channels", type=int, default=3, choices=(1, 3),
                          help="decode folder images as RGB (3) or grey (1); built-in data keep their own")
    lighting.add_argument("--max-images", type=int, default=10_000, help="a random choice of this many images")


def resolve_spec(arg: str) -> Analysis:
    """SPEC on the command line: a bundled name (``alexnet_mini``) or a file path."""
    from alexnet import available_models, spec_path

    looks_like_name = "/" not in arg and not arg.endswith((".yaml", ".yml"))
    path = spec_path(arg) if looks_like_name else Path(arg)
    if looks_like_name and not path.exists():
        raise TrainError(f"no bundled spec {arg!r}; bundled: {', '.join(available_models())} (or give a spec file)")
    return analyse(load_spec(path, f"spec/{arg}.yaml" if looks_like_name else None))


def run(args: argparse.Namespace) -> int:
    quiet = int(os.environ.get("RANK", 0)) != 0  # under torchrun, one copy of an error is enough
    try:
        if args.command in ("train", "evaluate"):  # spec and recipe errors before torch loads (seconds)
            from alexnet.recipe import load_recipe

            resolve_spec(args.spec)
            if args.recipe:
                load_recipe(args.recipe)
        if args.command == "train":
            from .run import train

            return train(args)
        if args.command == "evaluate":
            from .run import evaluate_command

            return evaluate_command(args)
        from .run import lighting_command

        return lighting_command(args)
    except SpecError as exc:
        if not quiet:
            for problem in exc.problems:
                print(problem, file=sys.stderr)
        return BAD_INPUT
    except TrainError as exc:
        if not quiet:
            print(f"error: {exc}", file=sys.stderr)
        return BAD_INPUT
    except KeyboardInterrupt:
        return 130
