"""Data for training: ImageNet's folder layout, Fashion-MNIST (Debian's package), scikit-learn's digits.

Every data set yields ``(image, label, unreadable_path_or_None)`` so one collate function serves all of them:
an image that cannot be decoded becomes a ``None`` in a worker and the training process decides, per the
recipe, whether to skip it (counted in metrics.jsonl) or stop. Workers never raise, so the error the user
sees is one line, not a worker traceback.
"""

from __future__ import annotations

import gzip
import struct
from collections.abc import Callable
from pathlib import Path

import torch
from torch.utils.data import Dataset
from torchvision import tv_tensors
from torchvision.transforms import v2

from alexnet.recipe import FASHION_MNIST_DIR, Augment, Evaluation, Lighting, Recipe

from . import TrainError

FASHION_FILES = {"train": ("train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz"),
                 "val": ("t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz")}
DIGITS_VAL = 300  # the last 300 of scikit-learn's 1,797 digits are the validation set


class PCALighting(torch.nn.Module):
    """Krizhevsky et al.'s lighting noise: add ``eigvec @ (alpha * eigval)`` to every pixel of one image,
    ``alpha ~ N(0, alphastd)`` drawn per image and per eigenvector (pixels in 0..1)."""

    def __init__(self, config: Lighting):
        super().__init__()
        self.alphastd = config.alphastd
        self.register_buffer("eigval", torch.tensor(config.eigval, dtype=torch.float32))
        self.register_buffer("eigvec", torch.tensor(config.eigvec, dtype=torch.float32))

    def forward(self, image: torch.Tensor) -> torch.Tensor:
        alpha = torch.randn(len(self.eigval)) * self.alphastd
        shift = self.eigvec @ (alpha * self.eigval)
        return image + shift.view(-1, 1, 1)


def ten_crops(image: torch.Tensor, size: tuple[int, int]) -> torch.Tensor:
    """The paper's ten test patches: four corners and the centre, then the same five flipped horizontally.
    ``image`` is ``[C, H, W]``; the result ``[10, C, h, w]``."""
    h, w = size
    height, width = image.shape[-2:]
    if height < h or width < w:
        raise TrainError(f"ten crops of {h}x{w} need an image at least that large, got {height}x{width}")
    top, left = (height - h) // 2, (width - w) // 2
    five = [image[..., :h, :w], image[..., :h, width - w:], image[..., height - h:, :w],
            image[..., height - h:, width - w:], image[..., top:top + h, left:left + w]]
    return torch.stack(five + [crop.flip(-1) for crop in five])


def _resize_steps(config: Augment | Evaluation) -> list:
    steps: list = []
    if config.resize:
        steps.append(v2.Resize(config.resize, antialias=True))
    if config.center_crop:
        steps.append(v2.CenterCrop(config.center_crop))
    if config.pad:
        steps.append(v2.Pad(config.pad))
    return steps


def train_transform(recipe: Recipe, input_shape: tuple[int, ...]) -> Callable:
    a, size = recipe.augment, tuple(input_shape[1:])
    crop = {"random": lambda: v2.RandomCrop(size, pad_if_needed=True),
            "random_resized": lambda: v2.RandomResizedCrop(size, antialias=True),
            "center": lambda: v2.CenterCrop(size)}[a.crop]()
    steps = [v2.ToImage(), *_resize_steps(a), crop]
    if a.flip:
        steps.append(v2.RandomHorizontalFlip())
    steps.append(v2.ToDtype(torch.float32, scale=True))
    if a.lighting is not None:
        steps.append(PCALighting(a.lighting))
    steps.append(v2.Normalize(a.mean, a.std))
    return v2.Compose(steps)


def eval_transform(recipe: Recipe, input_shape: tuple[int, ...], ten_crop: bool = False) -> Callable:
    a, size = recipe.augment, tuple(input_shape[1:])
    base = v2.Compose([v2.ToImage(), *_resize_steps(recipe.evaluation), v2.ToDtype(torch.float32, scale=True),
                       v2.Normalize(a.mean, a.std)])
    center = v2.CenterCrop(size)

    def transform(image):
        x = base(image).as_subclass(torch.Tensor)
        return ten_crops(x, size) if ten_crop else center(x)
    return transform


