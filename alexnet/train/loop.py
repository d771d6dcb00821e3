"""The training loop: one process, or one of many under torchrun (DistributedDataParallel).

Reproducibility: every epoch reseeds torch from (seed, epoch, rank) and shuffles with DistributedSampler's
(seed + epoch) permutation, so a run resumed from an end-of-epoch checkpoint continues exactly as if it had
never stopped. With N processes, rank r takes every N-th image of the same global permutation: at each step
the N local batches together are the single-process global batch, and DDP averages their gradients.
"""

from __future__ import annotations

import datetime
import os
import signal
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import torch
import torch.distributed as dist
import torch.nn.functional as F
from torch.utils.data import BatchSampler, DataLoader, DistributedSampler, Subset

from alexnet.recipe import Recipe

from . import TrainError
from .data import collate

DIST_TIMEOUT_S = float(os.environ.get("ALEXNET_DIST_TIMEOUT_S", "600"))
CHECKPOINT_FORMAT = "alexnet-train/1"


@dataclass
class Context:
    """This process's place in the job."""

    rank: int = 0
    world: int = 1
    local_rank: int = 0
    device: torch.device = field(default_factory=lambda: torch.device("cpu"))

    @property
    def distributed(self) -> bool:
        return self.world > 1

    @property
    def main(self) -> bool:
        return self.rank == 0


def world_from_env() -> tuple[int, int, int]:
    """(rank, world size, local rank) as torchrun sets them; (0, 1, 0) for a plain run."""
    return int(os.environ.get("RANK", 0)), int(os.environ.get("WORLD_SIZE", 1)), int(os.environ.get("LOCAL_RANK", 0))


def start(device: str) -> Context:
    rank, world, local_rank = world_from_env()
    if device == "auto":
        device = "cuda" if torch.cuda.is_available() else "cpu"
    dev = torch.device(f"cuda:{local_rank}" if device == "cuda" and world > 1 else device)
    if dev.type == "cuda":
        torch.cuda.set_device(dev)
    if world > 1:  # a timeout, so a dead peer ends the job with an error instead of a hang
        dist.init_process_group("nccl" if dev.type == "cuda" else "gloo",
                                timeout=datetime.timedelta(seconds=DIST_TIMEOUT_S))
    return Context(rank, world, local_rank, dev)


def finish(ctx: Context) -> None:
    if ctx.distributed and dist.is_initialized():
        dist.destroy_process_group()


def seed_epoch(seed: int, epoch: int, rank: int) -> None:
    torch.manual_seed((seed * 1_000_003 + epoch * 7_919 + rank) % 2**63)


