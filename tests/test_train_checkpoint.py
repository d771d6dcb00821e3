"""Checkpoints are written atomically; the model comes from the generated module or the same rendered code."""

from __future__ import annotations

import pytest
import torch

from alexnet.train import TrainError
from alexnet.train.commands import resolve_spec
from alexnet.train.loop import save_atomic
from alexnet.train.model import build_model, check_state_dict
from tests.train_helpers import ROOT, tiny_spec


def test_a_failed_write_leaves_the_previous_checkpoint_intact(tmp_path, monkeypatch):
    path = tmp_path / "checkpoint.pt"
    save_atomic(path, {"epoch": 1, "w": torch.ones(3)})
    before = path.read_bytes()

    def broken_save(obj, handle):
        handle.write(b"half a checkpoint")
        raise OSError("disk full")

    monkeypatch.setattr(torch, "save", broken_save)
    with pytest.raises(OSError, match="disk full"):
        save_atomic(path, {"epoch": 2, "w": torch.zeros(3)})
    assert path.read_bytes() == before
    assert [p.name for p in tmp_path.iterdir()] == ["checkpoint.pt"]  # no temporary file left behind


def test_bundled_spec_uses_the_generated_module_and_an_edited_copy_its_own_code(tmp_path):
    model = build_model(resolve_spec("alexnet_mini"))
    assert type(model).__module__ == "alexnet.models.alexnet_mini"
    edited = tmp_path / "alexnet_mini.yaml"
    edited.write_text((ROOT / "spec" / "alexnet_mini.yaml").read_text().replace("out_features: 256}", "out_features: 128}"))
    other = build_model(resolve_spec(str(edited)))
    assert type(other).__module__ == "alexnet_spec_alexnet_mini"
    assert other.classifier[0].out_features == 128 and model.classifier[0].out_features == 256
    torch.manual_seed(0)
    assert other(torch.randn(2, 1, 28, 28)).shape == (2, 10)


def test_foreign_weights_name_the_differing_keys(tmp_path):
    small = build_model(resolve_spec(str(tiny_spec(tmp_path, "small"))))
    wide = build_model(resolve_spec(str(tiny_spec(tmp_path, "wide", width=16))))
    with pytest.raises(TrainError, match=r"shape features\.0\.weight \[16, 1, 3, 3\] vs \[8, 1, 3, 3\]"):
        check_state_dict(small, wide.state_dict(), "w.pt")
    with pytest.raises(TrainError, match=r"missing classifier\.weight"):
        check_state_dict(small, {k: v for k, v in small.state_dict().items() if k != "classifier.weight"}, "w.pt")
    check_state_dict(small, small.state_dict(), "w.pt")  # its own weights fit
