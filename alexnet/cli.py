"""The command line: ``summary SPEC [--json]``, ``validate SPEC ...``, ``train``, ``evaluate``, ``lighting``
(``alexnet.train.commands``) and ``export`` / ``import`` (``alexnet.interchange``); torch is imported only
when one of those runs.

Exit status: 0 fine, 2 bad input (one ``file:line:col: message`` line per problem, no traceback).
"""

from __future__ import annotations

import argparse
import json
import sys

from . import interchange, resolve_spec
from .analysis import BYTES_PER_FLOAT, DEFAULT_MAX_PARAMS, Analysis
from .formatting import fmt_chw, fmt_rf
from .source import SpecError
from .train import commands as training
from .validation import validate_file

BAD_INPUT = 2


def summary_table(analysis: Analysis) -> str:
    """A torchinfo-like text table of every layer."""
    spec = analysis.spec
    head = ("Layer (section)", "Kind", "Output shape", "Params", "MACs", "RF")
    lines = [(f"{r.name} ({r.section})", r.kind, fmt_chw(r.output), f"{r.params:,}", f"{r.macs:,}",
              fmt_rf(r.receptive_field)) for r in analysis.rows]
    widths = [max(len(row[i]) for row in [head, *lines]) for i in range(len(head))]
    rule = "=" * (sum(widths) + 2 * (len(widths) - 1))

    def fmt(cells):
        return "  ".join(c.ljust(w) if i < 3 else c.rjust(w) for i, (c, w) in enumerate(zip(cells, widths, strict=False)))

    mb = BYTES_PER_FLOAT / 2**20
    out = [f"{spec.title} [{spec.name}] - input {fmt_chw(analysis.input)}", rule, fmt(head), rule,
           *map(fmt, lines), rule,
           f"Total params: {analysis.total_params:,} (weights {analysis.total_weights:,}, "
           f"biases {analysis.total_biases:,})",
           f"Total MACs: {analysis.total_macs:,} ({analysis.total_macs / 1e9:.3f} G; FLOPs = 2 x MACs, bias excluded)",
           f"Params size (float32, MB): {analysis.total_params * mb:.2f}",
           f"Forward activations per image (float32, MB): {analysis.total_activations * mb:.2f}",
           rule]
    return "\n".join(out)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m alexnet", description="Analyse network specs (YAML).")
    commands = parser.add_subparsers(dest="command", required=True)
    summary = commands.add_parser("summary", help="per-layer shapes, parameters and MACs of a spec")
    summary.add_argument("spec", help="a spec file, or the name of a bundled spec (alexnet)")
    summary.add_argument("--json", action="store_true", help="machine-readable output")
    validate = commands.add_parser("validate", help="check specs; print one line per problem")
    validate.add_argument("specs", nargs="+", help="spec files, or names of bundled specs")
    for sub in (summary, validate):
        sub.add_argument("--max-params", type=int, default=DEFAULT_MAX_PARAMS,
                         help=f"refuse networks with more parameters (default {DEFAULT_MAX_PARAMS:.0e})")
    training.add_commands(commands)
    interchange.add_commands(commands)
    args = parser.parse_args(argv)
    if args.command in training.COMMANDS:
        return training.run(args)
    if args.command in interchange.COMMANDS:
        return interchange.run(args)

    files = [args.spec] if args.command == "summary" else args.specs
    analyses, failed = [], False
    for file in files:
        try:
            analyses.append(validate_file(resolve_spec(file), max_params=args.max_params))
        except SpecError as exc:
            failed = True
            for problem in exc.problems:
                print(problem, file=sys.stderr)
    if failed:
        return BAD_INPUT
    if args.command == "validate":
        for file, analysis in zip(files, analyses, strict=False):
            print(f"{file}: ok ({len(analysis.rows)} layers, {analysis.total_params:,} parameters)")
    elif args.json:
        print(json.dumps(analyses[0].as_dict(), indent=2))
    else:
        print(summary_table(analyses[0]))
    return 0
