"""Runs survive: SIGKILL or SIGTERM, then --resume, ends with the weights of an uninterrupted run."""

from __future__ import annotations

import json
import signal
import time

import pytest
import torch

from tests.train_helpers import alexnet, popen, tiny_spec, weights

EPOCHS = 4
ARGS = ("--recipe", "digits", "--epochs", str(EPOCHS), "--batch-size", "16", "--train-subset", "480", "--device", "cpu")
VOLATILE = {"images_per_s", "epoch_time_s"}  # timings differ between runs; everything else must not


def _wait_for_lines(path, n: int, proc, timeout: float = 600) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if path.exists() and len(path.read_text().splitlines()) >= n:
            return
        assert proc.poll() is None, proc.communicate()[1][-2000:]
        time.sleep(0.01)
    raise AssertionError(f"no {n} line(s) in {path} after {timeout} s")


def _metrics(out) -> list[dict]:
    return [{k: v for k, v in json.loads(line).items() if k not in VOLATILE}
            for line in (out / "metrics.jsonl").read_text().splitlines()]


@pytest.fixture(scope="module")
def uninterrupted(tmp_path_factory):
    folder = tmp_path_factory.mktemp("uninterrupted")
    spec = tiny_spec(folder, dropout=True)  # dropout: the random stream must resume where it stopped
    done = alexnet("train", spec, *ARGS, "--out", folder / "run")
    assert done.returncode == 0, done.stderr[-2000:]
    return spec, folder / "run"


def _assert_same_run(out, reference) -> None:
    ours, theirs = weights(out / "checkpoint.pt"), weights(reference / "checkpoint.pt")
    assert ours.keys() == theirs.keys()
    for key in ours:
        assert torch.equal(ours[key], theirs[key]), key
    assert _metrics(out) == _metrics(reference)
    assert len(_metrics(out)) == EPOCHS


@pytest.mark.slow
def test_resume_after_sigkill_equals_uninterrupted_run(tmp_path, uninterrupted):
    spec, reference = uninterrupted
    out = tmp_path / "run"
    proc = popen("train", spec, *ARGS, "--out", out)
    _wait_for_lines(out / "metrics.jsonl", 1, proc)
    proc.send_signal(signal.SIGKILL)
    proc.communicate(timeout=30)
    assert proc.returncode == -signal.SIGKILL
    assert len(_metrics(out)) < EPOCHS  # killed before the end
    before = (out / "checkpoint.pt").read_bytes()
    assert torch.load(out / "checkpoint.pt", weights_only=True)["epoch"] >= 1

    again = alexnet("train", spec, *ARGS, "--out", out)  # without --resume: refused, the run untouched
    assert again.returncode == 2 and "--resume" in again.stderr
    assert (out / "checkpoint.pt").read_bytes() == before

    done = alexnet("train", spec, *ARGS, "--out", out, "--resume")
    assert done.returncode == 0, done.stderr[-2000:]
    _assert_same_run(out, reference)


@pytest.mark.slow
def test_sigterm_checkpoints_mid_epoch_and_resume_equals_uninterrupted_run(tmp_path, uninterrupted):
    spec, reference = uninterrupted
    out = tmp_path / "run"
    proc = popen("train", spec, *ARGS, "--out", out)
    _wait_for_lines(out / "metrics.jsonl", 1, proc)
    proc.send_signal(signal.SIGTERM)
    stdout, stderr = proc.communicate(timeout=60)
    assert proc.returncode == 143, stderr[-2000:]
    assert "--resume" in stdout
    state = torch.load(out / "checkpoint.pt", weights_only=True)
    assert state["partial"]["step"] > 0  # stopped inside an epoch, not at its end

    done = alexnet("train", spec, *ARGS, "--out", out, "--resume")
    assert done.returncode == 0, done.stderr[-2000:]
    _assert_same_run(out, reference)
