"""Run the experiments of ``spec/experiments/`` and write ``docs/generated/experiments/<name>.json``.

    python -m alexnet.train.experiments [EXPERIMENT ...] [--jobs N] [--out DIR]      (``make experiments``)

Every (variant spec, recipe, seed) is trained once per invocation even when several experiments share it
(the unedited base is the same network in all of them). Runs go to ``--jobs`` worker processes with one
thread each: on a small CPU two single-threaded trainings finish sooner than one using both cores.

The data sets that fit in memory (Fashion-MNIST, the digits) are augmented a batch at a time here instead
of image by image as ``python -m alexnet train`` does (the recipe's padding, random crop and flip, the same
distribution), which makes a run several times faster on a CPU. The network, its initialization, the
optimizer (the paper's update rule) and the learning-rate schedule are the training package's own.
"""

from __future__ import annotations

import argparse
import datetime
import json
import math
import multiprocessing
import os
import platform
import sys
import tempfile
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import torch
import torch.nn.functional as F

from alexnet.analysis import analyse
from alexnet.experiment import RESULTS_DIR, RESULTS_FORMAT, Loaded, bundled_experiments, digest, load_experiment
from alexnet.recipe import Recipe, load_recipe
from alexnet.source import SpecError
from alexnet.spec import load_spec

from . import TrainError
from .data import digits, fashion_mnist
from .loop import seed_epoch
from .model import build_model
from .optim import Schedule, build_optimizer

EVAL_BATCH = 500


# --- one run ------------------------------------------------------------------------------------------------

_DATA: dict = {}


def _images(recipe: Recipe, split: str, size: tuple[int, int], data_dir: str | None) -> tuple[torch.Tensor, torch.Tensor]:
    """The split as uint8 ``[N, C, H, W]`` and labels, reduced to the recipe's subset (the same images as
    ``train --train-subset``: a random choice fixed by seed 0, in file order)."""
    source = recipe.data.source
    key = (source, split, size, data_dir)
    if key not in _DATA:
        if source == "fashion_mnist":
            _DATA[key] = fashion_mnist(split, data_dir)
        elif source == "digits":
            _DATA[key] = digits(split, size)
        else:
            raise TrainError(f"recipe {recipe.name!r}: experiments train on in-memory data (fashion_mnist, digits), "
                             f"not {source}")
    images, labels = _DATA[key]
    n = recipe.data.train_subset if split == "train" else recipe.data.val_subset
    if n is not None and n < len(labels):
        chosen = torch.randperm(len(labels), generator=torch.Generator().manual_seed(0))[:n].sort().values
        images, labels = images[chosen], labels[chosen]
    return images, labels


def _check_recipe(recipe: Recipe) -> None:
    a = recipe.augment
    unsupported = [name for name, value in (("augment.resize", a.resize), ("augment.center_crop", a.center_crop),
                                            ("augment.lighting", a.lighting), ("evaluation.resize",
                                            recipe.evaluation.resize), ("evaluation.center_crop",
                                            recipe.evaluation.center_crop)) if value is not None]
    if a.crop == "random_resized":
        unsupported.append("augment.crop: random_resized")
    if unsupported:
        raise TrainError(f"{recipe.file}: the experiment harness does not implement {', '.join(unsupported)} "
                         "(it supports pad, random or centre crop, flip, mean and std)")


def _normalize(x: torch.Tensor, recipe: Recipe) -> torch.Tensor:
    mean = torch.tensor(recipe.augment.mean).view(1, -1, 1, 1)
    std = torch.tensor(recipe.augment.std).view(1, -1, 1, 1)
    return (x.float() / 255.0 - mean) / std


def _crop(x: torch.Tensor, pad: int, size: tuple[int, int], offsets: torch.Tensor | None) -> torch.Tensor:
    """Pad with zeros, then crop ``size`` at ``offsets`` (``[B, 2]``) or at the centre."""
    if pad:
        x = F.pad(x, (pad, pad, pad, pad))
    h, w = size
    if offsets is None:
        top, left = (x.shape[-2] - h) // 2, (x.shape[-1] - w) // 2
        return x[..., top:top + h, left:left + w]
    return torch.stack([image[:, t:t + h, s:s + w] for image, (t, s) in zip(x, offsets.tolist(), strict=True)])


