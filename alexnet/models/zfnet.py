# Generated from spec/zfnet.yaml by `python -m tools.generate`; do not edit.
"""ZFNet (2013).

Input 3x224x224; 62,357,608 parameters; 1,168,032,896 multiply-accumulates per image.
Shapes in the comments are C x H x W for one image (the batch dimension is left out).
"""

import torch
from torch import nn

from alexnet.layers import LocalResponseNorm

__all__ = ["ZFNet"]

SPEC = 'zfnet'
INPUT_SHAPE = (3, 224, 224)


class ZFNet(nn.Module):
    def __init__(self, num_classes: int = 1000) -> None:
        super().__init__()
        self.features = nn.Sequential(
            nn.Conv2d(3, 96, kernel_size=7, stride=2, padding=1),  # conv1: 3x224x224 -> 96x110x110
            nn.ReLU(inplace=True),  # relu1: 96x110x110
            nn.MaxPool2d(kernel_size=3, stride=2, ceil_mode=True),  # pool1: 96x110x110 -> 96x55x55
            LocalResponseNorm(5, alpha=0.0001, beta=0.75, k=2.0, convention='paper'),  # norm1: 96x55x55
            nn.Conv2d(96, 256, kernel_size=5, stride=2),  # conv2: 96x55x55 -> 256x26x26
            nn.ReLU(inplace=True),  # relu2: 256x26x26
            nn.MaxPool2d(kernel_size=3, stride=2, ceil_mode=True),  # pool2: 256x26x26 -> 256x13x13
            LocalResponseNorm(5, alpha=0.0001, beta=0.75, k=2.0, convention='paper'),  # norm2: 256x13x13
            nn.Conv2d(256, 384, kernel_size=3, padding=1),  # conv3: 256x13x13 -> 384x13x13
            nn.ReLU(inplace=True),  # relu3: 384x13x13
            nn.Conv2d(384, 384, kernel_size=3, padding=1),  # conv4: 384x13x13 -> 384x13x13
            nn.ReLU(inplace=True),  # relu4: 384x13x13
            nn.Conv2d(384, 256, kernel_size=3, padding=1),  # conv5: 384x13x13 -> 256x13x13
            nn.ReLU(inplace=True),  # relu5: 256x13x13
            nn.MaxPool2d(kernel_size=3, stride=2),  # pool5: 256x13x13 -> 256x6x6
        )
        self.classifier = nn.Sequential(
            nn.Linear(9216, 4096),  # fc6: 9216 -> 4096
            nn.ReLU(inplace=True),  # relu6: 4096
            nn.Dropout(p=0.5),  # drop6: 4096
            nn.Linear(4096, 4096),  # fc7: 4096 -> 4096
            nn.ReLU(inplace=True),  # relu7: 4096
            nn.Dropout(p=0.5),  # drop7: 4096
            nn.Linear(4096, num_classes),  # fc8: 4096 -> 1000
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.features(x)
        x = torch.flatten(x, 1)
        x = self.classifier(x)
        return x
