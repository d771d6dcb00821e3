"""The ``train``, ``evaluate`` and ``lighting`` commands (argument parsing lives in ``commands``)."""

from __future__ import annotations

import argparse
import json
import random
from pathlib import Path

import torch

from alexnet.recipe import Recipe, load_recipe

from . import TrainError
from .commands import resolve_spec
from .data import TensorImages, dataset, eval_transform, lighting_statistics, train_transform
from .loop import (
    CHECKPOINT_FORMAT,
    Progress,
    StopFlag,
    describe,
    epoch_batches,
    epoch_metrics,
    evaluate,
    finish,
    new_partial,
    save_atomic,
    seed_epoch,
    start,
    tensorboard_writer,
    train_epoch,
    world_from_env,
    write_text_atomic,
)
from .model import build_model, check_state_dict, spec_digest
from .optim import Schedule, build_optimizer


def _recipe(args: argparse.Namespace) -> Recipe:
    recipe = load_recipe(args.recipe)
    update = {k: v for k, v in (("epochs", args.epochs), ("batch_size", args.batch_size), ("seed", args.seed))
              if v is not None}
    for key, value in [*update.items(), ("train_subset", getattr(args, "train_subset", None))]:
        if value is not None and value < (0 if key == "seed" else 1):
            raise TrainError(f"--{key.replace('_', '-')} must be {'at least 0' if key == 'seed' else 'positive'}, "
                             f"got {value}")
    if getattr(args, "train_subset", None):
        update["data"] = recipe.data.model_copy(update={"train_subset": args.train_subset})
    if update:
        changed = recipe.model_copy(update=update)
        changed._source = recipe._source
        return changed
    return recipe


def _read_checkpoint(path: Path) -> dict:
    try:
        state = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as exc:  # truncated file, not a torch file, unpickling refused
        raise TrainError(f"{path}: cannot read it as weights ({type(exc).__name__})") from None
    if not isinstance(state, dict):
        raise TrainError(f"{path}: not a checkpoint or a state_dict")
    return state


def train(args: argparse.Namespace) -> int:
    analysis = resolve_spec(args.spec)
    spec = analysis.spec
    recipe = _recipe(args)
    _, world, _ = world_from_env()
    if recipe.batch_size % world:
        raise TrainError(f"batch size {recipe.batch_size} does not split evenly over {world} processes")
    out = Path(args.out or f"runs/{spec.name}-{recipe.name}")
    checkpoint_path, metrics_path = out / "checkpoint.pt", out / "metrics.jsonl"
    if not args.resume and (checkpoint_path.exists() or metrics_path.exists()):
        raise TrainError(f"{out} already holds a run: continue it with --resume, or choose another --out")
    if args.resume and not checkpoint_path.exists():
        raise TrainError(f"--resume: no checkpoint.pt in {out}")
    shape = tuple(analysis.input)
    train_set = dataset(recipe, "train", args.data, shape, spec.num_classes, train_transform(recipe, shape))
    val_set = dataset(recipe, "val", args.data, shape, spec.num_classes, eval_transform(recipe, shape))
    if len(train_set) < recipe.batch_size:
        raise TrainError(f"{len(train_set)} training images are fewer than one batch of {recipe.batch_size}")

    torch.manual_seed(recipe.seed)  # the same initial weights in every process
    model = build_model(analysis)
    optimizer = build_optimizer(recipe, model.parameters())
    schedule = Schedule(recipe, optimizer)
    first_epoch, partial, history, rng = 0, new_partial(), [], None
    if args.resume:
        state = _read_checkpoint(checkpoint_path)
        if state.get("format") != CHECKPOINT_FORMAT:
            raise TrainError(f"{checkpoint_path}: not a checkpoint of `python -m alexnet train`")
        check_state_dict(model, state["model"], f"{checkpoint_path} (spec {state.get('spec')!r}, not {spec.name!r})"
                         if state.get("spec") != spec.name else str(checkpoint_path))
        try:
            model.load_state_dict(state["model"])
            optimizer.load_state_dict(state["optimizer"])
            schedule.load_state_dict(state["schedule"])
            first_epoch, partial, history, rng = state["epoch"], state["partial"], state["history"], state["rng"]
        except (KeyError, ValueError, TypeError) as exc:  # another optimizer kind, or a damaged checkpoint
            raise TrainError(f"{checkpoint_path}: does not fit recipe {recipe.name!r} "
                             f"({type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else 'incomplete'})") from None
        if first_epoch >= recipe.epochs and partial["step"] == 0:
            raise TrainError(f"{checkpoint_path}: the run already finished its {first_epoch} epochs "
                             "(raise --epochs to train longer)")

    ctx = start(args.device)
    try:
        return _train_loop(args, analysis, recipe, ctx, model, optimizer, schedule, train_set, val_set, out,
                           first_epoch, partial, history, rng)
    finally:
        finish(ctx)


