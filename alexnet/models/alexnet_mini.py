# Generated from spec/alexnet_mini.yaml by `python -m tools.generate`; do not edit.
"""AlexNet mini (28x28, for Fashion-MNIST).

Input 1x28x28; 221,146 parameters; 5,657,600 multiply-accumulates per image.
Shapes in the comments are C x H x W for one image (the batch dimension is left out).
"""

import torch
from torch import nn

from alexnet.layers import LocalResponseNorm

__all__ = ["AlexNetMini"]

SPEC = 'alexnet_mini'
INPUT_SHAPE = (1, 28, 28)


class AlexNetMini(nn.Module):
    def __init__(self, num_classes: int = 10, init_weights: bool = True) -> None:
        super().__init__()
        self.features = nn.Sequential(
            nn.Conv2d(1, 24, kernel_size=5, padding=2),  # conv1: 1x28x28 -> 24x28x28
            nn.ReLU(inplace=True),  # relu1: 24x28x28
            LocalResponseNorm(5, alpha=0.0001, beta=0.75, k=2.0, convention='divided_by_n'),  # norm1: 24x28x28
            nn.MaxPool2d(kernel_size=3, stride=2),  # pool1: 24x28x28 -> 24x13x13
            nn.Conv2d(24, 48, kernel_size=3, padding=1),  # conv2: 24x13x13 -> 48x13x13
            nn.ReLU(inplace=True),  # relu2: 48x13x13
            LocalResponseNorm(5, alpha=0.0001, beta=0.75, k=2.0, convention='divided_by_n'),  # norm2: 48x13x13
            nn.MaxPool2d(kernel_size=3, stride=2),  # pool2: 48x13x13 -> 48x6x6
            nn.Conv2d(48, 64, kernel_size=3, padding=1),  # conv3: 48x6x6 -> 64x6x6
            nn.ReLU(inplace=True),  # relu3: 64x6x6
            nn.Conv2d(64, 64, kernel_size=3, padding=1),  # conv4: 64x6x6 -> 64x6x6
            nn.ReLU(inplace=True),  # relu4: 64x6x6
            nn.Conv2d(64, 48, kernel_size=3, padding=1),  # conv5: 64x6x6 -> 48x6x6
            nn.ReLU(inplace=True),  # relu5: 48x6x6
            nn.MaxPool2d(kernel_size=3, stride=2),  # pool3: 48x6x6 -> 48x2x2
        )
        self.classifier = nn.Sequential(
            nn.Linear(192, 256),  # fc1: 192 -> 256
            nn.ReLU(inplace=True),  # relu6: 256
            nn.Dropout(p=0.5),  # drop1: 256
            nn.Linear(256, 256),  # fc2: 256 -> 256
            nn.ReLU(inplace=True),  # relu7: 256
            nn.Dropout(p=0.5),  # drop2: 256
            nn.Linear(256, num_classes),  # fc3: 256 -> 10
        )
        if init_weights:
            self.reset_parameters()

    def reset_parameters(self) -> None:
        # The spec's init: weights ~ N(0, 0.08), biases 0.0.
        for module in self.modules():
            if isinstance(module, (nn.Conv2d, nn.Linear)):
                nn.init.normal_(module.weight, mean=0.0, std=0.08)
                if module.bias is not None:
                    nn.init.constant_(module.bias, 0.0)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.features(x)
        x = torch.flatten(x, 1)
        x = self.classifier(x)
        return x
