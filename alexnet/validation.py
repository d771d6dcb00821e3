"""The one decision whether a spec file is valid, used by ``validate``, ``summary``, the generator and the
site: the file reads as plain YAML, matches the format (every layer kind's own rules included), is named
after its ``name``, and its shapes work out to ``num_classes`` outputs."""

from __future__ import annotations

from pathlib import Path

from .analysis import DEFAULT_MAX_PARAMS, Analysis, analyse
from .source import SpecError
from .spec import read_spec


def validate_file(path: str | Path, display_name: str | None = None, max_params: int = DEFAULT_MAX_PARAMS) -> Analysis:
    """The analysis of a valid spec file; raise :class:`~alexnet.source.SpecError` listing every problem
    (a spec that matches the format is analysed even when it has other problems, to report them all)."""
    spec, problems = read_spec(path, display_name)
    if spec is None:
        raise SpecError(problems)
    try:
        analysis = analyse(spec, max_params)
    except SpecError as exc:
        problems = problems + exc.problems
    if problems:
        raise SpecError(problems)
    return analysis