def check_channels(recipe: Recipe, channels: int) -> None:
    a = recipe.augment
    for what, values in (("augment.mean", a.mean), ("augment.std", a.std)):
        if len(values) != channels:
            raise TrainError(f"{recipe.file}: {what} has {len(values)} value(s) but the spec's input has {channels} "
                             f"channel(s)")
    if a.lighting is not None and len(a.lighting.eigval) != channels:
        raise TrainError(f"{recipe.file}: augment.lighting has {len(a.lighting.eigval)} eigenvalue(s) but the spec's "
                         f"input has {channels} channel(s)")


class TensorImages(Dataset):
    """Images held in memory as a uint8 tensor ``[N, C, H, W]`` (Fashion-MNIST, digits)."""

    def __init__(self, images: torch.Tensor, labels: torch.Tensor, transform: Callable):
        self.images, self.labels, self.transform = images, labels.tolist(), transform
        self.classes = sorted(set(self.labels))

    def __len__(self) -> int:
        return len(self.labels)

    def __getitem__(self, i: int):
        return self.transform(tv_tensors.Image(self.images[i])), self.labels[i], None


class FolderImages(Dataset):
    """``root/<class>/<image>`` through torchvision's ImageFolder; undecodable images become ``None``."""

    def __init__(self, root: Path, transform: Callable, channels: int):
        from torchvision.datasets import ImageFolder

        self.mode = "RGB" if channels == 3 else "L"
        try:
            self.folder = ImageFolder(str(root), loader=str)  # decoding happens in __getitem__, guarded
        except (FileNotFoundError, OSError) as exc:
            raise TrainError(f"{root}: {exc}") from None
        self.transform, self.classes = transform, self.folder.classes

    def __len__(self) -> int:
        return len(self.folder.samples)

    def __getitem__(self, i: int):
        from PIL import Image

        path, label = self.folder.samples[i]
        try:
            with Image.open(path) as image:
                picture = image.convert(self.mode)
        except Exception:  # any decoding failure: the policy is applied in the training process
            return None, label, path
        return self.transform(picture), label, None


def collate(items: list) -> tuple[torch.Tensor, torch.Tensor, list[str]]:
    good = [(x, y) for x, y, bad in items if bad is None]
    unreadable = [bad for _, _, bad in items if bad is not None]
    if not good:
        return torch.empty(0), torch.empty(0, dtype=torch.long), unreadable
    return torch.stack([x for x, _ in good]), torch.tensor([y for _, y in good]), unreadable


def _read_idx(path: Path) -> torch.Tensor:
    """An IDX file (MNIST's format): magic, dimension sizes as big-endian int32, then uint8 data."""
    with gzip.open(path, "rb") as handle:
        data = handle.read()
    _zero, dtype, ndim = struct.unpack(">HBB", data[:4])
    if dtype != 0x08:
        raise TrainError(f"{path}: not an IDX file of unsigned bytes")
    dims = struct.unpack(f">{ndim}I", data[4:4 + 4 * ndim])
    return torch.frombuffer(bytearray(data[4 + 4 * ndim:]), dtype=torch.uint8).reshape(dims)


def fashion_mnist(split: str, folder: str | None) -> tuple[torch.Tensor, torch.Tensor]:
    root = Path(folder or FASHION_MNIST_DIR)
    images_file, labels_file = (root / name for name in FASHION_FILES[split])
    if not images_file.exists() or not labels_file.exists():
        hint = " (install it: apt-get install dataset-fashion-mnist)" if folder is None else ""
        raise TrainError(f"Fashion-MNIST not found: no {images_file.name} in {root}{hint}")
    return _read_idx(images_file).unsqueeze(1), _read_idx(labels_file).long()


