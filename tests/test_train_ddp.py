"""Two gloo processes equal one process on the global batch, each rank training on its own half."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest
import torch

from tests.train_helpers import ROOT, env, free_port, tiny_spec, weights

STEPS, BATCH = 6, 32


def _train(spec, out, trace, world: int) -> list[subprocess.CompletedProcess]:
    args = [sys.executable, "-m", "alexnet", "train", str(spec), "--recipe", "digits", "--out", str(out),
            "--epochs", "1", "--batch-size", str(BATCH), "--train-subset", str(STEPS * BATCH), "--device", "cpu",
            "--trace", str(trace)]
    port = str(free_port())
    procs = [subprocess.Popen(args, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                              env=env(RANK=str(r), LOCAL_RANK=str(r), WORLD_SIZE=str(world), MASTER_ADDR="127.0.0.1",
                                      MASTER_PORT=port))
             for r in range(world)]
    done = []
    try:
        for p in procs:
            stdout, stderr = p.communicate(timeout=600)
            done.append(subprocess.CompletedProcess(p.args, p.returncode, stdout, stderr))
    finally:
        for p in procs:
            if p.poll() is None:
                p.kill()
    for d in done:
        assert d.returncode == 0, d.stderr[-3000:]
    return done


def _batches(trace, rank: int) -> list[list[int]]:
    return json.loads((trace.parent / f"{trace.name}.{rank}").read_text().splitlines()[0])["batches"]


@pytest.mark.slow
def test_two_gloo_processes_equal_one_process_on_the_global_batch(tmp_path):
    spec = tiny_spec(tmp_path)  # no dropout, no batch norm: the two runs must agree to rounding
    _train(spec, tmp_path / "one", tmp_path / "one.trace", world=1)
    _train(spec, tmp_path / "two", tmp_path / "two.trace", world=2)

    single, rank0, rank1 = _batches(tmp_path / "one.trace", 0), *(_batches(tmp_path / "two.trace", r) for r in (0, 1))
    assert len(single) == len(rank0) == len(rank1) == STEPS
    for whole, half0, half1 in zip(single, rank0, rank1, strict=True):
        assert len(half0) == len(half1) == BATCH // 2
        assert not set(half0) & set(half1)  # each rank its own half ...
        assert sorted(half0 + half1) == sorted(whole)  # ... of the very batch the single process used

    one, two = weights(tmp_path / "one" / "checkpoint.pt"), weights(tmp_path / "two" / "checkpoint.pt")
    start = torch.load(tmp_path / "one" / "checkpoint.pt", weights_only=True)
    assert start["world_size"] == 1
    for key in one:
        assert torch.allclose(one[key], two[key], rtol=0, atol=1e-6), (key, (one[key] - two[key]).abs().max())
    moved = max((one[k] - w).abs().max().item() for k, w in _initial(spec).items())
    assert moved > 1e-3  # the weights did train: equality is not of two untouched models

    m1 = json.loads((tmp_path / "one" / "metrics.jsonl").read_text())
    m2 = json.loads((tmp_path / "two" / "metrics.jsonl").read_text())
    assert m1["train_images"] == m2["train_images"] == STEPS * BATCH
    assert m1["val_images"] == m2["val_images"] == 300  # validation sharded without padding: every image once
    assert m1["val_top1_error"] == pytest.approx(m2["val_top1_error"], abs=1e-9)
    assert not (tmp_path / "two" / ".checkpoint.pt.tmp").exists()


def _initial(spec) -> dict:
    from alexnet.train.commands import resolve_spec
    from alexnet.train.model import build_model

    torch.manual_seed(0)  # the digits recipe's seed, as the training command seeds it
    return build_model(resolve_spec(str(spec))).state_dict()
