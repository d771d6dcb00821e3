"""Training benchmarks: a training step of the generated model against torchvision's, the data pipeline on
ImageNet-sized JPEGs, and DistributedDataParallel with 2 processes against 1 (``--only training``)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import torch
import torch.nn.functional as F

from alexnet import load_model
from alexnet.analysis import analyse
from alexnet.recipe import load_recipe
from alexnet.spec import load_spec

from .stats import interleave, paired_ratios, summarize, timing

ROOT = Path(__file__).resolve().parents[2]
# What a GPU would have to be fed: NVIDIA's A100 datasheet gives 312 TFLOP/s dense bfloat16 (tensor cores).
# At an assumed 40% of it, a training step of alexnet_torchvision (3 x forward FLOPs per image) needs:
GPU = {"name": "NVIDIA A100", "bf16_tflops": 312.0, "utilization": 0.4,
       "source": "NVIDIA A100 Tensor Core GPU datasheet (312 TFLOPS BF16 dense)"}


def train_step_task(model, x, y, optimizer):
    def run():
        optimizer.zero_grad(set_to_none=True)
        F.cross_entropy(model(x), y).backward()
        optimizer.step()
    return run


def bench_train_step(batch: int, rounds: int, warmup: int) -> dict:
    """The same loop (SGD step, cross-entropy) on the generated alexnet_torchvision and torchvision's alexnet."""
    import torchvision

    torch.manual_seed(0)
    ours = load_model("alexnet_torchvision")
    theirs = torchvision.models.alexnet()
    theirs.load_state_dict(ours.state_dict())
    x, y = torch.randn(batch, 3, 224, 224), torch.randint(0, 1000, (batch,))
    tasks = {name: train_step_task(m, x, y, torch.optim.SGD(m.parameters(), lr=1e-3, momentum=0.9))
             for name, m in (("generated", ours), ("torchvision", theirs))}
    samples = interleave(tasks, rounds, warmup)
    return {"batch": batch, **{name: {**timing(s), "images_per_s": batch / summarize(s).median}
                               for name, s in samples.items()},
            "ratio": summarize(paired_ratios(samples["generated"], samples["torchvision"])).as_dict()}


def _jpegs(folder: Path, count: int, size: tuple[int, int] = (375, 500)) -> None:
    """ImageNet-sized JPEGs (ImageNet's typical 500x375), smooth random content, two classes."""
    import numpy as np
    from PIL import Image

    rng = np.random.default_rng(0)
    for i in range(count):
        target = folder / "train" / f"n{i % 2:08d}"
        target.mkdir(parents=True, exist_ok=True)
        small = rng.integers(0, 256, (size[0] // 8, size[1] // 8, 3), dtype=np.uint8)
        Image.fromarray(small).resize(size[::-1], Image.BILINEAR).save(target / f"{i}.JPEG", quality=90)


def bench_pipeline(images: int, workers: int) -> dict:
    """Decode + the paper's augmentation, images/s with one worker and with ``workers``."""
    from torch.utils.data import DataLoader

    from alexnet.train.data import FolderImages, collate, train_transform

    recipe = load_recipe("paper")
    with tempfile.TemporaryDirectory(prefix="bench-jpeg-") as tmp:
        _jpegs(Path(tmp), images)
        data = FolderImages(Path(tmp) / "train", train_transform(recipe, (3, 224, 224)), 3)
        result = {"images": images, "image_size": [375, 500], "recipe": "paper"}
        for label, n in (("one_worker", 1), ("all_workers", workers)):
            loader = DataLoader(data, batch_size=32, num_workers=n, collate_fn=collate)
            start = time.perf_counter()
            seen = sum(len(y) for _, y, _ in loader)
            result[label] = {"workers": n, "images_per_s": seen / (time.perf_counter() - start)}
    flops = 3 * 2 * analyse(load_spec(ROOT / "spec" / "alexnet_torchvision.yaml")).total_macs
    result["gpu_need"] = {**GPU, "train_flops_per_image": flops,
                          "images_per_s": GPU["bf16_tflops"] * 1e12 * GPU["utilization"] / flops}
    return result


def bench_ddp(subset: int) -> dict:
    """alexnet_mini on the digits, one epoch: 1 process with 2 threads against 2 gloo processes of 1 thread."""
    result = {"spec": "alexnet_mini", "recipe": "digits", "train_images": subset}
    with tempfile.TemporaryDirectory(prefix="bench-ddp-") as tmp:
        for world in (1, 2):
            out = Path(tmp) / f"w{world}"
            base = [sys.executable, "-m", "alexnet", "train", "alexnet_mini", "--recipe", "digits", "--epochs", "1",
                    "--train-subset", str(subset), "--device", "cpu", "--out", str(out)]
            env = {**os.environ, "OMP_NUM_THREADS": str(2 // world), "MASTER_ADDR": "127.0.0.1",
                   "MASTER_PORT": str(29500 + os.getpid() % 1000), "WORLD_SIZE": str(world)}
            procs = [subprocess.Popen(base, cwd=ROOT, env={**env, "RANK": str(r), "LOCAL_RANK": str(r)},
                                      stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
                     for r in range(world)]
            for p in procs:
                _, err = p.communicate(timeout=900)
                if p.returncode:
                    return {"skipped": f"DDP run failed: {err.strip().splitlines()[-1:]}"}
            metrics = json.loads((out / "metrics.jsonl").read_text().splitlines()[0])
            result[f"processes_{world}"] = {"images_per_s": metrics["images_per_s"], "threads_each": 2 // world}
    result["ratio_2_over_1"] = result["processes_2"]["images_per_s"] / result["processes_1"]["images_per_s"]
    return result


def measure(rounds: int, warmup: int, quick: bool) -> dict:
    return {"train_step": bench_train_step(8 if quick else 32, rounds, warmup),
            "pipeline": bench_pipeline(64 if quick else 512, os.cpu_count() or 1),
            "ddp": bench_ddp(512 if quick else 1472),
            "config": {"rounds": rounds, "warmup": warmup, "quick": quick}}
