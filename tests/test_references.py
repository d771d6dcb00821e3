"""Our analysis and generated models against independent references: torchinfo, PyTorch's FlopCounterMode,
torchvision's AlexNet, Caffe BVLC's blob shapes and the figures in DESIGN.md."""

import pytest
import torch
import torchinfo
import torchvision
from torch.utils.flop_counter import FlopCounterMode

import alexnet
from alexnet.analysis import Analysis, analyse
from alexnet.pretrained import WeightsMismatchError, check_compatible, load_torchvision_weights
from alexnet.spec import load_spec
from tests.conftest import ROOT as ROOT_DIR
from tests.conftest import SPEC_NAMES
from tools.render_markdown import in_parameter_table

BATCH = 2  # more than one image, so per-image and per-batch counts cannot be confused

EXPECTED = {  # spec: (parameters, MACs), from DESIGN.md's independent sources
    "alexnet": (62_378_344, 1_135_256_096),
    "alexnet_paper": (60_965_224, 724_406_816),
    "alexnet_torchvision": (61_100_840, 714_188_480),
}

# Caffe's models/bvlc_alexnet/deploy.prototxt: the parameter blobs (weights, biases) of each layer.
CAFFE_BVLC_BLOBS = [
    ((96, 3, 11, 11), (96,)), ((256, 48, 5, 5), (256,)), ((384, 256, 3, 3), (384,)),
    ((384, 192, 3, 3), (384,)), ((256, 192, 3, 3), (256,)),
    ((4096, 9216), (4096,)), ((4096, 4096), (4096,)), ((1000, 4096), (1000,)),
]


def meta_model(name: str) -> torch.nn.Module:
    with torch.device("meta"):
        return alexnet.load_model(name).eval()


def torchinfo_mult_adds(analysis: Analysis) -> int:
    """torchinfo's convention, derived from our rows: every parameter, bias included, is one multiply-add
    per output position (conv: params x Hout x Wout) or per image (linear, batch norm)."""
    return sum(r.params * (r.output[1] * r.output[2] if r.kind == "conv" else 1) for r in analysis.rows)


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_bundled_specs_have_the_expected_figures(name, analyses):
    assert (analyses[name].total_params, analyses[name].total_macs) == EXPECTED[name]


@pytest.mark.parametrize("name", SPEC_NAMES)
def test_torchinfo_agrees(name, analyses):
    analysis = analyses[name]
    stats = torchinfo.summary(meta_model(name), input_size=(BATCH, *analysis.input), device="meta", verbose=0)
    assert stats.total_params == analysis.total_params
    assert stats.trainable_params == analysis.total_params
    assert stats.total_mult_adds == BATCH * torchinfo_mult_adds(analysis)


@pytest.mark.parametrize("name", SPEC_NAMES)
def test_flop_counter_agrees(name, analyses):
    analysis = analyses[name]
    model = meta_model(name)
    with FlopCounterMode(display=False) as counter, torch.no_grad():
        model(torch.empty(BATCH, *analysis.input, device="meta"))
    assert counter.get_total_flops() == BATCH * 2 * analysis.total_macs


def test_state_dict_layout_is_torchvisions():
    with torch.device("meta"):
        theirs = torchvision.models.alexnet()
    ours = meta_model("alexnet_torchvision")
    assert [(k, v.shape) for k, v in ours.state_dict().items()] == \
        [(k, v.shape) for k, v in theirs.state_dict().items()]
    assert [type(m) for m in ours.modules()][1:] == [type(m) for m in theirs.modules()][1:]


@pytest.fixture(scope="module")
def torchvision_model():
    torch.manual_seed(0)
    return torchvision.models.alexnet().eval()  # random weights: nothing is downloaded


def assert_same_outputs(ours, theirs):
    torch.manual_seed(1)
    x = torch.randn(BATCH, 3, 224, 224)
    with torch.no_grad():
        expected = theirs(x)
        got = ours.eval()(x)
    assert torch.equal(got, expected)
    assert not torch.equal(got, torch.zeros_like(got))


def test_torchvision_weights_give_identical_outputs(torchvision_model):
    ours = load_torchvision_weights(torchvision_model.state_dict())
    assert type(ours).__module__ == "alexnet.models.alexnet_torchvision"
    assert_same_outputs(ours, torchvision_model)


def test_torchvision_checkpoint_file_loads(torchvision_model, tmp_path):
    path = tmp_path / "alexnet-owt-test.pth"
    torch.save(torchvision_model.state_dict(), path)  # the format of torchvision's published checkpoint
    ours = load_torchvision_weights(path, model=alexnet.load_model("alexnet_torchvision"))
    assert_same_outputs(ours, torchvision_model)


def test_mismatched_weights_are_refused_with_every_difference(torchvision_model):
    paper = alexnet.load_model("alexnet_paper")
    before = paper.features[0].weight.clone()
    with pytest.raises(WeightsMismatchError) as error:
        load_torchvision_weights(torchvision_model.state_dict(), model=paper)
    message = str(error.value)
    assert "features.0.weight: the model has 96x3x11x11, the weights 64x3x11x11" in message
    assert "missing features.4.weight 256x48x5x5" in message  # torchvision's conv2 is features.3
    assert "unexpected features.3.weight 192x64x5x5" in message
    assert torch.equal(paper.features[0].weight, before)  # nothing copied


