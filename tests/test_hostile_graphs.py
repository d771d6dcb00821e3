"""Graph specs written to break the expansion and the generated block classes (tests/hostile_graphs/: nested
blocks, `when` on merges and on channel-changing layers, repeats, dotted and shadowing names, class-name
clashes, a block on flat input, malformed kinds). Each is either refused with located problems, or builds a
module whose parameters and output equal the analysis."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import torch

from alexnet.codegen import render_model
from alexnet.source import SpecError
from alexnet.validation import validate_file

CASES = sorted((Path(__file__).parent / "hostile_graphs").glob("*.yaml"))


@pytest.mark.parametrize("path", CASES, ids=lambda p: p.stem)
def test_refused_cleanly_or_built_as_analysed(path):
    try:
        analysis = validate_file(path)
    except SpecError as exc:
        assert exc.problems and all(p.line >= 1 and p.message for p in exc.problems)
        return
    namespace: dict = {}
    exec(compile(render_model(analysis), path.name, "exec"), namespace)  # our own generated code
    model = namespace[analysis.spec.class_name]().eval()
    with torch.no_grad():
        assert model(torch.randn(2, *analysis.input)).shape == (2, analysis.spec.num_classes)
    assert sum(p.numel() for p in model.parameters()) == analysis.total_params


def test_a_block_on_flat_input_and_a_flag_that_would_decide_code_are_refused():
    refused = {p.stem: p for p in CASES}
    for name, words in (("bnlin", "a block reads (C, H, W) maps"), ("biasflag", "would decide the generated code"),
                        ("whenadd", "when: does not apply to add"), ("cls_m", "its class would be named M")):
        with pytest.raises(SpecError, match=re.escape(words)):
            validate_file(refused[name])
