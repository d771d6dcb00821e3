"""The one decision whether a spec file is valid, used by ``validate``, ``summary``, the generator and the
site: the file reads as plain YAML, matches the format (every layer kind's own rules included), is named
after its ``name``, and its shapes work out to ``num_classes`` outputs."""

from __future__ import annotations

from pathlib import Path

from .analysis import DEFAULT_MAX_PARAMS, Analysis, analyse
from .codegen_blocks import BlockWriter, SymbolError, class_name
from .source import SpecError, parse_source
from .spec import generated_module_names, read_spec, validate_source


def validate_file(path: str | Path, display_name: str | None = None, max_params: int = DEFAULT_MAX_PARAMS) -> Analysis:
    """The analysis of a valid spec file; raise :class:`~alexnet.source.SpecError` listing every problem
    (a spec that matches the format is analysed even when it has other problems, to report them all)."""
    return _analysed(*read_spec(path, display_name), max_params)


def validate_text(text: str, file: str, max_params: int = DEFAULT_MAX_PARAMS) -> Analysis:
    """Like :func:`validate_file` for a spec that is not on disk (an edited copy, an imported network):
    ``file`` names it in messages and its stem is the name the spec must have."""
    spec, problems = validate_source(parse_source(text.encode(), file), expected_name=Path(file).stem)
    return _analysed(spec, problems, max_params)


def _analysed(spec, problems: list, max_params: int) -> Analysis:
    if spec is None:
        raise SpecError(problems)
    try:
        analysis = analyse(spec, max_params)
    except SpecError as exc:
        problems = problems + exc.problems
    else:
        problems = problems + _block_code_problems(analysis)
    if problems:
        raise SpecError(problems)
    return analysis


def _block_code_problems(analysis: Analysis) -> list:
    """What the generated block classes cannot express: an argument that would have to decide the code
    (``bias: $flag``), or two classes (or a class and the network) with one name."""
    spec = analysis.spec
    if not analysis.graph or not analysis.graph.instances:
        return []
    problems, owners = [], {spec.class_name: None}
    for block in dict.fromkeys(i.block for i in analysis.graph.instances):
        name = class_name(block)
        if name in owners or name in generated_module_names():
            other = f"block {owners[name]!r}" if owners.get(name) else "the network or the generated module"
            problems.append(spec.problem(("blocks", block), f"block {block!r}: its class would be named {name}, "
                                                            f"like {other}: rename the block"))
        owners[name] = block
    try:
        BlockWriter(spec, analysis.graph.instances).classes()
    except SymbolError as exc:
        problems.append(spec.problem(("blocks", exc.block, "layers", exc.index), str(exc)))
    return problems
