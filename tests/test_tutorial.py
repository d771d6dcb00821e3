"""The tutorial's second edit (a residual add around conv4 of `alexnet`) does what its page says: the
edited spec validates, keeps every parameter and state_dict key, and its model adds conv4's input to its
activated output."""

from __future__ import annotations

import torch

import alexnet
from alexnet.codegen import render_model
from alexnet.validation import validate_text
from tests.conftest import ROOT
from tools.render_tutorial import RESIDUAL_AFTER, RESIDUAL_LAYER, render_tutorial_residual

SPEC = ROOT / "spec" / "alexnet.yaml"
GENERATED = ROOT / "docs" / "generated" / "tutorial-residual.md"


def _snippet_lines() -> list[str]:
    """The spec lines the page shows, the inserted one included."""
    text = GENERATED.read_text()
    return text.split("```yaml", 1)[1].split("\n", 1)[1].split("```", 1)[0].splitlines()


def test_the_page_shows_the_spec_as_it_is_plus_one_line():
    spec_lines = SPEC.read_text().splitlines()
    shown = _snippet_lines()
    inserted = [line for line in shown if line not in spec_lines]
    assert inserted == ["    - {name: skip4, kind: add, from: [relu3, relu4]}"]
    position = shown.index(inserted[0])
    assert f"{{name: {RESIDUAL_AFTER}," in shown[position - 1]
    # the lines around it are the file's own, in the file's order
    start = spec_lines.index(shown[0])
    assert shown[:position] + shown[position + 1:] == spec_lines[start:start + len(shown) - 1]


def _edited_text() -> str:
    lines = SPEC.read_text().splitlines()
    at = next(i for i, line in enumerate(lines) if f"{{name: {RESIDUAL_AFTER}," in line)
    return "\n".join([*lines[:at + 1], *[ln for ln in _snippet_lines() if ln not in lines], *lines[at + 1:]]) + "\n"


def test_the_residual_model_loads_the_straight_checkpoint_and_adds_the_skip():
    edited = validate_text(_edited_text(), "spec/alexnet.yaml")
    namespace: dict = {}
    exec(compile(render_model(edited), "alexnet.py", "exec"), namespace)  # our own generated code
    residual = namespace[edited.spec.class_name]().eval()
    straight = alexnet.load_model("alexnet").eval()
    residual.load_state_dict(straight.state_dict(), strict=True)
    assert sum(p.numel() for p in residual.parameters()) == edited.total_params == 62_378_344

    torch.manual_seed(0)
    x = torch.randn(2, 3, 224, 224)
    features = straight.features
    names = [name for _, _, layer in edited.spec.layers() for name in [layer.name]
             if edited.row(name).path and edited.row(name).path[0] == "features"]
    by_name = {name: features[edited.row(name).path[1]] for name in names}
    with torch.no_grad():
        h = x
        for name in names[:names.index("relu3") + 1]:
            h = by_name[name](h)
        skip = by_name["relu4"](by_name["conv4"](h.clone())) + h  # what skip4 computes
        for name in names[names.index("conv5"):]:
            skip = by_name[name](skip)
        expected = straight.classifier(torch.flatten(skip, 1))
        assert torch.allclose(residual(x), expected, atol=1e-6)
        assert not torch.allclose(residual(x), straight(x), atol=1e-3)  # the skip really changes the output


def test_an_edit_the_spec_cannot_take_is_reported_on_the_page(tmp_path):
    """If alexnet.yaml changes so that relu3's shape no longer matches relu4's, the page says so."""
    (tmp_path / "spec").mkdir()
    text = SPEC.read_text().replace("out_channels: 384, kernel_size: 3, padding: 1, bias_init: 1.0",
                                    "out_channels: 256, kernel_size: 3, padding: 1, bias_init: 1.0", 1)
    (tmp_path / "spec" / "alexnet.yaml").write_text(text)
    seed = validate_text(text, "spec/alexnet.yaml")
    page = render_tutorial_residual([seed], tmp_path)
    assert "would make the spec invalid" in page and RESIDUAL_LAYER["name"] in page
    assert "```diff" not in page
