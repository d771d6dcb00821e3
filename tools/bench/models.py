"""Model and LRN benchmarks (torch): forward and forward+backward, interleaved, with same-process references.

Every comparison runs its two sides in the same process and the same rounds, so a ratio compares like with
like even while other processes load the machine.
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from functools import cache

import torch
from torch import nn
from torch.nn import functional as F
from torch.utils.flop_counter import FlopCounterMode

from alexnet import available_models, load_model, spec_path
from alexnet.analysis import analyse
from alexnet.layers import LocalResponseNorm, torch_alpha
from alexnet.spec import load_spec

from .stats import interleave, paired_ratios, summarize, timing

REFERENCE_PAIR = ("alexnet_torchvision", "torchvision")
PAPER_LRN = {"size": 5, "alpha": 1e-4, "beta": 0.75, "k": 2.0}  # Caffe/cuda-convnet convention (alpha / n)


def torch_info() -> dict:
    return {
        "version": torch.__version__,
        "threads": torch.get_num_threads(),
        "interop_threads": torch.get_num_interop_threads(),
        "cpu_capability": torch.backends.cpu.get_cpu_capability(),
        "mkldnn": torch.backends.mkldnn.is_available(),
    }


def _sync(device: torch.device) -> Callable[[], None]:
    # CUDA kernels run asynchronously: a timed call must wait for them to finish.
    return torch.cuda.synchronize if device.type == "cuda" else (lambda: None)


def forward_task(model: nn.Module, x: torch.Tensor, autocast: torch.dtype | None = None) -> Callable[[], None]:
    model.eval()
    sync = _sync(x.device)

    def run() -> None:
        with torch.no_grad(), torch.autocast(x.device.type, dtype=autocast or torch.bfloat16,
                                             enabled=autocast is not None):
            model(x)
        sync()

    return run


def train_task(model: nn.Module, x: torch.Tensor, autocast: torch.dtype | None = None) -> Callable[[], None]:
    """One training step without the optimizer: forward (dropout on), cross-entropy, backward."""
    model.train()
    target = torch.arange(x.shape[0], device=x.device) % 10
    sync = _sync(x.device)

    def run() -> None:
        model.zero_grad(set_to_none=True)
        with torch.autocast(x.device.type, dtype=autocast or torch.bfloat16, enabled=autocast is not None):
            loss = F.cross_entropy(model(x), target)
        loss.backward()
        sync()

    return run


@cache
def train_flops(name: str, batch: int) -> int:
    """FLOPs of one forward+backward step as torch counts them, on the meta device (nothing is computed)."""
    with torch.device("meta"):
        model = load_model(name)
        x = torch.empty(batch, *model_input(name))
        with FlopCounterMode(display=False) as counter:
            F.cross_entropy(model(x), torch.zeros(batch, dtype=torch.long)).backward()
    return counter.get_total_flops()


def model_input(name: str) -> tuple[int, ...]:
    return tuple(analyse(load_spec(spec_path(name))).input)


def _build(name: str, device: torch.device, seed: int = 0) -> nn.Module:
    torch.manual_seed(seed)
    if name == REFERENCE_PAIR[1]:
        import torchvision

        return torchvision.models.alexnet(weights=None).to(device)
    return load_model(name).to(device)


def bench_models(names: list[str], batch: int, rounds: int, warmup: int, device: torch.device,
                 variants: tuple[str, ...] = ("eager", "channels_last"), peak_gflops: float | None = None) -> dict:
    """Forward and forward+backward of each model in each variant, plus torchvision's AlexNet as reference."""
    models: dict[str, nn.Module] = {}
    inputs: dict[str, torch.Tensor] = {}
    analysis = {name: analyse(load_spec(spec_path(name))) for name in names}
    torch.manual_seed(1)
    for name in names:
        base = _build(name, device)
        x = torch.randn(batch, *analysis[name].input, device=device)
        for variant in variants:
            key = f"{name}/{variant}"
            if variant == "channels_last":
                models[key] = copy.deepcopy(base).to(memory_format=torch.channels_last)
                inputs[key] = x.contiguous(memory_format=torch.channels_last)
            else:
                models[key], inputs[key] = (base if variant == "eager" else copy.deepcopy(base)), x
    reference = None
    if REFERENCE_PAIR[0] in names:
        ours = models[f"{REFERENCE_PAIR[0]}/eager"]
        reference = _build(REFERENCE_PAIR[1], device)
        reference.load_state_dict(ours.state_dict())  # same weights, so outputs must match too
        models[f"{REFERENCE_PAIR[1]}/eager"] = reference
        inputs[f"{REFERENCE_PAIR[1]}/eager"] = inputs[f"{REFERENCE_PAIR[0]}/eager"]

    def autocast_of(key: str) -> torch.dtype | None:
        return torch.bfloat16 if key.endswith("/bf16_autocast") else None

    result: dict = {"batch": batch, "device": str(device), "variants": list(variants), "models": {}}
    for mode, make in (("forward", forward_task), ("train", train_task)):
        tasks = {key: make(models[key], inputs[key], autocast_of(key)) for key in models}
        samples = interleave(tasks, rounds, warmup)
        for key, series in samples.items():
            name, variant = key.split("/")
            entry = result["models"].setdefault(name, {})
            source = REFERENCE_PAIR[0] if name == REFERENCE_PAIR[1] else name
            flops = 2 * analysis[source].total_macs * batch if mode == "forward" else train_flops(source, batch)
            median = summarize(series).median
            entry.setdefault(variant, {})[mode] = {
                **timing(series), "images_per_s": batch / median, "flops": flops, "gflops": flops / median / 1e9,
                "peak_fraction": flops / median / 1e9 / peak_gflops if peak_gflops else None,
            }
            if variant != "eager":
                entry[variant][mode]["vs_eager"] = summarize(
                    paired_ratios(series, samples[f"{name}/eager"])).as_dict()
        if reference is not None:
            result.setdefault("reference", {})[mode] = summarize(paired_ratios(
                samples[f"{REFERENCE_PAIR[0]}/eager"], samples[f"{REFERENCE_PAIR[1]}/eager"])).as_dict()
    if reference is not None:
        result["reference"]["pair"] = list(REFERENCE_PAIR)
        result["reference"]["max_abs_output_difference"] = _max_difference(
            models[f"{REFERENCE_PAIR[0]}/eager"], reference, inputs[f"{REFERENCE_PAIR[0]}/eager"])
    return result