def _train_loop(args, analysis, recipe, ctx, model, optimizer, schedule, train_set, val_set, out: Path,
                first_epoch, partial, history, rng) -> int:
    spec = analysis.spec
    checkpoint_path, metrics_path = out / "checkpoint.pt", out / "metrics.jsonl"
    cuda = ctx.device.type == "cuda"
    model.to(ctx.device)
    if cuda:
        model.to(memory_format=torch.channels_last)
    for state in optimizer.state.values():  # optimizer tensors follow the model to its device
        for key, value in state.items():
            if torch.is_tensor(value):
                state[key] = value.to(ctx.device)
    net = model
    if ctx.distributed:
        net = torch.nn.parallel.DistributedDataParallel(model, device_ids=[ctx.device.index] if cuda else None)
    if args.compile:
        net = torch.compile(net)
    autocast = cuda and not args.no_bf16
    if ctx.main:
        out.mkdir(parents=True, exist_ok=True)
        write_text_atomic(metrics_path, "".join(json.dumps(m) + "\n" for m in history))  # drops any line after it
    writer = tensorboard_writer(out) if ctx.main else None
    digest = spec_digest(analysis)
    stop = StopFlag()
    progress = Progress(ctx.main)
    trace = open(f"{args.trace}.{ctx.rank}", "a") if args.trace else None  # noqa: SIM115 (test hook)
    try:
        for epoch in range(first_epoch, recipe.epochs):
            seed_epoch(recipe.seed, epoch, ctx.rank)
            if partial["step"] and rng is not None:
                torch.set_rng_state(rng)  # mid-epoch resume: dropout continues where it stopped
            lr = schedule.start_epoch(epoch)
            batches = epoch_batches(len(train_set), recipe.batch_size, ctx, recipe.seed, epoch)
            if trace:
                trace.write(json.dumps({"epoch": epoch, "batches": batches[partial["step"]:]}) + "\n")
                trace.flush()
            interrupted = train_epoch(net, optimizer, train_set, batches, ctx, recipe, stop, partial, progress, epoch,
                                      autocast)

            def checkpoint(epochs_done: int, part: dict) -> None:
                if ctx.main:
                    save_atomic(checkpoint_path, {
                        "format": CHECKPOINT_FORMAT, "spec": spec.name, "spec_digest": digest,
                        "recipe": recipe.model_dump(mode="json"), "epoch": epochs_done, "partial": part,
                        "model": model.state_dict(), "optimizer": optimizer.state_dict(),
                        "schedule": schedule.state_dict(), "history": history, "rng": torch.get_rng_state(),
                        "world_size": ctx.world})

            if interrupted:
                checkpoint(epoch, partial)
                if ctx.main:
                    print(f"stopped by SIGTERM in epoch {epoch + 1} after step {partial['step']}; "
                          f"{checkpoint_path} written: continue with --resume", flush=True)
                return 143
            # The plain module: every rank holds the same weights, and its shard may have fewer batches than
            # another's, which DDP's forward (it may sync buffers) must not see.
            val = evaluate(model, val_set, recipe.batch_size, ctx, workers=recipe.data.workers, autocast=autocast)
            metrics = epoch_metrics(epoch, partial, val, lr, ctx)
            schedule.end_epoch(val["top1_error"])
            history.append(metrics)
            partial = new_partial()
            checkpoint(epoch + 1, partial)  # the checkpoint first: a kill now repeats no work and loses no line
            if ctx.main:
                with metrics_path.open("a") as handle:
                    handle.write(json.dumps(metrics) + "\n")
                if writer is not None:
                    for key in ("train_loss", "val_loss", "val_top1_error", "val_top5_error", "lr", "images_per_s"):
                        writer.add_scalar(key, metrics[key], metrics["epoch"])
                progress.done()
                print(describe(metrics), flush=True)
        if recipe.evaluation.ten_crop and first_epoch < recipe.epochs:
            shape = tuple(analysis.input)
            ten = _with_transform(val_set, eval_transform(recipe, shape, ten_crop=True))
            result = evaluate(model, ten, max(1, recipe.batch_size // 10), ctx, ten_crop=True,
                              workers=recipe.data.workers, autocast=autocast)
            if ctx.main:
                history[-1].update(ten_crop_top1_error=result["top1_error"], ten_crop_top5_error=result["top5_error"])
                write_text_atomic(metrics_path, "".join(json.dumps(m) + "\n" for m in history))
                print(f"ten crops: top-1 error {100 * result['top1_error']:.2f}%, "
                      f"top-5 {100 * result['top5_error']:.2f}%", flush=True)
    finally:
        stop.restore()
        if trace:
            trace.close()
        if writer is not None:
            writer.close()
    return 0


def _with_transform(data, transform):
    """The same images under another transform (Subset and TensorImages/FolderImages keep theirs in one place)."""
    import copy

    data = copy.copy(data)
    inner = data.dataset if isinstance(data, torch.utils.data.Subset) else data
    if isinstance(data, torch.utils.data.Subset):
        data.dataset = inner = copy.copy(inner)
    inner.transform = transform
    return data


def evaluate_command(args: argparse.Namespace) -> int:
    analysis = resolve_spec(args.spec)
    spec, shape = analysis.spec, tuple(analysis.input)
    weights = Path(args.weights)
    if not weights.is_file():
        raise TrainError(f"{weights}: no such file")
    state = _read_checkpoint(weights)
    if args.recipe:
        recipe = load_recipe(args.recipe)
    elif isinstance(state.get("recipe"), dict):
        recipe = Recipe.model_validate(state["recipe"])
    else:
        raise TrainError(f"{weights} does not say how it was trained: give --recipe")
    model = build_model(analysis)
    params = state["model"] if "model" in state and isinstance(state["model"], dict) else state
    check_state_dict(model, params, str(weights))
    model.load_state_dict(params)
    val_set = dataset(recipe, "val", args.data, shape, spec.num_classes, eval_transform(recipe, shape, args.ten_crop))
    ctx = start(args.device)
    try:
        model.to(ctx.device)
        batch = args.batch_size or (max(1, recipe.batch_size // 10) if args.ten_crop else recipe.batch_size)
        result = evaluate(model, val_set, batch, ctx, ten_crop=args.ten_crop, workers=recipe.data.workers)
    finally:
        finish(ctx)
    if result["unreadable"] and recipe.data.unreadable == "stop":
        raise TrainError(f"{result['unreadable']} validation image(s) could not be read (data.unreadable: stop)")
    if args.json:
        print(json.dumps({"top1_error": result["top1_error"], "top5_error": result["top5_error"],
                          "images": result["images"]}))
    else:
        how = "ten crops" if args.ten_crop else "centre crop"
        print(f"{spec.name}: top-1 error {100 * result['top1_error']:.2f}%, top-5 error "
              f"{100 * result['top5_error']:.2f}% on {result['images']:,} images ({how})")
    return 0


def lighting_command(args: argparse.Namespace) -> int:
    """Print the training set's lighting statistics as recipe YAML (``augment.lighting``, ``mean``, ``std``)."""
    recipe = load_recipe(args.recipe)
    data = _any_classes(recipe, args, args.channels)
    indices = list(range(len(data)))
    random.Random(0).shuffle(indices)
    stats = lighting_statistics(image for image, _, bad in (data[i] for i in indices[:args.max_images]) if bad is None)
    fmt = lambda values: "[" + ", ".join(f"{v:.4f}" for v in values) + "]"  # noqa: E731
    print(f"# from {min(len(data), args.max_images):,} training images ({stats['pixels']:,} pixels), pixels in 0..1")
    print(f"mean: {fmt(stats['mean'])}")
    print(f"std: {fmt(stats['std'])}")
    print(f"lighting: {{alphastd: 0.1, eigval: {fmt(stats['eigval'])}, "
          f"eigvec: [{', '.join(fmt(row) for row in stats['eigvec'])}]}}")
    return 0


def _any_classes(recipe: Recipe, args: argparse.Namespace, channels: int):
    """The training set whatever its class count (the statistics do not depend on it)."""
    from .data import FolderImages, digits, fashion_mnist

    source = recipe.data.source
    if source == "imagenet_folder":
        if not args.data:
            raise TrainError(f"recipe {recipe.name!r} reads an ImageNet-style folder: give --data DIR")
        root = Path(args.data) / "train"
        if not root.is_dir():
            raise TrainError(f"{root}: no such folder")
        from torchvision.transforms import v2

        return FolderImages(root, v2.PILToTensor(), channels)
    images, labels = fashion_mnist("train", args.data) if source == "fashion_mnist" else digits("train", (8, 8))
    return TensorImages(images, labels, lambda image: image.as_subclass(torch.Tensor))
