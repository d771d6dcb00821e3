"""spec/alexnet.yaml reproduces the seed post's table, with its errors corrected (DESIGN.md)."""

from alexnet.formatting import fmt_hwc
from tools.render_markdown import in_parameter_table

# The seed's weights, biases and parameters per row (these are right in the seed).
SEED = {
    "Conv1": (34_848, 96, 34_944),
    "Conv2": (614_400, 256, 614_656),
    "Conv3": (884_736, 384, 885_120),
    "Conv4": (1_327_104, 384, 1_327_488),
    "Conv5": (884_736, 256, 884_992),
    "FC1": (37_748_736, 4096, 37_752_832),
    "FC2": (16_777_216, 4096, 16_781_312),
    "FC3": (4_096_000, 1000, 4_097_000),
}
SEED_ROWS = ["Conv1", "Pool1", "Conv2", "Pool2", "Conv3", "Conv4", "Conv5", "Pool3", "FC1", "FC2", "FC3"]
# Activation shapes: the seed's conv/pool shapes are right; its FC shapes (13x13x256) are not.
SHAPES = {"Conv1": "55x55x96", "Pool1": "27x27x96", "Conv2": "27x27x256", "Pool2": "13x13x256",
          "Conv3": "13x13x384", "Conv4": "13x13x384", "Conv5": "13x13x256", "Pool3": "6x6x256",
          "FC1": "4096", "FC2": "4096", "FC3": "1000"}


def test_rows_and_order(analyses):
    rows = [r for r in analyses["alexnet"].rows if in_parameter_table(r)]
    assert [r.display for r in rows] == SEED_ROWS


def test_weights_biases_params(analyses):
    rows = {r.display: r for r in analyses["alexnet"].rows}
    for name, (weights, biases, params) in SEED.items():
        assert (rows[name].weights, rows[name].biases, rows[name].params) == (weights, biases, params), name


def test_totals(analyses):
    analysis = analyses["alexnet"]
    assert analysis.total_params == 62_378_344
    assert analysis.total_macs == 1_135_256_096


def test_corrected_shapes(analyses):
    rows = {r.display: r for r in analyses["alexnet"].rows}
    assert {name: fmt_hwc(rows[name].output) for name in SHAPES} == SHAPES
    assert rows["FC1"].input == (9216,)  # 6x6x256 flattened, not 13x13x256
    assert rows["FC1"].layer.filter_text(rows["FC1"].input) == "4096x9216"  # the weight matrix, not "4096x1"
    assert analyses["alexnet"].input == (3, 224, 224)


def test_generated_table_has_the_seed_numbers():
    from tests.conftest import ROOT

    table = (ROOT / "docs/generated/alexnet/parameters.md").read_text()
    assert "| FC1 | 4096 | 4096x9216 | 37,748,736 | 4,096 | 37,752,832 |" in table
    assert "**62,378,344**" in table and "**1,135,256,096**" in table
    assert "13x13x256 | 4096x" not in table
