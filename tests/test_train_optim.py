"""The paper's update rule (hand-computed steps) and the recipes' learning-rate schedules."""

from __future__ import annotations

import pytest
import torch

from alexnet.recipe import load_recipe
from alexnet.train.optim import PaperSGD, Schedule


def _steps(optimizer_factory, lrs: list[float]) -> list[list[float]]:
    """Minimise 0.5 * w^2 (gradient w) from w = [2, -1], one step per learning rate; the weights after each."""
    w = torch.nn.Parameter(torch.tensor([2.0, -1.0], dtype=torch.float64))
    optimizer = optimizer_factory([w])
    out = []
    for lr in lrs:
        for group in optimizer.param_groups:
            group["lr"] = lr
        optimizer.zero_grad()
        (0.5 * (w * w).sum()).backward()
        optimizer.step()
        out.append(w.detach().tolist())
    return out


def test_paper_rule_two_steps_by_hand():
    # lr 0.1, momentum 0.9, weight decay 0.5 (large, so it shows). Gradient g = w.
    # step 1: v = 0.9*0 - 0.5*0.1*2 - 0.1*2 = -0.3;            w = 2 - 0.3 = 1.7
    # step 2: v = 0.9*(-0.3) - 0.5*0.1*1.7 - 0.1*1.7 = -0.525;  w = 1.7 - 0.525 = 1.175
    # (w = -1 follows the same steps scaled by -1/2: -0.85, then -0.5875)
    got = _steps(lambda p: PaperSGD(p, lr=0.1, momentum=0.9, weight_decay=0.5), [0.1, 0.1])
    assert got[0] == pytest.approx([1.7, -0.85], abs=1e-12)
    assert got[1] == pytest.approx([1.175, -0.5875], abs=1e-12)


def test_paper_rule_differs_from_torch_sgd_after_a_rate_cut():
    # Same first step; then lr 0.1 -> 0.01. Paper: v = 0.9*(-0.3) - (0.005 + 0.01)*1.7 = -0.2955, w = 1.4045.
    # torch.optim.SGD: buf = 0.9*1.5*2 + 1.5*1.7 = 5.25 (grad + wd*w), w = 1.7 - 0.01*5.25 = 1.6475.
    paper = _steps(lambda p: PaperSGD(p, lr=0.1, momentum=0.9, weight_decay=0.5), [0.1, 0.01])
    torch_sgd = _steps(lambda p: torch.optim.SGD(p, lr=0.1, momentum=0.9, weight_decay=0.5), [0.1, 0.01])
    assert paper[0] == pytest.approx(torch_sgd[0], abs=1e-12)  # identical while the rate is constant
    assert paper[1][0] == pytest.approx(1.4045, abs=1e-12)
    assert torch_sgd[1][0] == pytest.approx(1.6475, abs=1e-12)


def test_step_schedule_of_torchvision_recipe():
    recipe = load_recipe("torchvision")
    schedule = Schedule(recipe, PaperSGD([torch.nn.Parameter(torch.zeros(1))], lr=recipe.optimizer.lr))
    assert [schedule.start_epoch(e) for e in (0, 29, 30, 59, 60, 89)] == pytest.approx(
        [0.01, 0.01, 0.001, 0.001, 0.0001, 0.0001])


def test_plateau_schedule_of_paper_recipe_cuts_three_times_at_most():
    recipe = load_recipe("paper")  # patience 5, factor 0.1, max_reductions 3
    optimizer = PaperSGD([torch.nn.Parameter(torch.zeros(1))], lr=recipe.optimizer.lr)
    schedule = Schedule(recipe, optimizer)
    rates = []
    for epoch, error in enumerate([0.9, 0.8, 0.7] + [0.7] * 30):
        rates.append(schedule.start_epoch(epoch))
        schedule.end_epoch(error)
    assert rates[:8] == pytest.approx([0.01] * 8)  # improving, then 5 epochs without improvement
    assert rates[8] == pytest.approx(0.001)
    assert rates[-1] == pytest.approx(0.00001) and schedule.reductions == 3
    assert optimizer.param_groups[0]["lr"] == pytest.approx(rates[-1])
    copy = Schedule(recipe, optimizer)
    copy.load_state_dict(schedule.state_dict())
    assert copy.state_dict() == schedule.state_dict()
