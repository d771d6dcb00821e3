# Generated from spec/lenet5.yaml by `python -m tools.generate`; do not edit.
"""LeNet-5 (1998).

Input 1x32x32; 61,706 parameters; 416,520 multiply-accumulates per image.
Shapes in the comments are C x H x W for one image (the batch dimension is left out).
"""

import torch
from torch import nn

__all__ = ["LeNet5"]

SPEC = 'lenet5'
INPUT_SHAPE = (1, 32, 32)


class LeNet5(nn.Module):
    def __init__(self, num_classes: int = 10) -> None:
        super().__init__()
        self.features = nn.Sequential(
            nn.Conv2d(1, 6, kernel_size=5),  # c1: 1x32x32 -> 6x28x28
            nn.Tanh(),  # tanh1: 6x28x28
            nn.AvgPool2d(kernel_size=2),  # s2: 6x28x28 -> 6x14x14
            nn.Conv2d(6, 16, kernel_size=5),  # c3: 6x14x14 -> 16x10x10
            nn.Tanh(),  # tanh2: 16x10x10
            nn.AvgPool2d(kernel_size=2),  # s4: 16x10x10 -> 16x5x5
            nn.Conv2d(16, 120, kernel_size=5),  # c5: 16x5x5 -> 120x1x1
            nn.Tanh(),  # tanh3: 120x1x1
        )
        self.classifier = nn.Sequential(
            nn.Linear(120, 84),  # f6: 120 -> 84
            nn.Tanh(),  # tanh4: 84
            nn.Linear(84, num_classes),  # output: 84 -> 10
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.features(x)
        x = torch.flatten(x, 1)
        x = self.classifier(x)
        return x
