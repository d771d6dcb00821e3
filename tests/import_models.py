"""Small modules that `python -m alexnet import` must refuse, each for one reason (tests/test_import.py)."""

import torch
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
    """A functional activation between sections."""

    def __init__(self) -> None:
        super().__init__()
        self.conv = nn.Conv2d(3, 4, 3)
        self.classifier = nn.Linear(4, 2)

    def forward(self, x):
        return self.classifier(torch.flatten(torch.relu(self.conv(x)), 1))


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
