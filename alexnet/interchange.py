"""``python -m alexnet export | import``: specs out to ONNX, and in from a PyTorch module.

Argument parsing and bad input as one line (exit 2) live here; this module does not import torch, the
commands import their code (``alexnet.onnx_export``, ``alexnet.importer``) when they run.
"""

from __future__ import annotations

import os
import re
import sys
import tempfile
from pathlib import Path

from . import resolve_spec
from .source import SpecError

COMMANDS = ("export", "import")
BAD_INPUT = 2
MIN_OPSET = 18  # the oldest opset the exporter's operator library (onnxscript's torchlib) writes
EVEN_LRN = ("ONNX Runtime runs only odd LRN sizes, and ONNX centres an even window one channel later than "
            "PyTorch (c-1..c+2 instead of c-2..c+1 for 4): use an odd size to export")


def add_commands(commands) -> None:
    export = commands.add_parser("export", help="write a spec's model as an ONNX file")
    export.add_argument("spec", help="a spec file, or the name of a bundled spec (alexnet)")
    export.add_argument("--onnx", required=True, metavar="FILE", help="the ONNX file to write")
    export.add_argument("--opset", type=int, help="ONNX opset version (default: the exporter's choice)")
    imp = commands.add_parser("import", help="print the spec (YAML) of a PyTorch module, traced with torch.fx")
    imp.add_argument("target", metavar="MODULE:CALLABLE", help="e.g. torchvision.models:vgg16 (called without "
                     "arguments)")
    imp.add_argument("--input", required=True, metavar="C,H,W", help="the input shape of one example, e.g. 3,224,224")
    imp.add_argument("--name", help="the spec's name (default: the callable's name)")


def run(args) -> int:
    try:
        if args.command == "export":
            return _export(args)
        return _import(args)
    except SpecError as exc:
        for problem in exc.problems:
            print(problem, file=sys.stderr)
    except _BadInput as exc:
        print(exc, file=sys.stderr)
    return BAD_INPUT


class _BadInput(Exception):
    pass


def _export(args) -> int:
    try:
        import onnx
        import onnxscript  # noqa: F401  (the exporter's operators; imported here to say so in one line)
    except ImportError as exc:
        raise _BadInput(f"export needs onnx and onnxscript ({exc}): pip install 'alexnet-reference[onnx]'") from None

    from .validation import validate_file

    newest = onnx.defs.onnx_opset_version()
    if args.opset is not None and not MIN_OPSET <= args.opset <= newest:
        raise _BadInput(f"--opset {args.opset}: the exporter writes opsets {MIN_OPSET} to {newest}")
    spec_file = resolve_spec(args.spec)
    analysis = validate_file(spec_file)
    _check_lrn_sizes(analysis)
    out = Path(args.onnx)
    if out.is_dir() or not out.parent.is_dir():
        raise _BadInput(f"{out}: not a file in an existing folder")
    from .onnx_export import build_model, export_onnx  # imports torch: after the quick checks
    model = build_model(analysis)
    # Written beside the target and renamed: a failed export leaves an existing file as it was.
    fd, tmp = tempfile.mkstemp(prefix=f".{out.name}.", suffix=".tmp", dir=out.parent)
    os.close(fd)
    try:
        export_onnx(model, analysis.input, Path(tmp), args.opset)
        onnx.checker.check_model(tmp, full_check=True)
        os.replace(tmp, out)
    finally:
        Path(tmp).unlink(missing_ok=True)
    print(f"{out}: {analysis.spec.name}, input [N, {', '.join(map(str, analysis.input))}], "
          f"{analysis.total_params:,} parameters")
    return 0


def _check_lrn_sizes(analysis) -> None:
    """Every layer, blocks unrolled; a layer inside a block is located at the entry that uses the block."""
    spec = analysis.spec
    problems = [spec.problem(("sections", row.section, row.index, "size"), f"layer {row.name!r}: LRN size "
                             f"{row.layer.size} is even. {EVEN_LRN}")
                for row in analysis.rows if row.kind == "lrn" and row.layer.size % 2 == 0]
    if problems:
        raise SpecError(problems)


def parse_input(text: str) -> tuple[int, ...]:
    """``3,224,224`` -> (3, 224, 224); one size (features) or three (channels, height, width)."""
    if not re.fullmatch(r"\s*[1-9]\d{0,5}\s*(,\s*[1-9]\d{0,5}\s*){0,2}", text) or text.count(",") == 1:
        raise _BadInput(f"--input {text!r}: expected C,H,W (e.g. 3,224,224) or one feature count, positive integers")
    return tuple(int(part) for part in text.split(","))


def _import(args) -> int:
    shape = parse_input(args.input)
    from .importer import ImportRefused, import_spec

    try:
        print(import_spec(args.target, shape, args.name), end="")
    except ImportRefused as exc:
        raise _BadInput(str(exc)) from None
    return 0
