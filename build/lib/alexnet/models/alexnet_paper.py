# Generated from spec/alexnet_paper.yaml by `python -m tools.generate`; do not edit.
"""AlexNet (the 2012 paper, two GPU towers).

Input 3x227x227; 60,965,224 parameters; 724,406,816 multiply-accumulates per image.
Shapes in the comments are C x H x W for one image (the batch dimension is left out).
"""

import torch
from torch import nn

from alexnet.layers import LocalResponseNorm

__all__ = ["AlexNetPaper"]

SPEC = 'alexnet_paper'
INPUT_SHAPE = (3, 227, 227)


class AlexNetPaper(nn.Module):
    def __init__(self, num_classes: int = 1000, init_weights: bool = True) -> None:
        super().__init__()
        self.features = nn.Sequential(
            nn.Conv2d(3, 96, kernel_size=11, stride=4),  # conv1: 3x227x227 -> 96x55x55
            nn.ReLU(inplace=True),  # relu1: 96x55x55
            LocalResponseNorm(5, alpha=0.0001, beta=0.75, k=2.0, convention='paper'),  # norm1: 96x55x55
            nn.MaxPool2d(kernel_size=3, stride=2),  # pool1: 96x55x55 -> 96x27x27
            nn.Conv2d(96, 256, kernel_size=5, padding=2, groups=2),  # conv2: 96x27x27 -> 256x27x27
            nn.ReLU(inplace=True),  # relu2: 256x27x27
            LocalResponseNorm(5, alpha=0.0001, beta=0.75, k=2.0, convention='paper'),  # norm2: 256x27x27
            nn.MaxPool2d(kernel_size=3, stride=2),  # pool2: 256x27x27 -> 256x13x13
            nn.Conv2d(256, 384, kernel_size=3, padding=1),  # conv3: 256x13x13 -> 384x13x13
            nn.ReLU(inplace=True),  # relu3: 384x13x13
            nn.Conv2d(384, 384, kernel_size=3, padding=1, groups=2),  # conv4: 384x13x13 -> 384x13x13
            nn.ReLU(inplace=True),  # relu4: 384x13x13
            nn.Conv2d(384, 256, kernel_size=3, padding=1, groups=2),  # conv5: 384x13x13 -> 256x13x13
            nn.ReLU(inplace=True),  # relu5: 256x13x13
            nn.MaxPool2d(kernel_size=3, stride=2),  # pool3: 256x13x13 -> 256x6x6
        )
        self.classifier = nn.Sequential(
            nn.Linear(9216, 4096),  # fc1: 9216 -> 4096
            nn.ReLU(inplace=True),  # relu6: 4096
            nn.Dropout(p=0.5),  # drop1: 4096
            nn.Linear(4096, 4096),  # fc2: 4096 -> 4096
            nn.ReLU(inplace=True),  # relu7: 4096
            nn.Dropout(p=0.5),  # drop2: 4096
            nn.Linear(4096, num_classes),  # fc3: 4096 -> 1000
        )
        if init_weights:
            self.reset_parameters()

    def reset_parameters(self) -> None:
        # The spec's init: weights ~ N(0, 0.01), biases 0.0.
        for module in self.modules():
            if isinstance(module, (nn.Conv2d, nn.Linear)):
                nn.init.normal_(module.weight, mean=0.0, std=0.01)
                if module.bias is not None:
                    nn.init.constant_(module.bias, 0.0)
        nn.init.constant_(self.features[4].bias, 1.0)  # conv2
        nn.init.constant_(self.features[10].bias, 1.0)  # conv4
        nn.init.constant_(self.features[12].bias, 1.0)  # conv5
        nn.init.constant_(self.classifier[0].bias, 1.0)  # fc1
        nn.init.constant_(self.classifier[3].bias, 1.0)  # fc2

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.features(x)
        x = torch.flatten(x, 1)
        x = self.classifier(x)
        return x