def test_missing_and_extra_keys_are_named():
    ours = meta_model("alexnet_torchvision")
    state = dict(ours.state_dict())
    state.pop("classifier.6.bias")
    state["classifier.7.weight"] = torch.empty(3)
    with pytest.raises(WeightsMismatchError, match=r"missing classifier\.6\.bias 1000; unexpected classifier\.7"):
        check_compatible(ours, state)


def test_no_weights_without_permission_to_download():
    with pytest.raises(ValueError, match="download=True"):
        load_torchvision_weights()


def test_missing_checkpoint_file(tmp_path):
    with pytest.raises(FileNotFoundError, match="no checkpoint at"):
        load_torchvision_weights(tmp_path / "absent.pth")


def test_paper_spec_has_caffe_bvlc_blob_shapes():
    model = meta_model("alexnet_paper")
    blobs = [(tuple(m.weight.shape), tuple(m.bias.shape)) for m in model.modules()
             if isinstance(m, (torch.nn.Conv2d, torch.nn.Linear))]
    assert blobs == CAFFE_BVLC_BLOBS
    groups = [m.groups for m in model.modules() if isinstance(m, torch.nn.Conv2d)]
    assert groups == [1, 2, 1, 2, 2]  # conv2, conv4, conv5 see one GPU's maps


# --- docs/generated/comparison.md: every spec side by side, derived from the specs ---------------------------

def comparison_cells(text: str, first_cell: str) -> list[str]:
    line = next(line for line in text.splitlines() if line.startswith(f"| {first_cell} |"))
    return [cell.strip() for cell in line.strip().strip("|").split("|")][1:]


def test_comparison_per_layer_and_totals_equal_the_analyses(analyses):
    from tools.generate import compared
    from tools.render_comparison import render_comparison

    ordered = compared([analyses[name] for name in SPEC_NAMES])
    text = render_comparison(ordered)
    assert text == (ROOT_DIR / "docs/generated/comparison.md").read_text()
    for column, analysis in enumerate(ordered):
        for row in analysis.rows:
            if in_parameter_table(row):
                cells = comparison_cells(text, row.display)
                assert cells[2 * column: 2 * column + 2] == [f"{row.params:,}", f"{row.macs:,}"], row.display
        total = comparison_cells(text, "**Total**")[2 * column: 2 * column + 2]
        assert total == [f"**{analysis.total_params:,}**", f"**{analysis.total_macs:,}**"]


def test_comparison_takes_in_a_new_spec(analyses, tmp_path):
    """A spec added to spec/ gets its own column; its differences are derived, not typed."""
    from tools.render_comparison import render_comparison

    text = (ROOT_DIR / "spec/alexnet.yaml").read_text().replace("name: alexnet\n", "name: variant\n")
    text = text.replace("{name: conv3, display: Conv3, kind: conv, out_channels: 384,",
                        "{name: conv3, display: Conv3_g*, kind: conv, out_channels: 384, groups: 4,")
    text = text.replace("{name: drop2, kind: dropout, p: 0.5}", "{name: drop2, kind: dropout, p: 0.25}")
    text = text.replace("- {name: norm2, kind: lrn", "- {name: bn2, kind: batchnorm}\n    # - {name: norm2, kind: lrn")
    (tmp_path / "variant.yaml").write_text(text)
    variant = analyse(load_spec(tmp_path / "variant.yaml"))
    rendered = render_comparison([analyses["alexnet"], variant])
    assert "| `alexnet` | `variant` |" in rendered
    assert comparison_cells(rendered, "**Grouped convolutions**") == ["none", r"Conv3\_g\*: 4 groups"]
    assert comparison_cells(rendered, "**Dropout**")[1] == "p=0.5 after relu6, before FC2; p=0.25 after relu7, before FC3"
    assert comparison_cells(rendered, "**Local response normalization**")[1].startswith("after relu1, before Pool1 (")
    assert comparison_cells(rendered, "Input (C x H x W) (same in all)") == ["3x224x224", "3x224x224"]
    bn2 = variant.row("bn2")  # batch norm has parameters, so it is a row of its own
    assert comparison_cells(rendered, "bn2") == ["-", "-", f"{bn2.params:,}", "0"]
    assert comparison_cells(rendered, r"Conv3\_g\*") == ["-", "-", f"{variant.row('conv3').params:,}",
                                                        f"{variant.row('conv3').macs:,}"]


def test_merge_orders_keeps_each_sequence_order():
    from tools.render_comparison import _merge_orders

    assert _merge_orders([["a", "b", "d"], ["a", "c", "d", "e"], ["x", "b"]]) == ["a", "x", "b", "c", "d", "e"]
    assert _merge_orders([["a", "b"], ["n", "a", "m", "b", "z"]]) == ["n", "a", "m", "b", "z"]
