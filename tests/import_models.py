"""Small modules for `python -m alexnet import` (tests/test_import.py): some it must refuse, each for one
reason; Tiny and Branchy it must write, with every kind and every functional form it reads."""

import torch
import torch.nn.functional as F
from torch import nn

NOT_A_CALLABLE = 42


def not_a_module():
    return {"weight": torch.zeros(1)}


def needs_arguments(width):
    return nn.Linear(width, width)


class Untraceable(nn.Module):
    """Control flow on a tensor's value: torch.fx cannot trace it."""

    def __init__(self) -> None:
        super().__init__()
        self.fc = nn.Linear(4, 2)

    def forward(self, x):
        if x.sum() > 0:
            return self.fc(x)
        return -self.fc(x)


class Unknown(nn.Module):
    """A module class no layer kind writes."""

    def __init__(self) -> None:
        super().__init__()
        self.features = nn.Sequential(nn.Conv2d(3, 4, 3), nn.SiLU())
        self.classifier = nn.Linear(4, 2)

    def forward(self, x):
        return self.classifier(torch.flatten(self.features(x), 1))


class Functional(nn.Module):
    """A function no layer kind writes, between sections."""

    def __init__(self) -> None:
        super().__init__()
        self.conv = nn.Conv2d(3, 4, 3)
        self.classifier = nn.Linear(4, 2)

    def forward(self, x):
        return self.classifier(torch.flatten(torch.sigmoid(self.conv(x)), 1))


class _Gate(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.conv = nn.Conv2d(4, 4, 1)
        self.mask = nn.Conv2d(4, 4, 1)

    def forward(self, x):
        return self.conv(x) * self.mask(x)


class Product(nn.Module):
    """Two tensors multiplied inside a block: a spec has no product layer."""

    def __init__(self) -> None:
        super().__init__()
        self.stem = nn.Conv2d(3, 4, 3)
        self.gate = _Gate()
        self.classifier = nn.Linear(4, 2)

    def forward(self, x):
        return self.classifier(torch.flatten(F.adaptive_avg_pool2d(self.gate(self.stem(x)), 1), 1))


class CatOnHeight(nn.Module):
    """Two maps stacked along the height (dimension 2): a spec's concat joins channels."""

    def __init__(self) -> None:
        super().__init__()
        self.conv = nn.Conv2d(3, 4, 3)
        self.classifier = nn.Linear(4, 2)

    def forward(self, x):
        y = self.conv(x)
        return self.classifier(torch.flatten(F.adaptive_avg_pool2d(torch.cat([y, y], 2), 1), 1))


class Shared(nn.Module):
    """One convolution called twice: its weights would be shared, which a spec cannot write."""

    def __init__(self) -> None:
        super().__init__()
        self.conv = nn.Conv2d(3, 3, 3, padding=1)
        self.classifier = nn.Linear(3, 2)

    def forward(self, x):
        return self.classifier(torch.flatten(F.adaptive_avg_pool2d(self.conv(self.conv(x)), 1), 1))


class _Unit(nn.Module):
    """A residual unit in torchvision's manner: one ReLU module called twice, a functional ReLU, `+=`,
    and an optional projection of the shortcut."""

    def __init__(self, cin: int, cout: int, stride: int) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(cin, cout, 3, stride, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(cout)
        self.relu = nn.ReLU(inplace=True)
        self.conv2 = nn.Conv2d(cout, cout, 3, 1, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(cout)
        self.project = (nn.Sequential(nn.Conv2d(cin, cout, 1, stride, bias=False), nn.BatchNorm2d(cout))
                        if stride != 1 or cin != cout else None)

    def forward(self, x):
        out = self.relu(self.bn1(self.conv1(x)))
        out = self.bn2(self.conv2(out))
        out += x if self.project is None else self.project(x)
        return F.relu(out)


class _Mixed(nn.Module):
    """Branches joined by torch.cat on the channels, then torch.add of two of them."""

    def __init__(self, cin: int) -> None:
        super().__init__()
        self.left = nn.Conv2d(cin, 4, 1)
        self.right = nn.Sequential(nn.Conv2d(cin, 4, 1), nn.ReLU(), nn.Conv2d(4, 4, 3, padding=1))
        self.pool = nn.MaxPool2d(3, 1, 1)

    def forward(self, x):
        left, right = self.left(x), self.right(x)
        return torch.cat([left, torch.add(left, right), self.pool(x).relu()], dim=1)


class Branchy(nn.Module):
    """A graph network made of blocks nested in sections, reading every functional form the import knows."""

    def __init__(self) -> None:
        super().__init__()
        self.stem = nn.Conv2d(3, 8, 3, padding=1)
        self.stage = nn.Sequential(_Unit(8, 8, 1), _Unit(8, 8, 1), _Unit(8, 12, 2), _Unit(12, 12, 1))
        self.mixed = _Mixed(12)
        self.head = nn.Sequential(nn.Dropout(0.1), nn.Linear(20 * 4, 10))

    def forward(self, x):
        x = self.mixed(self.stage(torch.relu(self.stem(x))))
        return self.head(torch.flatten(F.adaptive_avg_pool2d(x, (2, 2)), 1))


class Unused(nn.Module):
    """A child with weights that forward never calls."""

    def __init__(self) -> None:
        super().__init__()
        self.classifier = nn.Linear(4, 2)
        self.spare = nn.Linear(4, 4)

    def forward(self, x):
        return self.classifier(x)


class Tiny(nn.Module):
    """Every kind that has a torch class, in sections the importer can write."""

    def __init__(self) -> None:
        super().__init__()
        from alexnet.layers import LocalResponseNorm

        self.pad = nn.ZeroPad2d((1, 2, 0, 1))
        self.features = nn.Sequential(
            nn.Conv2d(3, 8, (3, 5), stride=(1, 2), padding=(1, 0), dilation=1, groups=1, bias=False),
            nn.BatchNorm2d(8, eps=1e-3, momentum=0.05), nn.LeakyReLU(0.2), nn.LocalResponseNorm(3, alpha=2e-4, k=1.5),
            LocalResponseNorm(5, alpha=1e-4, beta=0.75, k=2.0, convention="paper"), nn.ReLU(),
            nn.MaxPool2d(3, stride=2, ceil_mode=True), nn.AvgPool2d(2, stride=1, padding=1), nn.Tanh(),
            nn.Conv2d(8, 8, 1, groups=2), nn.GELU(approximate="tanh"), nn.Sigmoid())
        self.avgpool = nn.AdaptiveAvgPool2d((2, 3))
        self.flatten = nn.Flatten()
        self.classifier = nn.Sequential(nn.Dropout(0.25), nn.Linear(48, 10), nn.BatchNorm1d(10), nn.Softmax(dim=1))

    def forward(self, x):
        return self.classifier(self.flatten(self.avgpool(self.features(self.pad(x)))))


class SharedPool(nn.Module):
    """PyTorch's CIFAR-10 tutorial network: one pooling module (no weights) called after each convolution."""

    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(3, 6, 5)
        self.pool = nn.MaxPool2d(2, 2)
        self.conv2 = nn.Conv2d(6, 16, 5)
        self.fc1 = nn.Linear(16 * 5 * 5, 120)
        self.fc2 = nn.Linear(120, 10)

    def forward(self, x):
        x = self.pool(F.relu(self.conv1(x)))
        x = self.pool(F.relu(self.conv2(x)))
        return self.fc2(F.relu(self.fc1(torch.flatten(x, 1))))
