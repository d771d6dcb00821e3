"""The paper's update rule as a torch optimizer, and the learning-rate schedules of the recipes.

Krizhevsky et al. (2012, section 5) write the update as
    v <- m v - wd lr w - lr grad;    w <- w + v
with the learning rate inside the velocity. ``torch.optim.SGD`` keeps it outside
(v <- m v + grad + wd w; w <- w - lr v), which is the same step while the rate is constant but not after a
cut: torch's whole velocity is rescaled at once, the paper's decays from the old rate over a few steps.
"""

from __future__ import annotations

import torch

from alexnet.recipe import Recipe


class PaperSGD(torch.optim.Optimizer):
    """SGD with momentum and weight decay exactly as printed in the paper (Caffe's SGD solver does the same)."""

    def __init__(self, params, lr: float, momentum: float = 0.9, weight_decay: float = 0.0):
        if lr <= 0 or not 0 <= momentum <= 1 or weight_decay < 0:
            raise ValueError(f"bad PaperSGD constants lr={lr} momentum={momentum} weight_decay={weight_decay}")
        super().__init__(params, {"lr": lr, "momentum": momentum, "weight_decay": weight_decay})

    @torch.no_grad()
    def step(self, closure=None):
        loss = None
        if closure is not None:
            with torch.enable_grad():
                loss = closure()
        for group in self.param_groups:
            lr, momentum, decay = group["lr"], group["momentum"], group["weight_decay"]
            for p in group["params"]:
                if p.grad is None:
                    continue
                state = self.state[p]
                if "velocity" not in state:
                    state["velocity"] = torch.zeros_like(p)
                v = state["velocity"]
                v.mul_(momentum).add_(p, alpha=-decay * lr).add_(p.grad, alpha=-lr)
                p.add_(v)
        return loss


def build_optimizer(recipe: Recipe, params) -> torch.optim.Optimizer:
    o = recipe.optimizer
    if o.kind == "paper_sgd":
        return PaperSGD(params, lr=o.lr, momentum=o.momentum, weight_decay=o.weight_decay)
    return torch.optim.SGD(params, lr=o.lr, momentum=o.momentum, weight_decay=o.weight_decay, nesterov=o.nesterov)


class Schedule:
    """Sets the learning rate once per epoch from the recipe's schedule; its state goes into checkpoints."""

    def __init__(self, recipe: Recipe, optimizer: torch.optim.Optimizer):
        self.config, self.optimizer = recipe.schedule, optimizer
        self.base_lr = recipe.optimizer.lr
        self.lr = self.base_lr
        self.best: float | None = None  # plateau: the lowest validation error so far
        self.bad_epochs = 0
        self.reductions = 0

    def start_epoch(self, epoch: int) -> float:
        """The rate for ``epoch`` (0-based), written into the optimizer."""
        if self.config.kind == "step":
            self.lr = self.base_lr * self.config.factor ** (epoch // self.config.step_size)
        for group in self.optimizer.param_groups:
            group["lr"] = self.lr
        return self.lr

    def end_epoch(self, val_error: float) -> None:
        c = self.config
        if c.kind != "plateau":
            return
        if self.best is None or val_error < self.best - c.threshold:
            self.best, self.bad_epochs = val_error, 0
            return
        self.bad_epochs += 1
        if self.bad_epochs >= c.patience and (c.max_reductions is None or self.reductions < c.max_reductions):
            self.lr *= c.factor
            self.reductions += 1
            self.bad_epochs = 0

    def state_dict(self) -> dict:
        return {"lr": self.lr, "best": self.best, "bad_epochs": self.bad_epochs, "reductions": self.reductions}

    def load_state_dict(self, state: dict) -> None:
        self.lr, self.best = state["lr"], state["best"]
        self.bad_epochs, self.reductions = state["bad_epochs"], state["reductions"]