def augment(x: torch.Tensor, recipe: Recipe, size: tuple[int, int], generator: torch.Generator) -> torch.Tensor:
    """The recipe's training augmentation for a batch of uint8 images: pad, random crop, flip, normalize."""
    a = recipe.augment
    x = x.float()
    if a.crop == "random":
        room_h, room_w = x.shape[-2] + 2 * a.pad - size[0], x.shape[-1] + 2 * a.pad - size[1]
        offsets = torch.stack([torch.randint(0, room_h + 1, (len(x),), generator=generator),
                               torch.randint(0, room_w + 1, (len(x),), generator=generator)], 1)
        x = _crop(x, a.pad, size, offsets)
    else:
        x = _crop(x, a.pad, size, None)
    if a.flip:
        flip = torch.rand(len(x), generator=generator) < 0.5
        x = torch.where(flip.view(-1, 1, 1, 1), x.flip(-1), x)
    return _normalize(x, recipe)


def evaluation_batch(x: torch.Tensor, recipe: Recipe, size: tuple[int, int]) -> torch.Tensor:
    return _normalize(_crop(x.float(), recipe.evaluation.pad, size, None), recipe)


@torch.no_grad()
def error_rates(model: torch.nn.Module, images: torch.Tensor, labels: torch.Tensor, recipe: Recipe,
                size: tuple[int, int]) -> dict:
    model.eval()
    wrong1 = wrong5 = loss = 0.0
    for i in range(0, len(labels), EVAL_BATCH):
        x, y = evaluation_batch(images[i:i + EVAL_BATCH], recipe, size), labels[i:i + EVAL_BATCH]
        logits = model(x)
        loss += F.cross_entropy(logits, y, reduction="sum").item()
        top = logits.topk(min(5, logits.shape[1]), 1).indices
        wrong1 += (top[:, 0] != y).sum().item()
        wrong5 += (~(top == y[:, None]).any(1)).sum().item()
    n = max(len(labels), 1)
    return {"top1_error": wrong1 / n, "top5_error": wrong5 / n, "loss": loss / n}


def train_run(spec_file: str, recipe_file: str, seed: int, train_eval_subset: int, curve_every: int,
              data_dir: str | None = None, weights_out: str | None = None) -> dict:
    """Train one variant with one seed; the per-epoch metrics and the running training error every
    ``curve_every`` steps."""
    analysis = analyse(load_spec(spec_file))
    recipe = load_recipe(recipe_file)
    _check_recipe(recipe)
    shape = tuple(analysis.input)
    size = shape[1:]
    train_x, train_y = _images(recipe, "train", size, data_dir)
    val_x, val_y = _images(recipe, "val", size, data_dir)
    if train_x.shape[1] != shape[0]:
        raise TrainError(f"{recipe.data.source} has {train_x.shape[1]} channel(s), the spec's input {shape[0]}")
    seen_x, seen_y = train_x[:train_eval_subset], train_y[:train_eval_subset]

    torch.manual_seed(seed)
    model = build_model(analysis)
    optimizer = build_optimizer(recipe, model.parameters())
    schedule = Schedule(recipe, optimizer)
    batch = recipe.batch_size
    steps_per_epoch = len(train_y) // batch
    if steps_per_epoch == 0:
        raise TrainError(f"{len(train_y)} training images are fewer than one batch of {batch}")
    # seconds: processor time of the training steps (not evaluation), which other programs on a shared
    # machine do not inflate as they do the wall clock; wall_seconds too, for the record.
    epochs, points, seconds, wall = [], [], 0.0, 0.0
    for epoch in range(recipe.epochs):
        seed_epoch(seed, epoch, 0)  # dropout's random numbers
        generator = torch.Generator().manual_seed(seed * 1_000_003 + epoch * 7_919)  # order and augmentation
        lr = schedule.start_epoch(epoch)
        order = torch.randperm(len(train_y), generator=generator)
        model.train()
        totals = [0.0, 0.0, 0]  # loss, wrong, images over the epoch
        chunk = [0.0, 0]
        for step in range(steps_per_epoch):
            started, cpu_started = time.perf_counter(), time.process_time()
            index = order[step * batch:(step + 1) * batch]
            x, y = augment(train_x[index], recipe, size, generator), train_y[index]
            logits = model(x)
            loss = F.cross_entropy(logits, y)
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()
            wrong = (logits.argmax(1) != y).sum().item()
            seconds += time.process_time() - cpu_started
            wall += time.perf_counter() - started
            totals[0] += loss.item() * len(y)
            totals[1] += wrong
            totals[2] += len(y)
            chunk[0] += wrong
            chunk[1] += len(y)
            if (step + 1) % curve_every == 0 or step + 1 == steps_per_epoch:
                points.append({"epoch": _r(epoch + (step + 1) / steps_per_epoch),
                               "train_running_error": _r(chunk[0] / chunk[1]), "seconds": _r(seconds)})
                chunk = [0.0, 0]
        val = error_rates(model, val_x, val_y, recipe, size)
        seen = error_rates(model, seen_x, seen_y, recipe, size)
        schedule.end_epoch(val["top1_error"])
        epochs.append({"epoch": epoch + 1, "train_loss": _r(totals[0] / totals[2]),
                       "train_running_error": _r(totals[1] / totals[2]), "train_top1_error": _r(seen["top1_error"]),
                       "val_loss": _r(val["loss"]), "val_top1_error": _r(val["top1_error"]),
                       "val_top5_error": _r(val["top5_error"]), "lr": lr, "seconds": _r(seconds),
                       "wall_seconds": _r(wall)})
    if weights_out:
        torch.save(model.state_dict(), weights_out)
    return {"seed": seed, "params": sum(p.numel() for p in model.parameters()), "train_images": len(train_y),
            "val_images": len(val_y), "train_eval_images": len(seen_y), "epochs": epochs, "steps": points}