def digits(split: str, size: tuple[int, int]) -> tuple[torch.Tensor, torch.Tensor]:
    from sklearn.datasets import load_digits

    bunch = load_digits()
    images = torch.tensor(bunch.images, dtype=torch.float32).unsqueeze(1) / 16.0
    images = torch.nn.functional.interpolate(images, size=size, mode="bilinear", align_corners=False)
    images = (images.clamp(0, 1) * 255).round().to(torch.uint8)
    labels = torch.tensor(bunch.target, dtype=torch.long)
    part = slice(None, -DIGITS_VAL) if split == "train" else slice(-DIGITS_VAL, None)
    return images[part], labels[part]


def _subset(dataset: Dataset, n: int | None, seed: int = 0) -> Dataset:
    if n is None or n >= len(dataset):
        return dataset
    chosen = torch.randperm(len(dataset), generator=torch.Generator().manual_seed(seed))[:n].sort().values
    subset = torch.utils.data.Subset(dataset, chosen.tolist())
    subset.classes = dataset.classes
    return subset


def dataset(recipe: Recipe, split: str, data_dir: str | None, input_shape: tuple[int, ...], num_classes: int,
            transform: Callable) -> Dataset:
    """The training (``split="train"``) or validation set, checked against the spec."""
    channels, source = input_shape[0], recipe.data.source
    check_channels(recipe, channels)
    if source == "imagenet_folder":
        if data_dir is None:
            raise TrainError(f"recipe {recipe.name!r} reads an ImageNet-style folder: give --data DIR "
                             "(holding train/<class>/* and val/<class>/*)")
        root = Path(data_dir) / split
        if not root.is_dir():
            raise TrainError(f"{root}: no such folder (--data needs train/<class>/* and val/<class>/*)")
        data: Dataset = FolderImages(root, transform, channels)
    else:
        if source == "fashion_mnist":
            images, labels = fashion_mnist(split, data_dir)
        else:
            images, labels = digits(split, tuple(input_shape[1:]))
        if images.shape[1] != channels:
            raise TrainError(f"{source} has {images.shape[1]} channel(s) but the spec's input has {channels}")
        data = TensorImages(images, labels, transform)
    if len(data.classes) != num_classes:
        where = data_dir or source
        raise TrainError(f"{where}: {split} set has {len(data.classes)} classes but the spec has num_classes "
                         f"{num_classes}")
    if len(data) == 0:
        raise TrainError(f"{data_dir or source}: the {split} set holds no images")
    return _subset(data, recipe.data.train_subset if split == "train" else recipe.data.val_subset)


def lighting_statistics(images, max_pixels_per_image: int = 4096, seed: int = 0) -> dict:
    """Channel mean, standard deviation and the eigen-decomposition of the pixels' covariance (pixels in 0..1),
    from an iterable of ``[C, H, W]`` uint8 or float tensors. Sums are kept in float64."""
    generator = torch.Generator().manual_seed(seed)
    total, outer, count = None, None, 0
    for image in images:
        x = image.double() / 255.0 if image.dtype == torch.uint8 else image.double()
        pixels = x.reshape(x.shape[0], -1).T
        if len(pixels) > max_pixels_per_image:
            pixels = pixels[torch.randperm(len(pixels), generator=generator)[:max_pixels_per_image]]
        total = pixels.sum(0) if total is None else total + pixels.sum(0)
        outer = pixels.T @ pixels if outer is None else outer + pixels.T @ pixels
        count += len(pixels)
    if not count:
        raise TrainError("no images to compute lighting statistics from")
    mean = total / count
    cov = outer / count - torch.outer(mean, mean)
    eigval, eigvec = torch.linalg.eigh(cov)
    order = eigval.argsort(descending=True)
    eigvec = eigvec[:, order]
    eigvec = eigvec * torch.where(eigvec.sum(0) < 0, 1.0, -1.0)  # fixed signs (ImageNet's first column is negative)
    return {"mean": mean.tolist(), "std": cov.diagonal().sqrt().tolist(), "eigval": eigval[order].clamp(min=0).tolist(),
            "eigvec": eigvec.tolist(), "pixels": count}