def _max_difference(a: nn.Module, b: nn.Module, x: torch.Tensor) -> float:
    a.eval(), b.eval()
    with torch.no_grad():
        return float((a(x) - b(x)).abs().max())


def bench_lrn(shape: tuple[int, ...], rounds: int, warmup: int, device: torch.device) -> dict:
    """Our LocalResponseNorm against nn.LocalResponseNorm, same input: speed-ups and largest differences."""
    ours = LocalResponseNorm(**PAPER_LRN, convention="divided_by_n").to(device)
    reference = nn.LocalResponseNorm(**PAPER_LRN).to(device)
    torch.manual_seed(2)
    x = (torch.randn(shape, device=device) * 4).relu()  # LRN follows a ReLU: non-negative, conv-sized values
    grad = torch.randn(shape, device=device)
    sync = _sync(device)

    def forward(module: nn.Module) -> Callable[[], None]:
        def run() -> None:
            with torch.no_grad():
                module(x)
            sync()
        return run

    def train(module: nn.Module) -> Callable[[], None]:
        def run() -> None:
            leaf = x.detach().requires_grad_()
            module(leaf).backward(grad)
            sync()
        return run

    samples = interleave({"ours/forward": forward(ours), "torch/forward": forward(reference),
                          "ours/train": train(ours), "torch/train": train(reference)}, rounds, warmup)
    result: dict = {"shape": list(shape), "parameters": PAPER_LRN, "device": str(device)}
    for mode in ("forward", "train"):
        result[mode] = {
            "ours": timing(samples[f"ours/{mode}"]), "torch": timing(samples[f"torch/{mode}"]),
            # speed-up: how many times faster ours is than torch's, per round
            "speedup": summarize(paired_ratios(samples[f"torch/{mode}"], samples[f"ours/{mode}"])).as_dict(),
        }
    result.update(_lrn_errors(ours, reference, x, grad))
    return result


def _lrn_errors(ours: nn.Module, reference: nn.Module, x: torch.Tensor, grad: torch.Tensor) -> dict:
    leaves = [x.detach().double().requires_grad_() for _ in range(2)]
    outs = [m.double()(leaf) for m, leaf in zip((ours, reference), leaves, strict=True)]
    for out in outs:
        out.backward(grad.double())
    ours.float(), reference.float()
    with torch.no_grad():
        forward_f32 = (ours(x) - reference(x)).abs().max()
    return {
        "max_abs_error_forward_float32": float(forward_f32),
        "max_abs_error_forward_float64": float((outs[0] - outs[1]).detach().abs().max()),
        "max_abs_error_grad_float64": float((leaves[0].grad - leaves[1].grad).abs().max()),
    }


def lrn_share(name: str, batch: int, rounds: int, warmup: int, device: torch.device) -> dict:
    """How much of a model's forward time its LRN layers take: the model as generated, with torch's LRN
    swapped in, and with the LRN layers removed (identity); share = 1 - t(without) / t(with), per round."""
    torch.manual_seed(3)
    model = _build(name, device)
    count = sum(isinstance(m, LocalResponseNorm) for m in model.modules())
    variants = {
        "ours": model,
        "torch": _replace_lrn(model, lambda m: nn.LocalResponseNorm(m.size, torch_alpha(m.size, m.alpha, m.convention),
                                                                     m.beta, m.k)),
        "none": _replace_lrn(model, lambda m: nn.Identity()),
    }
    x = torch.randn(batch, *model_input(name), device=device)
    samples = interleave({key: forward_task(m, x) for key, m in variants.items()}, rounds, warmup)
    shares = {key: [1 - n / t for n, t in zip(samples["none"], samples[key], strict=True)] for key in ("ours", "torch")}
    return {"model": name, "lrn_layers": count, "batch": batch, "mode": "forward",
            "forward": {key: timing(series) for key, series in samples.items()},
            "share": {key: summarize(series).as_dict() for key, series in shares.items()}}


def _replace_lrn(model: nn.Module, make: Callable[[LocalResponseNorm], nn.Module]) -> nn.Module:
    clone = copy.deepcopy(model)
    for parent in clone.modules():
        for child_name, child in parent.named_children():
            if isinstance(child, LocalResponseNorm):
                setattr(parent, child_name, make(child))
    return clone


def lrn_model(names: list[str]) -> str | None:
    """The paper's network when bundled, else the first model with an LRN layer."""
    with_lrn = [n for n in names if any(r.kind == "lrn" for r in analyse(load_spec(spec_path(n))).rows)]
    return "alexnet_paper" if "alexnet_paper" in with_lrn else (with_lrn[0] if with_lrn else None)


def default_models() -> list[str]:
    return available_models()