def _r(value: float) -> float:
    return float(f"{value:.6g}")


# --- what LRN does to real activations ----------------------------------------------------------------------

@torch.no_grad()
def lrn_activations(spec_file: str, recipe_file: str, weights: str, images: int, data_dir: str | None = None) -> dict:
    """Per channel, the activations entering and leaving every LRN layer of a trained network, on validation
    images: means, 99th percentiles and the factor LRN multiplied them by (output / input where input > 0)."""
    analysis = analyse(load_spec(spec_file))
    recipe = load_recipe(recipe_file)
    size = tuple(analysis.input)[1:]
    model = build_model(analysis)
    model.load_state_dict(torch.load(weights, map_location="cpu", weights_only=True))
    model.eval()
    val_x, _ = _images(recipe, "val", size, data_dir)
    x = evaluation_batch(val_x[:images], recipe, size)
    seen: list[tuple[str, torch.nn.Module, torch.Tensor, torch.Tensor]] = []
    names = {module: name for name, module in model.named_modules()}
    from alexnet.source import read_source

    layers = {layer["name"]: _Fields(layer) for section in read_source(spec_file).data["sections"].values()
              for layer in section if layer.get("kind") == "lrn"}
    hooks = [m.register_forward_hook(lambda mod, inp, out: seen.append((names[mod], mod, inp[0].clone(), out.clone())))
             for m in model.modules() if "LocalResponseNorm" in type(m).__name__]
    model(x)
    for hook in hooks:
        hook.remove()
    result = []
    for (module_name, _module, a, b), (layer_name, layer) in zip(seen, layers.items(), strict=True):
        channels = []
        positive = a > 1e-6
        for c in range(a.shape[1]):
            ac, bc, mask = a[:, c], b[:, c], positive[:, c]
            scale = (bc[mask] / ac[mask]) if mask.any() else torch.ones(1)
            channels.append({"in_mean": _r(ac.mean().item()), "out_mean": _r(bc.mean().item()),
                             "in_p99": _r(torch.quantile(ac.flatten(), 0.99).item()),
                             "out_p99": _r(torch.quantile(bc.flatten(), 0.99).item()),
                             "active": _r(mask.float().mean().item()),
                             "scale_median": _r(scale.median().item()), "scale_min": _r(scale.min().item()),
                             "scale_max": _r(scale.max().item())})
        # How far LRN is from multiplying by the constant k^-beta, in float64 from the formula itself:
        # factor / k^-beta = (1 + term / k)^-beta with term = alpha' * (sum of squares over the window).
        a64 = a.double()
        squares = F.pad(a64.pow(2).unsqueeze(1), (0, 0, 0, 0, layer.size // 2, (layer.size - 1) // 2)).squeeze(1)
        window = squares.unfold(1, layer.size, 1).sum(-1)
        term = (layer.alpha / layer.size if layer.convention == "divided_by_n" else layer.alpha) * window
        departure = 1 - (1 + term / layer.k).pow(-layer.beta)
        formula = (layer.k + term).pow(-layer.beta)
        measured_error = ((b.double() - a64 * formula).abs().max() / a64.abs().max().clamp_min(1e-12)).item()
        logs = departure[positive].clamp_min(1e-12).log10().flatten()
        lo, hi = math.floor(logs.min().item()), math.ceil(logs.max().item())
        hi = hi if hi > lo else lo + 1
        counts = torch.histc(logs, bins=4 * (hi - lo), min=lo, max=hi)
        result.append({"layer": layer_name, "module": module_name, "size": layer.size, "alpha": layer.alpha,
                       "beta": layer.beta, "k": layer.k, "convention": layer.convention,
                       "k_factor": _r(layer.k ** -layer.beta), "channels": channels,
                       "departure_median": float(f"{departure[positive].median().item():.3g}"),
                       "departure_max": float(f"{departure[positive].max().item():.3g}"),
                       "departure_log10_histogram": {"low": lo, "high": hi,
                                                     "counts": [int(c) for c in counts.tolist()]},
                       "formula_matches_module": measured_error < 1e-5, "positions": int(positive.sum().item())})
    return {"images": len(x), "layers": result}


class _Fields:
    """A layer's fields as read from the spec file, with the LRN defaults."""

    def __init__(self, data: dict):
        self.size, self.alpha = data["size"], data.get("alpha", 1e-4)
        self.beta, self.k = data.get("beta", 0.75), data.get("k", 2.0)
        self.convention = data.get("convention", "")


# --- the whole set ------------------------------------------------------------------------------------------

def _worker_init(threads: int) -> None:
    torch.set_num_threads(threads)


def _task(args: tuple) -> dict:
    kind, payload = args
    return train_run(**payload) if kind == "train" else lrn_activations(**payload)


class _Here:
    """One job: run in this process (tests, --jobs 1), with the same interface as a process pool."""

    def submit(self, fn, *args):
        from concurrent.futures import Future

        future: Future = Future()
        try:
            future.set_result(fn(*args))
        except BaseException as exc:
            future.set_exception(exc)
        return future

    def shutdown(self, cancel_futures: bool = False) -> None:
        pass


def _pool(jobs: int, threads: int):
    if jobs == 1:
        return _Here()
    return ProcessPoolExecutor(jobs, mp_context=multiprocessing.get_context("spawn"), initializer=_worker_init,
                               initargs=(threads,))


def machine() -> dict:
    cpu = ""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return {"cpu": cpu or platform.processor(), "cores": os.cpu_count(), "system": platform.system(),
            "arch": platform.machine(), "python": platform.python_version()}


def run_all(loaded: list[Loaded], out: Path, jobs: int, data_dir: str | None = None, log=print) -> list[Path]:
    """Train every variant of every experiment with every seed (shared runs once) and write the results."""
    started = time.perf_counter()
    threads = max(1, (os.cpu_count() or 1) // jobs)
    with tempfile.TemporaryDirectory(prefix="alexnet-experiments-") as tmp_name:
        tmp = Path(tmp_name)
        tasks: dict[str, dict] = {}
        labels: dict[str, str] = {}
        plan: dict[tuple[str, str, int], str] = {}
        for item in loaded:
            e = item.experiment
            recipe_file = str(item.recipe_file.resolve())
            for variant in e.variants:
                text = item.variants[variant.name]
                for seed in e.seeds:
                    key = digest([text, item.hashes["recipe"], seed, e.train_eval_subset, e.curve_every])
                    plan[(e.name, variant.name, seed)] = key
                    labels.setdefault(key, f"{e.name}/{variant.name}")
                    if key not in tasks:
                        folder = tmp / key
                        folder.mkdir()
                        spec_file = item.variant_spec(variant.name, folder)
                        tasks[key] = {"spec_file": str(spec_file), "recipe_file": recipe_file, "seed": seed,
                                      "train_eval_subset": e.train_eval_subset, "curve_every": e.curve_every,
                                      "data_dir": data_dir, "weights_out": str(folder / "weights.pt")}
        log(f"{len(plan)} runs in {len(loaded)} experiment(s), {len(tasks)} distinct; {jobs} job(s) x "
            f"{threads} thread(s)")
        pool = _pool(jobs, threads)
        try:
            futures = {key: pool.submit(_task, ("train", payload)) for key, payload in tasks.items()}
            results: dict[str, dict] = {}
            for done, (key, future) in enumerate(futures.items(), 1):
                results[key] = future.result()
                last = results[key]["epochs"][-1]
                log(f"[{done}/{len(tasks)}] {labels[key]} seed {tasks[key]['seed']}: "
                    f"val top-1 error {100 * last['val_top1_error']:.2f}% after {last['epoch']} epochs, "
                    f"{last['seconds']:.0f} s ({time.perf_counter() - started:.0f} s so far)")
            pending = {}
            for item in loaded:
                act = item.experiment.activations
                if act is not None:
                    task = tasks[plan[(item.experiment.name, act.variant, item.experiment.seeds[0])]]
                    pending[item.experiment.name] = pool.submit(_task, ("lrn", {
                        "spec_file": task["spec_file"], "recipe_file": task["recipe_file"],
                        "weights": task["weights_out"], "images": act.images, "data_dir": data_dir}))
            activations = {name: future.result() for name, future in pending.items()}
        finally:
            pool.shutdown(cancel_futures=True)
    wall = time.perf_counter() - started
    date = datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    written = []
    out.mkdir(parents=True, exist_ok=True)
    for item in loaded:
        e = item.experiment
        variants = []
        for variant in e.variants:
            runs = [results[plan[(e.name, variant.name, seed)]] for seed in e.seeds]
            variants.append({"name": variant.name, "title": variant.title, "params": runs[0]["params"],
                             "seeds": list(e.seeds), "runs": runs})
        recipe = item.recipe
        document = {
            "$comment": "Written by `make experiments` (python -m alexnet.train.experiments); rendered by the "
                        "generator. Re-run instead of editing.",
            "format": RESULTS_FORMAT, "name": e.name, "title": e.title,
            "setting": {"base": item.base.name, "recipe": recipe.name, "data": recipe.data.source,
                        "epochs": recipe.epochs, "batch_size": recipe.batch_size,
                        "train_images": variants[0]["runs"][0]["train_images"],
                        "val_images": variants[0]["runs"][0]["val_images"],
                        "train_eval_images": variants[0]["runs"][0]["train_eval_images"]},
            "provenance": {"torch": torch.__version__, "date": date, "machine": machine(),
                           "jobs": jobs, "threads_per_job": threads, "wall_s": round(wall, 1),
                           "experiments_in_this_invocation": [x.experiment.name for x in loaded],
                           "distinct_runs_in_this_invocation": len(tasks), "hashes": item.hashes},
            "variants": variants,
            "activations": activations.get(e.name),
        }
        path = out / f"{e.name}.json"
        tmp_path = path.with_name(f".{path.name}.{os.getpid()}.tmp")
        tmp_path.write_text(json.dumps(document, indent=1) + "\n")
        os.replace(tmp_path, path)
        written.append(path)
    log(f"done in {wall:.0f} s")
    return written


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m alexnet.train.experiments", description=__doc__.splitlines()[0])
    parser.add_argument("experiments", nargs="*", help="bundled names or files (default: every spec/experiments/*.yaml)")
    parser.add_argument("--jobs", type=int, default=min(2, os.cpu_count() or 1), help="worker processes")
    parser.add_argument("--out", type=Path, default=RESULTS_DIR, help="where the results JSON files go")
    parser.add_argument("--data", help="data folder (default: the recipe's built-in data)")
    args = parser.parse_args(argv)
    names = args.experiments or bundled_experiments()
    try:
        loaded = []
        problems = []
        for name in names:
            try:
                loaded.append(load_experiment(name, f"spec/experiments/{name}.yaml" if "/" not in name
                                              and not name.endswith(".yaml") else None))
            except SpecError as exc:
                problems.extend(exc.problems)
        if problems:
            raise SpecError(problems)
        if not loaded:
            print("no experiments", file=sys.stderr)
            return 2
        for path in run_all(loaded, args.out, max(1, args.jobs), args.data):
            print(f"wrote {path}")
    except SpecError as exc:
        for problem in exc.problems:
            print(problem, file=sys.stderr)
        return 2
    except TrainError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