def epoch_batches(n: int, batch_size: int, ctx: Context, seed: int, epoch: int) -> list[list[int]]:
    """This rank's index batches for ``epoch``: its share of every global batch (incomplete batches dropped)."""
    sampler = DistributedSampler(range(n), num_replicas=ctx.world, rank=ctx.rank, shuffle=True, seed=seed,
                                 drop_last=True)
    sampler.set_epoch(epoch)
    return list(BatchSampler(sampler, batch_size // ctx.world, drop_last=True))


def save_atomic(path: Path, state: dict) -> None:
    """Write next to ``path`` and rename: a reader (or a kill at any moment) sees the old file or the new one."""
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        with open(tmp, "wb") as handle:
            torch.save(state, handle)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    fd = os.open(path.parent, os.O_RDONLY)
    try:
        os.fsync(fd)  # the rename itself survives a crash
    finally:
        os.close(fd)


def write_text_atomic(path: Path, text: str) -> None:
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    tmp.write_text(text)
    os.replace(tmp, path)


def reduce_sum(values: list[float], ctx: Context) -> list[float]:
    if not ctx.distributed:
        return values
    t = torch.tensor(values, dtype=torch.float64, device=ctx.device)
    dist.all_reduce(t)
    return t.tolist()


class StopFlag:
    """SIGTERM (a scheduler's pre-emption) asks for a checkpoint at the next step instead of dying mid-write."""

    def __init__(self):
        self.requested = False
        self._previous = signal.signal(signal.SIGTERM, self._handle)

    def _handle(self, signum, frame) -> None:
        self.requested = True

    def agreed(self, ctx: Context) -> bool:
        """All ranks stop at the same step (otherwise the others would wait in a collective forever)."""
        if not ctx.distributed:
            return self.requested
        t = torch.tensor([float(self.requested)], device=ctx.device)
        dist.all_reduce(t, op=dist.ReduceOp.MAX)
        return bool(t.item())

    def restore(self) -> None:
        signal.signal(signal.SIGTERM, self._previous)


@torch.no_grad()
def evaluate(model, data, batch_size: int, ctx: Context, ten_crop: bool = False, workers: int = 0,
             autocast: bool = False) -> dict:
    """Loss and top-1/top-5 error on ``data`` (sharded over the ranks, no padding, so every image counts once)."""
    model.eval()
    shard = Subset(data, list(range(ctx.rank, len(data), ctx.world)))
    loader = DataLoader(shard, batch_size=batch_size, num_workers=workers, collate_fn=collate,
                        pin_memory=ctx.device.type == "cuda")
    totals = [0.0, 0.0, 0.0, 0.0, 0.0]  # loss, top-1 wrong, top-5 wrong, images, unreadable
    for x, y, unreadable in loader:
        totals[4] += len(unreadable)
        if not len(y):
            continue
        x, y = x.to(ctx.device, non_blocking=True), y.to(ctx.device, non_blocking=True)
        crops = x.shape[1] if ten_crop else 1
        with torch.autocast(ctx.device.type, dtype=torch.bfloat16, enabled=autocast):
            logits = model(x.flatten(0, 1) if ten_crop else x).float()
        # Ten crops: the softmax outputs are averaged, as in the paper.
        probs = logits.softmax(-1).view(len(y), crops, -1).mean(1)
        totals[0] += F.nll_loss(probs.clamp_min(1e-12).log(), y, reduction="sum").item()
        top = probs.topk(min(5, probs.shape[1]), dim=1).indices
        totals[1] += (top[:, 0] != y).sum().item()
        totals[2] += (~(top == y[:, None]).any(1)).sum().item()
        totals[3] += len(y)
    loss, wrong1, wrong5, n, unreadable = reduce_sum(totals, ctx)
    n_safe = max(n, 1)
    return {"loss": loss / n_safe, "top1_error": wrong1 / n_safe, "top5_error": wrong5 / n_safe, "images": int(n),
            "unreadable": int(unreadable)}


class Progress:
    """A live line on a terminal; nothing per step when the output is a file or a pipe."""

    def __init__(self, enabled: bool):
        self.enabled = enabled and sys.stderr.isatty()
        self.last = 0.0

    def update(self, text: str) -> None:
        now = time.monotonic()
        if self.enabled and now - self.last > 0.2:
            print(f"\r{text}\033[K", end="", file=sys.stderr, flush=True)
            self.last = now

    def done(self) -> None:
        if self.enabled:
            print("\r\033[K", end="", file=sys.stderr, flush=True)


def train_epoch(model, optimizer, data, batches: list[list[int]], ctx: Context, recipe: Recipe, stop: StopFlag,
                partial: dict, progress: Progress, epoch: int, autocast: bool, step_hook=None) -> bool:
    """Train on ``batches`` (this rank's, from ``partial["step"]`` on); update ``partial`` in place.

    Returns True when a SIGTERM stopped the epoch early (``partial`` then says where).
    """
    model.train()
    loader = DataLoader(data, batch_sampler=batches[partial["step"]:], num_workers=recipe.data.workers,
                        collate_fn=collate, pin_memory=ctx.device.type == "cuda",
                        generator=torch.Generator().manual_seed(recipe.seed * 1_000_003 + epoch * 7_919 + ctx.rank))
    started = time.perf_counter()
    for x, y, unreadable in loader:
        if unreadable and recipe.data.unreadable == "stop":
            raise TrainError(f"{unreadable[0]}: cannot read this image (the recipe says data.unreadable: stop; "
                             "'skip' would skip and count it)")
        partial["unreadable"] += len(unreadable)
        # A batch whose images were all unreadable is skipped; under DDP the other ranks then wait for it until
        # the process-group timeout (ALEXNET_DIST_TIMEOUT_S) ends the job with an error rather than a hang.
        if len(y):
            x, y = x.to(ctx.device, non_blocking=True), y.to(ctx.device, non_blocking=True)
            if ctx.device.type == "cuda":
                x = x.contiguous(memory_format=torch.channels_last)
            with torch.autocast(ctx.device.type, dtype=torch.bfloat16, enabled=autocast):
                logits = model(x)
            loss = F.cross_entropy(logits.float(), y)
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()
            partial["loss"] += loss.item() * len(y)
            partial["wrong"] += (logits.argmax(1) != y).sum().item()
            partial["images"] += len(y)
        partial["step"] += 1
        if step_hook is not None:
            step_hook(partial["step"])
        elapsed = partial["time"] + time.perf_counter() - started
        progress.update(f"epoch {epoch + 1}: step {partial['step']}/{len(batches)}, "
                        f"loss {partial['loss'] / max(partial['images'], 1):.4f}, "
                        f"{partial['images'] * ctx.world / max(elapsed, 1e-9):.0f} images/s")
        if stop.agreed(ctx) and partial["step"] < len(batches):
            partial["time"] += time.perf_counter() - started
            return True
    partial["time"] += time.perf_counter() - started
    return False


def new_partial() -> dict:
    return {"step": 0, "loss": 0.0, "wrong": 0.0, "images": 0.0, "unreadable": 0.0, "time": 0.0}


def epoch_metrics(epoch: int, partial: dict, val: dict, lr: float, ctx: Context) -> dict:
    loss, wrong, images, unreadable = reduce_sum([partial["loss"], partial["wrong"], partial["images"],
                                                  partial["unreadable"]], ctx)
    return {"epoch": epoch + 1, "train_loss": loss / max(images, 1), "train_top1_error": wrong / max(images, 1),
            "val_loss": val["loss"], "val_top1_error": val["top1_error"], "val_top5_error": val["top5_error"],
            "lr": lr, "images_per_s": images / max(partial["time"], 1e-9), "train_images": int(images),
            "val_images": val["images"], "unreadable_skipped": int(unreadable + val["unreadable"]),
            "epoch_time_s": partial["time"]}


def describe(m: dict) -> str:
    return (f"epoch {m['epoch']}: train loss {m['train_loss']:.4f}, val loss {m['val_loss']:.4f}, "
            f"val top-1 error {100 * m['val_top1_error']:.2f}%, top-5 {100 * m['val_top5_error']:.2f}%, "
            f"lr {m['lr']:g}, {m['images_per_s']:.0f} images/s, {m['epoch_time_s']:.1f} s")


def tensorboard_writer(out: Path):
    try:
        from torch.utils.tensorboard import SummaryWriter
    except ImportError:  # optional: TensorBoard logs only when it is installed
        return None
    return SummaryWriter(str(out / "tensorboard"))
