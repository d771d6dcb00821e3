"""GoogLeNet as the 2014 paper describes it (spec/googlenet_paper.yaml) against the paper's Table 1
(spec/tables/googlenet_paper.yaml). There is no torchvision reference for this version: the table is the
reference, row by row, for output sizes, parameters and multiply-accumulates."""

from __future__ import annotations

import pytest
import torch
import torchinfo
from torch.utils.flop_counter import FlopCounterMode

import alexnet
from alexnet.source import SpecError
from tests.conftest import ROOT
from tools.render_lineage import render_lineage
from tools.render_paper_table import PaperTable, Printed, compare, load_table

NAME = "googlenet_paper"


@pytest.fixture(scope="module")
def table() -> PaperTable:
    return load_table(ROOT, NAME)


@pytest.fixture(scope="module")
def compared(analyses, table):
    return {c.paper.row: c for c in compare(analyses[NAME], table)}


def test_the_model_builds_classifies_and_counts_like_the_analysis(analyses):
    analysis = analyses[NAME]
    torch.manual_seed(0)
    model = alexnet.load_model(NAME).eval()
    with torch.no_grad(), FlopCounterMode(display=False) as counter:
        out = model(torch.randn(1, 3, 224, 224))
    assert out.shape == (1, 1000) and torch.isfinite(out).all()
    assert counter.get_total_flops() == 2 * analysis.total_macs
    assert sum(p.numel() for p in model.parameters()) == analysis.total_params == 6_998_552
    stats = torchinfo.summary(model, input_size=(1, 3, 224, 224), verbose=0)
    assert stats.total_params == analysis.total_params


def test_the_paper_s_layers_biases_relus_and_lrn(analyses):
    kinds = [r.kind for r in analyses[NAME].rows]
    convs = [r.layer for r in analyses[NAME].rows if r.kind == "conv"]
    assert "batchnorm" not in kinds and kinds.count("lrn") == 2
    assert len(convs) == 57 and all(c.bias for c in convs) and kinds.count("relu") == 57
    assert sorted({c.kernel_size[0] for c in convs}) == [1, 3, 5, 7]  # the third branch is 5x5, as in the paper


def test_lrn_is_caffes(analyses):
    """bvlc_googlenet's LRN (local_size 5, alpha 1e-4, beta 0.75, k 1, alpha divided by n) is torch's own."""
    model = alexnet.load_model(NAME)
    x = torch.rand(2, 64, 8, 8) * 10
    expected = torch.nn.LocalResponseNorm(5, alpha=1e-4, beta=0.75, k=1.0)(x)
    torch.testing.assert_close(model.pool1[1](x), expected)


def test_every_stage_has_table_1_s_output_size(table):
    """On the real module: each stage's output, seen by a forward hook, as Table 1 prints it (HxWxC)."""
    model = alexnet.load_model(NAME).eval()
    seen: dict[str, tuple] = {}
    for row in table.rows:
        for section in row.sections:
            if section != "flatten":  # torch.flatten(x, 1) is not a module
                getattr(model, section).register_forward_hook(
                    lambda _m, _i, out, section=section: seen.__setitem__(section, tuple(out.shape[1:])))
    with torch.no_grad():
        model(torch.zeros(1, 3, 224, 224))
    for row in table.rows:
        if row.sections:
            c, h, w = (*seen[row.sections[-1]], 1, 1)[:3]
            assert f"{h}x{w}x{c}" == row.output, row.row


def test_table_1_figures_agree_except_where_the_table_file_says(compared):
    """Our weights and MACs per row are within the paper's rounding, except on the columns listed in
    `differs` (each with a note): a spec that drifts from the paper, or a list that is not exact, fails."""
    for row, c in compared.items():
        assert c.found_differences() == c.paper.differs, row
        assert not c.paper.differs or c.paper.note, f"{row}: a difference needs a note"
        assert c.output_agrees is not False, row
    assert sum(c.agrees("ops") is True for c in compared.values()) == 10  # all but conv1 and 5a


def test_table_1_counts_weights_in_units_of_1024(compared, table):
    """conv2's 112K and the linear layer's 1000K are exact in weights / 1024; with biases the linear layer
    would print 1001K, and with K = 1000 not one row would agree."""
    for row in ("convolution 3x3/1 (with its 1x1 reduce)", "linear"):
        c = compared[row]
        assert c.weights == Printed.parse(c.paper.params).value * 1024, row
    fc = compared["linear"]
    assert round((fc.weights + fc.biases) / 1024) == 1001
    with_biases_or_k1000 = [c for c in compared.values() if c.paper.params and
                            Printed.parse(c.paper.params).agrees(c.weights / 1000)]
    assert with_biases_or_k1000 == []


def test_the_lineage_shows_the_paper_s_top5_only(analyses):
    line = next(x for x in render_lineage(list(analyses.values())).splitlines() if f"generated/{NAME}/" in x)
    assert "| - / 10.07% (" in line


def test_a_malformed_table_is_bad_input(tmp_path):
    (tmp_path / "spec/tables").mkdir(parents=True)
    (tmp_path / "spec/tables/net.yaml").write_text("spec: net\nsource: x\nparams_unit: 1024\nops_unit: 1\n"
                                                   "rows: [{row: a, sections: [], output: 1x1, params: 2.7G}]\n")
    with pytest.raises(SpecError) as caught:
        load_table(tmp_path, "net")
    messages = [str(p) for p in caught.value.problems]
    assert all(m.startswith("spec/tables/net.yaml:1:1: rows.0.") for m in messages) and len(messages) == 2
    assert load_table(tmp_path, "other") is None
